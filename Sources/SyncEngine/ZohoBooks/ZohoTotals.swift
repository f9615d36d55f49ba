import Foundation

/// How an organization rounds tax: per line then summed (`item_level`), or summed per tax and rounded once per
/// document (`entity_level`). Both occur in real organizations (the document field `tax_rounding`).
public enum ZohoTaxRounding: String, Sendable, CaseIterable {
    case itemLevel = "item_level"
    case entityLevel = "entity_level"
}

/// Zoho Books' total computation for an invoice or credit note, as a pure function, so the mapping can predict
/// the total and put the difference to BigCommerce's total in `adjustment` before the create call.
///
/// Rules (rounding is half away from zero, to `precision` places, 2 by default):
/// - per line `item_total = round(rate × quantity − discount_amount)`;
/// - per-line tax at percentage p: exclusive `item_total × p / 100`, inclusive `item_total × p / (100 + p)`;
///   a line without a tax id has no tax;
/// - `.itemLevel`: each line's tax is rounded, then summed; `.entityLevel`: unrounded taxes are summed per tax id,
///   each sum rounded, then summed;
/// - `total = round(Σ item_total + (exclusive ? tax_total : 0) + adjustment)`;
/// - `sub_total = Σ item_total` (exclusive) or `Σ item_total − tax_total` (inclusive).
public struct ZohoTotals: Sendable, Equatable {
    public var subTotal: Decimal
    public var taxTotal: Decimal
    public var total: Decimal
    /// Each line's rounded `item_total`, in line order.
    public var lineTotals: [Decimal]

    public init(subTotal: Decimal, taxTotal: Decimal, total: Decimal, lineTotals: [Decimal] = []) {
        self.subTotal = subTotal; self.taxTotal = taxTotal; self.total = total; self.lineTotals = lineTotals
    }

    /// Computes the totals from each line's `rate`, `quantity`, `discountAmount`, `taxID` and `taxPercentage`.
    public static func compute(lines: [DocumentLine], isInclusiveTax: Bool, adjustment: Decimal,
                               taxRounding: ZohoTaxRounding, precision: Int = 2) -> ZohoTotals {
        var lineTotals: [Decimal] = []
        var itemSum: Decimal = 0
        var taxSum: Decimal = 0
        var perTax: [(id: String, amount: Decimal)] = []
        for line in lines {
            let itemTotal = (line.rate * line.quantity - line.discountAmount).rounded(scale: precision)
            lineTotals.append(itemTotal)
            itemSum += itemTotal
            guard let taxID = line.taxID, line.taxPercentage != 0 else { continue }
            let p = line.taxPercentage
            let tax = isInclusiveTax ? itemTotal * p / (100 + p) : itemTotal * p / 100
            switch taxRounding {
            case .itemLevel:
                taxSum += tax.rounded(scale: precision)
            case .entityLevel:
                if let i = perTax.firstIndex(where: { $0.id == taxID }) { perTax[i].amount += tax } else { perTax.append((taxID, tax)) }
            }
        }
        if taxRounding == .entityLevel {
            taxSum = perTax.reduce(Decimal(0)) { $0 + $1.amount.rounded(scale: precision) }
        }
        let total = (itemSum + (isInclusiveTax ? 0 : taxSum) + adjustment).rounded(scale: precision)
        let subTotal = isInclusiveTax ? itemSum - taxSum : itemSum
        return ZohoTotals(subTotal: subTotal, taxTotal: taxSum, total: total, lineTotals: lineTotals)
    }
}
