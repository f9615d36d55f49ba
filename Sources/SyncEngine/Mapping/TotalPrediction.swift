import Foundation

/// Zoho Books' total for a document, computed locally so the rounding adjustment can go in the create call.
///
/// Rules (Zoho rounds money to 2 places, halves away from zero):
/// - per line `item_total = round2(rate × quantity − discount_amount)`;
/// - per line tax at percentage p: `item_total × p / 100` (tax-exclusive) or `item_total × p / (100 + p)`
///   (tax-inclusive);
/// - `item_level`: each line's tax rounded to cents, then summed; `entity_level`: unrounded taxes summed per
///   rate, each rate's sum rounded to cents;
/// - `total = round2(Σ item_total + (exclusive ? tax_total : 0) + adjustment)`.
///
/// The prediction is never trusted alone: the executor compares it with the `total` Zoho returns.
public struct TotalPrediction: Sendable, Equatable {
    /// The money inputs of one line.
    public struct Line: Sendable, Equatable {
        public var rate: Decimal
        public var quantity: Decimal
        public var discountAmount: Decimal
        /// Percentage; nil or 0 = untaxed.
        public var taxPercentage: Decimal?
        public init(rate: Decimal, quantity: Decimal, discountAmount: Decimal = 0, taxPercentage: Decimal? = nil) {
            self.rate = rate; self.quantity = quantity; self.discountAmount = discountAmount; self.taxPercentage = taxPercentage
        }
    }

    /// Σ item_total (tax included when the document is tax-inclusive).
    public var subTotal: Decimal
    public var taxTotal: Decimal
    /// Tax per percentage (key = `percentage.plainString`), rounded as the rounding mode says.
    public var taxes: [String: Decimal]
    /// Each line's `item_total`, in line order.
    public var itemTotals: [Decimal]
    public var adjustment: Decimal
    public var total: Decimal

    public static func compute(lines: [Line], isInclusiveTax: Bool, adjustment: Decimal = 0,
                               taxRounding: TaxRounding) -> TotalPrediction {
        var itemTotals: [Decimal] = []
        itemTotals.reserveCapacity(lines.count)
        var subTotal: Decimal = 0
        var taxes: [String: Decimal] = [:]
        var taxTotal: Decimal = 0
        for line in lines {
            let itemTotal = (line.rate * line.quantity - line.discountAmount).rounded(scale: 2)
            itemTotals.append(itemTotal)
            subTotal += itemTotal
            guard let p = line.taxPercentage, p != 0 else { continue }
            let tax = isInclusiveTax ? itemTotal * p / (100 + p) : itemTotal * p / 100
            let key = p.plainString
            switch taxRounding {
            case .itemLevel:
                let rounded = tax.rounded(scale: 2)
                taxes[key, default: 0] += rounded
                taxTotal += rounded
            case .entityLevel:
                taxes[key, default: 0] += tax
            }
        }
        if taxRounding == .entityLevel {
            for (key, sum) in taxes {
                let rounded = sum.rounded(scale: 2)
                taxes[key] = rounded
                taxTotal += rounded
            }
        }
        let total = (subTotal + (isInclusiveTax ? 0 : taxTotal) + adjustment).rounded(scale: 2)
        return TotalPrediction(subTotal: subTotal, taxTotal: taxTotal, taxes: taxes, itemTotals: itemTotals,
                               adjustment: adjustment, total: total)
    }

    /// Prediction for spec lines (`taxRate` is the percentage).
    public static func compute(lines: [LineSpec], isInclusiveTax: Bool, adjustment: Decimal = 0,
                               taxRounding: TaxRounding) -> TotalPrediction {
        compute(lines: lines.map { Line(rate: $0.rate, quantity: $0.quantity, discountAmount: $0.discountAmount, taxPercentage: $0.taxRate) },
                isInclusiveTax: isInclusiveTax, adjustment: adjustment, taxRounding: taxRounding)
    }

    /// Prediction for resolved draft lines (`taxPercentage` counts only when the line has a `taxID`).
    public static func compute(lines: [DocumentLine], isInclusiveTax: Bool, adjustment: Decimal = 0,
                               taxRounding: TaxRounding) -> TotalPrediction {
        compute(lines: lines.map {
                    Line(rate: $0.rate, quantity: $0.quantity, discountAmount: $0.discountAmount,
                         taxPercentage: $0.taxID == nil ? nil : $0.taxPercentage)
                },
                isInclusiveTax: isInclusiveTax, adjustment: adjustment, taxRounding: taxRounding)
    }
}

extension InvoiceSpec {
    /// Zoho's predicted total for this spec, adjustment included.
    public func predictedTotals(taxRounding: TaxRounding) -> TotalPrediction {
        TotalPrediction.compute(lines: lines, isInclusiveTax: isInclusiveTax, adjustment: adjustment, taxRounding: taxRounding)
    }
}

extension CreditNoteSpec {
    /// Zoho's predicted total for this spec, adjustment included.
    public func predictedTotals(taxRounding: TaxRounding) -> TotalPrediction {
        TotalPrediction.compute(lines: lines, isInclusiveTax: isInclusiveTax, adjustment: adjustment, taxRounding: taxRounding)
    }
}

/// The adjustment that makes Zoho's total equal `target`, checked against the tolerance.
enum Reconciliation {
    /// Largest adjustment accepted before a record is quarantined: max(1.00, 1 % of the target).
    static func tolerance(for target: Decimal) -> Decimal {
        let onePercent = (abs(target) / 100).rounded(scale: 2)
        return max(1, onePercent)
    }

    /// `target − predicted`, or nil when it is beyond the tolerance.
    static func adjustment(lines: [LineSpec], isInclusiveTax: Bool, target: Decimal, taxRounding: TaxRounding)
        -> (adjustment: Decimal, predicted: TotalPrediction, withinTolerance: Bool)
    {
        let predicted = TotalPrediction.compute(lines: lines, isInclusiveTax: isInclusiveTax, adjustment: 0, taxRounding: taxRounding)
        let adjustment = target - predicted.total
        return (adjustment, predicted, abs(adjustment) <= tolerance(for: target))
    }
}
