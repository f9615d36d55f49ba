import Foundation

/// How Zoho rounds tax on a document (an organization setting, `tax_rounding` on documents).
public enum TaxRounding: String, Sendable, Equatable, CaseIterable {
    /// Each line's tax is rounded to cents, then summed.
    case itemLevel = "item_level"
    /// Tax is summed per tax rate over the document and rounded once per rate.
    case entityLevel = "entity_level"
}

/// Everything the mapping functions read from the configuration, resolved to values.
///
/// Invariant: the mapping is a pure function of (BigCommerce values, these settings); two runs with equal
/// settings map an unchanged order to an equal spec.
public struct MappingSettings: Sendable, Equatable {
    /// `taxes.mode`.
    public enum TaxMode: String, Sendable, Equatable, CaseIterable {
        /// Each line carries a Zoho tax of the same rate; a missing rate is an error.
        case map
        /// As `map`, but a missing rate is created in Zoho.
        case create
        /// Lines are untaxed; the order's tax is one "Sales tax (BigCommerce)" line. Documents are tax-exclusive.
        case singleLine = "single-line"
    }

    /// `items.missing`: what to do with a SKU that has no Zoho item.
    public enum MissingItemPolicy: String, Sendable, Equatable, CaseIterable {
        case create, generic, fail
    }

    /// Order statuses that can never be invoiced, whatever `orders.statuses` says (Incomplete, Pending, Declined).
    public static let neverInvoiced: Set<Int> = [0, 1, 6]
    /// The default `orders.statuses`.
    public static let defaultInvoicedStatuses: Set<Int> = [2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14]
    /// Payment statuses that mean the shopper paid, for orders without transactions.
    public static let paidPaymentStatuses: Set<String> = ["paid", "captured", "partially refunded", "refunded"]

    /// `BC-`: invoice number = prefix + order id.
    public var invoicePrefix: String = "BC-"
    /// `BCR-`: credit-note number = prefix + refund id.
    public var creditNotePrefix: String = "BCR-"
    /// The store's time zone: document dates are the local calendar day of the BigCommerce timestamp.
    public var storeTimeZone: TimeZone = TimeZone(identifier: "UTC")!
    /// `orders.statuses`. 0, 1 and 6 are ignored even when listed.
    public var invoicedStatuses: Set<Int> = MappingSettings.defaultInvoicedStatuses
    /// The Zoho organization's base currency (ISO code).
    public var baseCurrency: String = "USD"
    public var taxMode: TaxMode = .map
    /// How the organization rounds tax; used to predict Zoho's total.
    public var taxRounding: TaxRounding = .itemLevel
    public var itemsMissing: MissingItemPolicy = .create
    /// Name of the generic item used for lines without a usable SKU (`items.missing = generic`, or no SKU).
    public var genericItemName: String = "BigCommerce item"
    /// Zoho `payment_mode` when the gateway has no entry in ``gatewayModes``.
    public var paymentMode: String = "creditcard"
    /// BigCommerce gateway (`stripe`, `storecredit`, `giftcertificate`, …) or payment method → Zoho payment mode.
    public var gatewayModes: [String: String] = [:]
    /// Deposit account (name or id) for customer payments; nil = Zoho's default.
    public var paymentAccount: String? = nil
    /// Zoho `refund_mode` for credit-note refunds.
    public var refundMode: String = "cash"
    /// Account (name or id) refunds are paid from; nil = Zoho's default.
    public var refundAccount: String? = nil
    /// Record one payment of the order total for a paid order that has no captured transactions.
    public var paidWithoutTransactions: Bool = true

    public init() {}

    /// The statuses actually invoiced: the configured set without 0, 1, 5 and 6.
    public var effectiveInvoicedStatuses: Set<Int> {
        invoicedStatuses.subtracting(MappingSettings.neverInvoiced).subtracting([5])
    }

    /// `effectiveInvoicedStatuses.contains(statusID)`, without building the set.
    func invoices(statusID: Int) -> Bool {
        statusID != 5 && !MappingSettings.neverInvoiced.contains(statusID) && invoicedStatuses.contains(statusID)
    }

    /// Zoho payment mode for a BigCommerce gateway or payment method name.
    public func paymentMode(forGateway gateway: String) -> String {
        if gatewayModes.isEmpty { return paymentMode }
        if let mode = gatewayModes[gateway] { return mode }
        if let mode = gatewayModes[gateway.lowercased()] { return mode }
        return paymentMode
    }
}
