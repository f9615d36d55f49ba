import Foundation

// What the planner journals: Zoho documents described with *symbolic* references (contact key, SKU, tax
// rate) that the executor resolves to Zoho ids at push time, because the contact, item or tax may be
// created by an earlier operation of the same run. Specs are pure values, serialized into the journal as
// JSON (`Specs+JSON.swift`), and turned into drafts by `resolve`.

/// What a document line stands for.
public enum LineKind: String, Sendable, Codable, CaseIterable {
    case product, shipping, handling, giftWrapping = "gift_wrapping", fee, orderAmount = "order_amount"
}

/// One line of an invoice or credit note, before Zoho ids are known.
public struct LineSpec: Sendable, Equatable, Hashable {
    public var kind: LineKind
    /// SKU of the Zoho item to use; nil = the generic item or an item-less line (per `items.missing`).
    public var sku: String?
    /// ≤ 100 characters.
    public var name: String
    public var description: String = ""
    /// Unit rate in the document currency (tax included when the document is tax-inclusive).
    public var rate: Decimal
    public var quantity: Decimal
    /// Fixed discount for the whole line.
    public var discountAmount: Decimal = 0
    /// Tax percentage (e.g. 8.875); nil = untaxed line.
    public var taxRate: Decimal?
    /// Name to give a Zoho tax created for this rate (`taxes.mode = create`).
    public var taxName: String = ""
    /// `goods` or `services`.
    public var productType: String = "goods"
    /// BigCommerce order-product id for product lines (credit notes point back to the invoice line).
    public var bcLineID: Int64? = nil
    public init(kind: LineKind, sku: String?, name: String, rate: Decimal, quantity: Decimal, taxRate: Decimal?) {
        self.kind = kind; self.sku = sku; self.name = name; self.rate = rate; self.quantity = quantity; self.taxRate = taxRate
    }
}

/// A Zoho contact to ensure for a BigCommerce customer or guest.
public struct ContactSpec: Sendable, Equatable, Hashable {
    /// Mapping key: `customer:<id>` or `guest:<lower-cased email>`, plus `|<CUR>` for a second currency.
    public var key: String
    public var draft: ContactDraft
    public init(key: String, draft: ContactDraft) { self.key = key; self.draft = draft }
}

/// An item to create when its SKU is not in Zoho yet.
public struct ItemSpec: Sendable, Equatable, Hashable {
    public var sku: String
    public var draft: ItemDraft
    public init(sku: String, draft: ItemDraft) { self.sku = sku; self.draft = draft }
}

/// An invoice for one order.
public struct InvoiceSpec: Sendable, Equatable, Hashable {
    public var orderID: Int64
    /// `BC-<order id>`.
    public var invoiceNumber: String
    public var referenceNumber: String
    /// Mapping key of the contact (see ``ContactSpec/key``).
    public var contactKey: String
    /// `yyyy-MM-dd` in the store's time zone.
    public var date: String
    public var currencyCode: String
    public var exchangeRate: Decimal?
    public var isInclusiveTax: Bool
    public var lines: [LineSpec]
    /// BigCommerce `total_inc_tax`: what the Zoho total must equal.
    public var targetTotal: Decimal
    /// Predicted difference between Zoho's computed total and `targetTotal`, sent as `adjustment`.
    public var adjustment: Decimal
    public var notes: String = ""
    public init(orderID: Int64, invoiceNumber: String, referenceNumber: String, contactKey: String, date: String,
                currencyCode: String, exchangeRate: Decimal?, isInclusiveTax: Bool, lines: [LineSpec], targetTotal: Decimal, adjustment: Decimal) {
        self.orderID = orderID; self.invoiceNumber = invoiceNumber; self.referenceNumber = referenceNumber
        self.contactKey = contactKey; self.date = date; self.currencyCode = currencyCode; self.exchangeRate = exchangeRate
        self.isInclusiveTax = isInclusiveTax; self.lines = lines; self.targetTotal = targetTotal; self.adjustment = adjustment
    }
}

/// A customer payment applied to an order's invoice.
public struct PaymentSpec: Sendable, Equatable, Hashable {
    public var orderID: Int64
    /// Mapping key `txn:<transaction id>`, or `paid:<order id>` for a paid order without transactions,
    /// or `credit:<order id>` / `giftcert:<order id>` for store credit and gift certificates.
    public var key: String
    /// Zoho `reference_number`: the deterministic lookup key.
    public var referenceNumber: String
    public var contactKey: String
    public var date: String
    public var amount: Decimal
    public var paymentMode: String
    /// Deposit account name or id from config; nil = Zoho's default.
    public var account: String?
    public var exchangeRate: Decimal?
    public var description: String = ""
    public init(orderID: Int64, key: String, referenceNumber: String, contactKey: String, date: String, amount: Decimal,
                paymentMode: String, account: String?, exchangeRate: Decimal?) {
        self.orderID = orderID; self.key = key; self.referenceNumber = referenceNumber; self.contactKey = contactKey
        self.date = date; self.amount = amount; self.paymentMode = paymentMode; self.account = account; self.exchangeRate = exchangeRate
    }
}

/// A credit note for one refund.
public struct CreditNoteSpec: Sendable, Equatable, Hashable {
    public var refundID: Int64
    public var orderID: Int64
    /// `BCR-<refund id>`.
    public var creditNoteNumber: String
    public var referenceNumber: String
    public var contactKey: String
    public var date: String
    public var currencyCode: String
    public var exchangeRate: Decimal?
    public var isInclusiveTax: Bool
    public var lines: [LineSpec]
    /// Refund `total_amount`: what the credit-note total must equal.
    public var targetTotal: Decimal
    public var adjustment: Decimal
    /// Money actually returned (payments not declined): recorded as a credit-note refund when the invoice is paid.
    public var refundedAmount: Decimal
    public var refundMode: String
    public var refundAccount: String?
    public init(refundID: Int64, orderID: Int64, creditNoteNumber: String, referenceNumber: String, contactKey: String, date: String,
                currencyCode: String, exchangeRate: Decimal?, isInclusiveTax: Bool, lines: [LineSpec], targetTotal: Decimal,
                adjustment: Decimal, refundedAmount: Decimal, refundMode: String, refundAccount: String?) {
        self.refundID = refundID; self.orderID = orderID; self.creditNoteNumber = creditNoteNumber
        self.referenceNumber = referenceNumber; self.contactKey = contactKey; self.date = date; self.currencyCode = currencyCode
        self.exchangeRate = exchangeRate; self.isInclusiveTax = isInclusiveTax; self.lines = lines; self.targetTotal = targetTotal
        self.adjustment = adjustment; self.refundedAmount = refundedAmount; self.refundMode = refundMode; self.refundAccount = refundAccount
    }
}
