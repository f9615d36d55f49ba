import Foundation

extension Decimal {
    /// Parses a plain or exponent decimal literal (`"336.3200"`, `"-0.5"`, `"1e3"`) without going through
    /// `Double`. Returns nil for anything else (empty, `"NaN"`, `"12,5"`, trailing garbage).
    public static func parse(_ text: String) -> Decimal? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty else { return nil }
        var sawDigit = false
        var idx = t.startIndex
        if t[idx] == "-" || t[idx] == "+" { idx = t.index(after: idx) }
        var sawDot = false
        var sawExp = false
        while idx < t.endIndex {
            let c = t[idx]
            if c.isASCII, c.isNumber { sawDigit = true }
            else if c == ".", !sawDot, !sawExp { sawDot = true }
            else if (c == "e" || c == "E"), sawDigit, !sawExp {
                sawExp = true
                let next = t.index(after: idx)
                if next < t.endIndex, t[next] == "-" || t[next] == "+" { idx = next }
            } else { return nil }
            idx = t.index(after: idx)
        }
        guard sawDigit else { return nil }
        return Decimal(string: t, locale: Locale(identifier: "en_US_POSIX"))
    }

    /// Rounds to `scale` decimal places, halves away from zero (how invoices are rounded:
    /// 0.125 → 0.13, -0.125 → -0.13). The rounding mode is part of the name on purpose.
    public func rounded(scale: Int) -> Decimal {
        var value = self
        var result = Decimal()
        NSDecimalRound(&result, &value, scale, .plain)
        return result
    }

    /// Rounds to cents, halves away from zero.
    public var roundedToCents: Decimal { rounded(scale: 2) }

    /// Plain notation without exponent and without trailing zeros beyond what is needed
    /// (`12.50` → `"12.5"`, `100` → `"100"`). Locale independent.
    public var plainString: String {
        // Decimal's description is locale-independent and uses plain notation.
        var s = "\(self)"
        if s.contains("."), !s.contains("e") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s == "-0" ? "0" : s
    }

    /// Exactly two decimal places, for display and for amounts sent to Zoho (`12.5` → `"12.50"`).
    public var centsString: String {
        let r = roundedToCents
        let negative = r < 0
        let magnitude = negative ? -r : r
        var s = magnitude.plainString
        if let dot = s.firstIndex(of: ".") {
            let decimals = s.distance(from: s.index(after: dot), to: s.endIndex)
            if decimals == 1 { s += "0" }
        } else {
            s += ".00"
        }
        return negative ? "-" + s : s
    }
}
