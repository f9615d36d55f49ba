import Foundation

// Exact integer arithmetic for the hot paths of the mapping. Foundation's `Decimal` is exact but slow on
// Linux (a multiplication costs microseconds, a division tens of them), and planning must handle 100,000
// orders in seconds. Money here has few decimals, so values are carried as `Int64` counts of 10⁻⁴ (or 10⁻²)
// and every operation checks for overflow; when a value does not fit, callers fall back to `Decimal`.

enum FixedPoint {
    private static let powersOfTen: [Int64] = (0...18).map { n in (0..<n).reduce(Int64(1)) { p, _ in p * 10 } }
    private static let maxSignificand = Decimal(999_999_999_999_999_999 as Int64)

    static func pow10(_ n: Int) -> Int64? { n >= 0 && n < powersOfTen.count ? powersOfTen[n] : nil }

    /// `value × 10^scale` when it is an integer that fits in `Int64`, else nil.
    static func scaled(_ value: Decimal, scale: Int) -> Int64? {
        guard let (mantissa, exponent) = integerParts(value) else { return nil }
        var m = mantissa
        var shift = exponent + scale
        while shift < 0 {
            guard m % 10 == 0 else { return nil }
            m /= 10
            shift += 1
        }
        guard let p = pow10(shift) else { return m == 0 ? 0 : nil }
        let (r, overflow) = m.multipliedReportingOverflow(by: p)
        return overflow ? nil : r
    }

    /// `value = mantissa × 10^exponent` with an `Int64` mantissa (sign included), or nil when the significand
    /// has more than 18 digits.
    static func integerParts(_ value: Decimal) -> (mantissa: Int64, exponent: Int)? {
        if value.isZero { return (0, 0) }
        guard value.isFinite else { return nil }
        let significand = value.significand
        guard significand <= maxSignificand else { return nil }
        let m = NSDecimalNumber(decimal: significand).int64Value
        return (value.isSignMinus ? -m : m, value.exponent)
    }

    /// `units × 10^-scale` as a `Decimal`.
    static func decimal(_ units: Int64, scale: Int) -> Decimal {
        if units == 0 { return 0 }
        let magnitude = Decimal(units.magnitude)
        return Decimal(sign: units < 0 ? .minus : .plus, exponent: -scale, significand: magnitude)
    }

    /// `n / d` rounded half away from zero; `d > 0`.
    static func roundedDivision(_ n: Int64, _ d: Int64) -> Int64 {
        let q = n / d, r = n % d
        if r.magnitude >= (d.magnitude - r.magnitude) { return n < 0 ? q - 1 : q + 1 }
        return q
    }

    static func multiply(_ a: Int64, _ b: Int64) -> Int64? {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? nil : r
    }

    static func add(_ a: Int64, _ b: Int64) -> Int64? {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? nil : r
    }

    /// The same text as `Decimal.plainString` (plain notation, no trailing zeros, `0` for zero), computed
    /// without Foundation's slow formatting when the significand fits in 18 digits.
    static func plainString(_ value: Decimal) -> String {
        guard var (m, e) = integerParts(value) else { return value.plainString }
        if m == 0 { return "0" }
        while m % 10 == 0 { m /= 10; e += 1 }
        let negative = m < 0
        var digits = String(m.magnitude)
        if e >= 0 {
            digits += String(repeating: "0", count: e)
        } else {
            let decimals = -e
            if digits.count <= decimals {
                digits = "0." + String(repeating: "0", count: decimals - digits.count) + digits
            } else {
                digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
            }
        }
        return negative ? "-" + digits : digits
    }
}

extension Decimal {
    /// Rounded to `scale` places (half away from zero), skipping the work when there is nothing to round.
    func roundedIfNeeded(scale: Int) -> Decimal {
        exponent >= -scale ? self : rounded(scale: scale)
    }

    /// Money with at most 4 decimals as BigCommerce stores it; values sent as rates keep this precision.
    var bcMoney: Decimal { roundedIfNeeded(scale: 4) }

    /// Rounded to cents (see ``roundedIfNeeded(scale:)``).
    var cents: Decimal { roundedIfNeeded(scale: 2) }
}

extension JSON {
    /// `JSON.decimal(value)`, formatted without Foundation's slow path; the text is identical.
    static func money(_ value: Decimal) -> JSON { .number(FixedPoint.plainString(value)) }
}
