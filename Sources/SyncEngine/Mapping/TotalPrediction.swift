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
        exact(lines: lines, isInclusiveTax: isInclusiveTax, adjustment: adjustment, taxRounding: taxRounding)
            ?? decimal(lines: lines, isInclusiveTax: isInclusiveTax, adjustment: adjustment, taxRounding: taxRounding)
    }

    /// The rules in `Int64` (amounts in 10⁻⁴, totals in cents), exact, including the inclusive-tax divisions.
    /// Nil when a value has more than 4 decimals or a product would overflow.
    static func exact(lines: [Line], isInclusiveTax: Bool, adjustment: Decimal, taxRounding: TaxRounding) -> TotalPrediction? {
        typealias F = FixedPoint
        var itemCents: [Int64] = []
        itemCents.reserveCapacity(lines.count)
        guard let sums = exactSums(lines, isInclusiveTax: isInclusiveTax, adjustment: adjustment, taxRounding: taxRounding,
                                   itemCents: &itemCents, collectItems: true, parts: { $0 }) else { return nil }
        var taxes: [String: Decimal] = [:]
        for (ps, tax) in sums.taxPerRate { taxes[F.plainString(F.decimal(ps, scale: 4))] = F.decimal(tax, scale: 2) }
        return TotalPrediction(subTotal: F.decimal(sums.subCents, scale: 2), taxTotal: F.decimal(sums.taxCents, scale: 2), taxes: taxes,
                               itemTotals: itemCents.map { F.decimal($0, scale: 2) }, adjustment: adjustment,
                               total: F.decimal(sums.totalCents, scale: 2))
    }

    /// The integer sums of ``exact(lines:isInclusiveTax:adjustment:taxRounding:)``.
    struct ExactSums {
        var subCents: Int64
        var taxCents: Int64
        /// Per rate (in 10⁻⁴ percent), in the order the rates first appear: the rate's tax in cents.
        var taxPerRate: [(Int64, Int64)]
        var totalCents: Int64
    }

    /// The core of the exact path over any lines (`parts` gives a line's money inputs); with `collectItems`, item
    /// totals are appended to `itemCents`. Nil exactly when ``exact(lines:isInclusiveTax:adjustment:taxRounding:)``
    /// is nil.
    static func exactSums<S: Sequence>(_ lines: S, isInclusiveTax: Bool, adjustment: Decimal, taxRounding: TaxRounding,
                                       itemCents: inout [Int64], collectItems: Bool, parts: (S.Element) -> Line) -> ExactSums? {
        typealias F = FixedPoint
        let percentBase: Int64 = 100 * 10_000
        var sub: Int64 = 0
        // Per rate (in 10⁻⁴ percent), in first-seen order: rounded tax in cents (item level) or Σ item totals in
        // cents (entity level). Documents have one or two rates, so a list beats a dictionary.
        var perRate: [(Int64, Int64)] = []
        for element in lines {
            let line = parts(element)
            guard let r = F.scaled(line.rate, scale: 4), let q = F.scaled(line.quantity, scale: 4),
                  let d = F.scaled(line.discountAmount, scale: 4),
                  let gross = F.multiply(r, q), let disc = F.multiply(d, 10_000) else { return nil }
            let (net, o) = gross.subtractingReportingOverflow(disc)
            guard !o else { return nil }
            let cents = F.roundedDivision(net, 1_000_000)
            if collectItems { itemCents.append(cents) }
            guard let s = F.add(sub, cents) else { return nil }
            sub = s
            guard let p = line.taxPercentage else { continue }
            guard let ps = F.scaled(p, scale: 4) else {
                // Not representable: as before, a zero rate is untaxed, any other fails the exact path.
                if p != 0 { return nil }
                continue
            }
            if ps == 0 { continue }
            let amount: Int64
            switch taxRounding {
            case .itemLevel:
                guard let n = F.multiply(cents, ps) else { return nil }
                amount = F.roundedDivision(n, isInclusiveTax ? percentBase + ps : percentBase)
            case .entityLevel:
                amount = cents
            }
            if let i = perRate.firstIndex(where: { $0.0 == ps }) {
                perRate[i].1 += amount
            } else {
                perRate.append((ps, amount))
            }
        }
        var taxTotal: Int64 = 0
        for i in perRate.indices {
            if taxRounding == .entityLevel {
                guard let n = F.multiply(perRate[i].1, perRate[i].0) else { return nil }
                perRate[i].1 = F.roundedDivision(n, isInclusiveTax ? percentBase + perRate[i].0 : percentBase)
            }
            taxTotal += perRate[i].1
        }
        guard let adj = F.scaled(adjustment, scale: 4), let sub4 = F.multiply(sub, 100), let tax4 = F.multiply(taxTotal, 100),
              let partial = F.add(sub4, isInclusiveTax ? 0 : tax4), let total4 = F.add(partial, adj) else { return nil }
        return ExactSums(subCents: sub, taxCents: taxTotal, taxPerRate: perRate, totalCents: F.roundedDivision(total4, 100))
    }

    /// The rules in `Decimal`: the general path, for values the exact path cannot hold.
    static func decimal(lines: [Line], isInclusiveTax: Bool, adjustment: Decimal, taxRounding: TaxRounding) -> TotalPrediction {
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
public enum Reconciliation {
    /// Largest adjustment that counts as rounding: max(1.00, 1 % of the target). A larger one is still sent (the
    /// document equals BigCommerce's total) but described as a difference and flagged for a person.
    /// True when `adjustment` is within ``tolerance(for:)`` of `target`.
    public static func isRounding(_ adjustment: Decimal, target: Decimal) -> Bool { abs(adjustment) <= tolerance(for: target) }

    static func tolerance(for target: Decimal) -> Decimal {
        let onePercent = FixedPoint.scaled(target, scale: 2).map { FixedPoint.decimal(FixedPoint.roundedDivision(abs($0), 100), scale: 2) }
            ?? (abs(target) / 100).rounded(scale: 2)
        return max(1, onePercent)
    }

    struct Result {
        /// `target − predictedTotal`.
        var adjustment: Decimal
        /// Zoho's predicted total without an adjustment.
        var predictedTotal: Decimal
        /// `|adjustment| ≤ tolerance(for: target)`.
        var withinTolerance: Bool
    }

    /// `target − predicted` and whether it is within the tolerance.
    ///
    /// When the lines take the exact path and `target` is whole cents, everything is done in integer cents: the
    /// same values as the `Decimal` arithmetic below (the prediction's total is then whole cents too).
    static func adjustment(lines: [LineSpec], isInclusiveTax: Bool, target: Decimal, taxRounding: TaxRounding) -> Result {
        typealias F = FixedPoint
        var itemCents: [Int64] = []
        let exact = lines.withUnsafeBufferPointer { lines in
            TotalPrediction.exactSums(lines.indices, isInclusiveTax: isInclusiveTax, adjustment: 0, taxRounding: taxRounding,
                                      itemCents: &itemCents, collectItems: false) { i in
                TotalPrediction.Line(rate: lines[i].rate, quantity: lines[i].quantity, discountAmount: lines[i].discountAmount,
                                     taxPercentage: lines[i].taxRate)
            }
        }
        if let targetCents = F.scaled(target, scale: 2), let sums = exact {
            let (adjustment, overflow) = targetCents.subtractingReportingOverflow(sums.totalCents)
            if !overflow {
                let toleranceCents = max(100, F.roundedDivision(abs(targetCents), 100))
                return Result(adjustment: F.decimal(adjustment, scale: 2), predictedTotal: F.decimal(sums.totalCents, scale: 2),
                              withinTolerance: adjustment.magnitude <= UInt64(toleranceCents))
            }
        }
        let predicted = TotalPrediction.compute(lines: lines, isInclusiveTax: isInclusiveTax, adjustment: 0, taxRounding: taxRounding)
        let adjustment = target - predicted.total
        return Result(adjustment: adjustment, predictedTotal: predicted.total, withinTolerance: abs(adjustment) <= tolerance(for: target))
    }
}
