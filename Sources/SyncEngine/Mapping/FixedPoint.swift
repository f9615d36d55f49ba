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
        if storageLayoutVerified { return storageParts(value) }
        return foundationParts(value)
    }

    /// ``integerParts(_:)`` through Foundation's public API (the reference; used when the storage layout is not
    /// the one ``storageParts(_:)`` reads).
    static func foundationParts(_ value: Decimal) -> (mantissa: Int64, exponent: Int)? {
        if value.isZero { return (0, 0) }
        guard value.isFinite else { return nil }
        let significand = value.significand
        guard significand <= maxSignificand else { return nil }
        let m = NSDecimalNumber(decimal: significand).int64Value
        return (value.isSignMinus ? -m : m, value.exponent)
    }

    /// ``integerParts(_:)`` read straight from the value's storage, which is `NSDecimal`'s: byte 0 the exponent,
    /// byte 1 the length in 16-bit words (high nibble) with the negative (0x08) and compact (0x04) flags, then
    /// eight little-endian 16-bit words of mantissa. Only used once ``storageLayoutVerified`` confirmed that
    /// layout against ``foundationParts(_:)``; anything but a plain finite value is left to Foundation.
    @inline(__always)
    static func storageParts(_ value: Decimal) -> (mantissa: Int64, exponent: Int)? {
        // The 20 bytes as three little-endian words: header and mantissa words 0-1, words 2-5, words 6-7.
        let (w0, w1, _) = unsafeBitCast(value, to: (UInt64, UInt64, UInt32).self)
        let flags = UInt8(truncatingIfNeeded: w0 >> 8)
        let length = Int(flags >> 4)
        let negative = flags & 0x08 != 0
        if length == 0, !negative { return (0, 0) }
        guard length > 0, length <= 4 else { return foundationParts(value) }
        // Mantissa words 0-3: the low 64 bits.
        var m = w0 >> 32 | (w1 & 0xFFFF_FFFF) << 32
        if length < 4 { m &= (1 << (16 * UInt64(length))) &- 1 }
        guard m <= 999_999_999_999_999_999 else { return foundationParts(value) }
        return (negative ? -Int64(m) : Int64(m), Int(Int8(truncatingIfNeeded: w0)))
    }

    /// True when ``storageParts(_:)`` agrees with ``foundationParts(_:)`` on values covering every storage
    /// length, both signs, NaN and the 18-digit limit.
    static let storageLayoutVerified: Bool = {
        guard MemoryLayout<Decimal>.size == 20, MemoryLayout<(UInt64, UInt64, UInt32)>.size == 20, UInt16(1).littleEndian == 1 else {
            return false
        }
        let samples = ["0", "1", "-1", "-123.4500", "65536", "4294967295", "4294967296", "281474976710656", "1e3", "-0.0001",
                       "999999999999999999", "-999999999999999999", "1000000000000000000", "12345678901234567890.123", "1.086957",
                       "0.000001", "-98765.4321", "1e-100", "7e100"]
        var values = samples.compactMap { Decimal(string: $0, locale: Locale(identifier: "en_US_POSIX")) }
        guard values.count == samples.count else { return false }
        values += [Decimal.nan, Decimal(sign: .minus, exponent: -2, significand: 1234), Decimal(99) / 100, Decimal(1) / 3,
                   Decimal(sign: .plus, exponent: 5, significand: 0)]
        for v in values {
            let a = storageParts(v), b = foundationParts(v)
            guard a?.mantissa == b?.mantissa, a?.exponent == b?.exponent else { return false }
        }
        return true
    }()

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
        guard let (m, e) = normalizedParts(value) else { return value.plainString }
        let count = plainLength(m, e)
        return String(unsafeUninitializedCapacity: count) { writePlain(m, e, into: $0) }
    }

    /// The parts ``plainText(_:_:into:)`` writes: `value = m × 10^e` without trailing zeros in `m`, and the
    /// text's UTF-8 length; nil when the value takes Foundation's path.
    static func plainParts(_ value: Decimal) -> (m: Int64, e: Int, length: Int)? {
        guard let (m, e) = normalizedParts(value) else { return nil }
        return (m, e, plainLength(m, e))
    }

    /// Writes the UTF-8 of ``plainString(_:)`` for parts from ``plainParts(_:)`` into `out` (exactly `length` bytes).
    static func plainText(_ m: Int64, _ e: Int, into out: UnsafeMutableBufferPointer<UInt8>) {
        _ = writePlain(m, e, into: out)
    }

    /// `value = m × 10^e` without trailing zeros in `m` (`(0, 0)` for zero), or nil when `integerParts` is nil.
    private static func normalizedParts(_ value: Decimal) -> (Int64, Int)? {
        guard var (m, e) = integerParts(value) else { return nil }
        if m == 0 { return (0, 0) }
        while m % 10 == 0 { m /= 10; e += 1 }
        return (m, e)
    }

    private static func digitCount(_ v: UInt64) -> Int {
        var n = 1, v = v
        while v >= 10 { v /= 10; n += 1 }
        return n
    }

    /// Length of the plain text of `m × 10^e` (`m` without trailing zeros).
    private static func plainLength(_ m: Int64, _ e: Int) -> Int {
        let digits = digitCount(m.magnitude)
        let sign = m < 0 ? 1 : 0
        if e >= 0 { return sign + digits + e }
        let decimals = -e
        return sign + (digits <= decimals ? 2 + decimals : digits + 1)
    }

    /// Writes the plain text of `m × 10^e` (`m` without trailing zeros); `out` has exactly `plainLength` bytes.
    private static func writePlain(_ m: Int64, _ e: Int, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let zero = UInt8(ascii: "0")
        var i = 0
        if m < 0 { out[0] = UInt8(ascii: "-"); i = 1 }
        let magnitude = m.magnitude
        let digits = digitCount(magnitude)
        // Positions of the digits and of the point, left to right.
        if e >= 0 {
            var v = magnitude
            var j = i + digits - 1
            while j >= i { out[j] = zero &+ UInt8(v % 10); v /= 10; j -= 1 }
            i += digits
            for _ in 0..<e { out[i] = zero; i += 1 }
            return i
        }
        let decimals = -e
        if digits <= decimals {
            out[i] = zero; out[i + 1] = UInt8(ascii: ".")
            i += 2
            for _ in 0..<(decimals - digits) { out[i] = zero; i += 1 }
            var v = magnitude
            var j = i + digits - 1
            while j >= i { out[j] = zero &+ UInt8(v % 10); v /= 10; j -= 1 }
            return i + digits
        }
        let end = i + digits + 1
        let point = end - 1 - decimals
        var v = magnitude
        var j = end - 1
        while j >= i {
            if j == point { out[j] = UInt8(ascii: "."); j -= 1; continue }
            out[j] = zero &+ UInt8(v % 10); v /= 10; j -= 1
        }
        return end
    }
}

