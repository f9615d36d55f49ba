import Foundation

/// BigCommerce orders → Zoho invoice specs (DESIGN §4 "Invoice").
public enum InvoiceMapping {
    public static let salesTaxLineName = "Sales tax (BigCommerce)"
    public static let adjustmentDescription = "Rounding vs BigCommerce"
    /// The adjustment's description when it is larger than rounding explains.
    public static let differenceDescription = "Difference vs BigCommerce total"
    /// Decimals kept in a computed exchange rate.
    public static let exchangeRateScale = 6

    /// The invoice currency: the order's transactional currency (`default_currency_code`), else its display
    /// currency, else the organization's base currency. Upper-cased.
    public static func currency(of order: BCOrder, settings: MappingSettings) -> String {
        currency(defaultCurrencyCode: order.defaultCurrencyCode, currencyCode: order.currencyCode, baseCurrency: settings.baseCurrency)
    }

    /// ``currency(of:settings:)`` from the three codes it reads.
    static func currency(defaultCurrencyCode: String, currencyCode: String, baseCurrency: String) -> String {
        if let t = Self.currencyCode(defaultCurrencyCode) { return t }
        if let t = Self.currencyCode(currencyCode) { return t }
        if let t = Self.currencyCode(baseCurrency) { return t }
        return "USD"
    }

    /// The cleaned, upper-cased code; nil when that is empty. A code that is already clean upper-case text is
    /// returned as it is.
    private static func currencyCode(_ code: String) -> String? {
        if !code.isEmpty, MappingText.isClean(code, without: UInt8(ascii: "a")...UInt8(ascii: "z")) { return code }
        let t = MappingText.clean(code).uppercased()
        return t.isEmpty ? nil : t
    }

    /// Foreign → base rate for a document in `currency`; nil when `currency` is the base currency.
    ///
    /// BigCommerce gives `store_default_to_transactional_exchange_rate` (store default → transactional). When
    /// the store's default currency is the organization's base currency (an empty store default is taken to
    /// be the base), the rate Zoho wants is its inverse, rounded to 6 decimals. When the store's default
    /// currency is not the base currency, or the order has no rate (missing, empty or zero, which the decoder reads
    /// as 0), there is no usable rate: nil, and Zoho applies its own rate for the date (never 1.0 by default).
    public static func exchangeRate(order: BCOrder, currency: String, settings: MappingSettings) -> Decimal? {
        let base = MappingText.uppercased(settings.baseCurrency)
        guard MappingText.uppercased(currency) != base else { return nil }
        let storeDefault = MappingText.uppercased(MappingText.clean(order.storeDefaultCurrencyCode))
        guard storeDefault.isEmpty || storeDefault == base else { return nil }
        let rate = order.storeDefaultToTransactionalExchangeRate
        guard FixedPoint.isPositive(rate) else { return nil }
        return InverseRateCache.shared.inverse(of: rate)
    }

    /// The invoice for an order.
    ///
    /// Throws ``MappingProblem`` (the planner quarantines the order) when lines or taxes were not loaded, a line
    /// has a quantity ≤ 0, there are no product lines, or the predicted Zoho total differs from
    /// `total_inc_tax` by more than max(1.00, 1 %) — a sign the mapping misses part of the order.
    ///
    /// Invariant: `TotalPrediction` over the lines with `adjustment` equals `targetTotal` exactly.
    public static func invoiceSpec(order: BCOrder, contactKey: String, settings: MappingSettings) throws -> InvoiceSpec {
        let ctx = try OrderLines.make(order: order, settings: settings)
        let invoiced = ctx.invoicedProducts
        guard !invoiced.isEmpty else { throw MappingProblem.order(order.id, "has no product lines") }
        var lines: [LineSpec] = []
        lines.reserveCapacity(invoiced.count + 4)
        for i in invoiced.indices { lines.append(try ctx.productLine(invoiced[i])) }
        lines.append(contentsOf: ctx.shippingLines())
        lines.append(contentsOf: ctx.handlingLines())
        if let wrapping = ctx.wrappingLine() { lines.append(wrapping) }
        lines.append(contentsOf: ctx.feeLines())
        if ctx.singleLine, let taxLine = ctx.salesTaxLine(amount: order.totalTax) { lines.append(taxLine) }

        let target = order.totalIncTax.cents
        let reconciled = Reconciliation.adjustment(lines: lines, isInclusiveTax: ctx.documentInclusive, target: target,
                                                   taxRounding: settings.taxRounding)
        // A difference beyond rounding still goes in the adjustment, so the invoice equals BigCommerce's total and
        // the sale is booked; the executor raises an attention entry that names it (see `Reconciliation`).
        let currency = currency(of: order, settings: settings)
        return InvoiceSpec(orderID: order.id, invoiceNumber: invoiceNumber(orderID: order.id, settings: settings),
                           referenceNumber: String(order.id), contactKey: contactKey,
                           date: MappingText.day(order.dateCreated, in: settings.storeTimeZone), currencyCode: currency,
                           exchangeRate: exchangeRate(order: order, currency: currency, settings: settings),
                           isInclusiveTax: ctx.documentInclusive, lines: lines, targetTotal: target,
                           adjustment: reconciled.adjustment)
    }

    /// `<prefix><order id>`.
    public static func invoiceNumber(orderID: Int64, settings: MappingSettings) -> String {
        settings.invoicePrefix + String(orderID)
    }
}

/// `(1 / rate).rounded(scale: 6)` for the last few rates seen: a store has a handful of currencies and Decimal
/// division is slow. A rate is found again only when its storage is the same, bit for bit, so the cached result is
/// the one the division gives.
final class InverseRateCache: @unchecked Sendable {
    static let shared = InverseRateCache()
    private static let capacity = 16

    private let lock = NSLock()
    private var entries: [(rate: Decimal, inverse: Decimal)] = []

    func inverse(of rate: Decimal) -> Decimal {
        lock.lock()
        for entry in entries where Self.sameStorage(entry.rate, rate) {
            lock.unlock()
            return entry.inverse
        }
        lock.unlock()
        let inverse = (1 / rate).rounded(scale: InvoiceMapping.exchangeRateScale)
        lock.lock(); defer { lock.unlock() }
        if entries.count >= Self.capacity { entries.removeFirst() }
        entries.append((rate, inverse))
        return inverse
    }

    private static func sameStorage(_ a: Decimal, _ b: Decimal) -> Bool {
        withUnsafeBytes(of: a) { x in withUnsafeBytes(of: b) { y in x.elementsEqual(y) } }
    }
}