// MARK: Comparisons

extension FixedPoint {
    /// `a < b`, exact; without Foundation's general comparison when both significands fit in 18 digits and the
    /// values can be brought to a common exponent in `Int64`.
    static func less(_ a: Decimal, _ b: Decimal) -> Bool {
        if let x = integerParts(a), let y = integerParts(b) {
            if x.exponent == y.exponent { return x.mantissa < y.mantissa }
            // Signs decide when they differ (zero counts as its own sign).
            let sx = x.mantissa.signum(), sy = y.mantissa.signum()
            if sx != sy { return sx < sy }
            // Same sign: scale the one with the larger exponent down to the other's exponent.
            if x.exponent > y.exponent {
                if let p = pow10(x.exponent - y.exponent), let m = multiply(x.mantissa, p) { return m < y.mantissa }
            } else {
                if let p = pow10(y.exponent - x.exponent), let m = multiply(y.mantissa, p) { return x.mantissa < m }
            }
        }
        return a < b
    }

    /// `a == b`, exact (as `less`).
    static func equal(_ a: Decimal, _ b: Decimal) -> Bool {
        if let x = integerParts(a), let y = integerParts(b) {
            if x.exponent == y.exponent { return x.mantissa == y.mantissa }
            if x.exponent > y.exponent {
                if let p = pow10(x.exponent - y.exponent), let m = multiply(x.mantissa, p) { return m == y.mantissa }
            } else {
                if let p = pow10(y.exponent - x.exponent), let m = multiply(y.mantissa, p) { return x.mantissa == m }
            }
        }
        return a == b
    }

    /// `value > 0`, exact.
    static func isPositive(_ value: Decimal) -> Bool {
        if let x = integerParts(value) { return x.mantissa > 0 }
        return value > 0
    }

    /// `value != 0`, exact.
    static func isNonZero(_ value: Decimal) -> Bool {
        if let x = integerParts(value) { return x.mantissa != 0 }
        return value != 0
    }

    /// `Swift.min(a, b)`: `b` when `b < a`, else `a`.
    static func min(_ a: Decimal, _ b: Decimal) -> Decimal { less(b, a) ? b : a }
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
