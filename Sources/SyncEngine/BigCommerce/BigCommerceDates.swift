import Foundation

/// Reads and writes the two date formats BigCommerce uses.
///
/// - v2 (orders) sends RFC 2822: `Tue, 05 Mar 2019 21:40:11 +0000`. The weekday is optional, seconds are
///   optional, and any numeric offset (or `GMT`/`UT`/`UTC`/`Z`) is accepted.
/// - v3 (refunds, transactions, customers) sends ISO 8601 / RFC 3339: `2022-06-16T16:44:15+00:00`,
///   `2018-11-13T21:42:06Z`, with optional fractional seconds. A timestamp without an offset is read as UTC.
///
/// Parsing is hand-written (no `DateFormatter`): it is locale-independent (`en_US_POSIX` month and day names),
/// thread-safe, and strict about ranges, so `"31 Feb"` or `"not a date"` return nil instead of a shifted date.
/// Formatting always writes UTC and truncates to whole seconds, the resolution BigCommerce stores.
public enum BigCommerceDates {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// Either format, whichever the text is in. Nil for anything else, including `""`.
    public static func parse(_ text: String) -> Date? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard let first = t.first else { return nil }
        return first.isASCII && first.isNumber && t.count >= 10 && t.dropFirst(4).first == "-"
            ? parseISO8601(t) : parseRFC2822(t)
    }

    // MARK: RFC 2822

    /// `[Www, ]DD Mon YYYY HH:MM[:SS] (±HHMM | GMT | UT | UTC | Z)`. Nil when malformed or out of range.
    public static func parseRFC2822(_ text: String) -> Date? {
        var tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard !tokens.isEmpty else { return nil }
        // Optional weekday: "Tue," (or "Tue" followed by a separate comma token).
        let head = tokens[0].lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ","))
        if weekdays.contains(head) {
            tokens.removeFirst()
            if tokens.first == "," { tokens.removeFirst() }
        }
        guard tokens.count == 5 || tokens.count == 4 else { return nil }
        guard let day = Int(tokens[0]), tokens[0].count <= 2,
              let monthIndex = months.firstIndex(of: tokens[1].lowercased()),
              let year = Int(tokens[2]), tokens[2].count == 4 else { return nil }
        let timeParts = tokens[3].split(separator: ":", omittingEmptySubsequences: false)
        guard timeParts.count == 2 || timeParts.count == 3,
              timeParts.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let hour = Int(timeParts[0]), let minute = Int(timeParts[1]) else { return nil }
        let second = timeParts.count == 3 ? Int(timeParts[2]) ?? -1 : 0
        let offset: Int
        if tokens.count == 5 {
            guard let o = zoneOffsetSeconds(tokens[4]) else { return nil }
            offset = o
        } else {
            offset = 0
        }
        return makeDate(year: year, month: monthIndex + 1, day: day, hour: hour, minute: minute,
                        second: second, fraction: 0, offsetSeconds: offset)
    }

    private static func zoneOffsetSeconds(_ token: String) -> Int? {
        switch token.uppercased() {
        case "GMT", "UT", "UTC", "Z": return 0
        default: break
        }
        let chars = Array(token)
        guard chars.count == 5, chars[0] == "+" || chars[0] == "-",
              chars[1...].allSatisfy({ $0.isASCII && $0.isNumber }),
              let hh = Int(String(chars[1...2])), let mm = Int(String(chars[3...4])), hh <= 23, mm <= 59 else { return nil }
        let magnitude = hh * 3600 + mm * 60
        return chars[0] == "-" ? -magnitude : magnitude
    }

    // MARK: ISO 8601

    /// `YYYY-MM-DD[(T| )HH:MM[:SS[.fff…]]][Z | ±HH:MM | ±HHMM | ±HH]`. No offset means UTC.
    public static func parseISO8601(_ text: String) -> Date? {
        let c = Array(text.trimmingCharacters(in: .whitespaces).utf8)
        var i = 0
        func number(_ width: Int) -> Int? {
            guard i + width <= c.count else { return nil }
            var v = 0
            for k in i..<(i + width) {
                guard c[k] >= 48, c[k] <= 57 else { return nil }
                v = v * 10 + Int(c[k] - 48)
            }
            i += width
            return v
        }
        func expect(_ ch: Character) -> Bool {
            guard i < c.count, c[i] == ch.asciiValue! else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2) else { return nil }
        var hour = 0, minute = 0, second = 0
        var fraction = 0.0
        var offset = 0
        if i < c.count {
            guard c[i] == UInt8(ascii: "T") || c[i] == UInt8(ascii: "t") || c[i] == UInt8(ascii: " ") else { return nil }
            i += 1
            guard let h = number(2), expect(":"), let m = number(2) else { return nil }
            hour = h; minute = m
            if i < c.count, c[i] == UInt8(ascii: ":") {
                i += 1
                guard let s = number(2) else { return nil }
                second = s
                if i < c.count, c[i] == UInt8(ascii: ".") || c[i] == UInt8(ascii: ",") {
                    i += 1
                    let start = i
                    while i < c.count, c[i] >= 48, c[i] <= 57 { i += 1 }
                    guard i > start else { return nil }
                    fraction = Double("0." + String(decoding: c[start..<i], as: UTF8.self)) ?? 0
                }
            }
            if i < c.count {
                if c[i] == UInt8(ascii: "Z") || c[i] == UInt8(ascii: "z") {
                    i += 1
                } else if c[i] == UInt8(ascii: "+") || c[i] == UInt8(ascii: "-") {
                    let negative = c[i] == UInt8(ascii: "-")
                    i += 1
                    guard let oh = number(2), oh <= 23 else { return nil }
                    var om = 0
                    if i < c.count {
                        _ = expect(":")
                        guard let m = number(2), m <= 59 else { return nil }
                        om = m
                    }
                    offset = (oh * 3600 + om * 60) * (negative ? -1 : 1)
                } else {
                    return nil
                }
            }
        }
        guard i == c.count else { return nil }
        return makeDate(year: year, month: month, day: day, hour: hour, minute: minute, second: second,
                        fraction: fraction, offsetSeconds: offset)
    }

    // MARK: Formatting

    /// `2026-04-01T00:00:00+00:00`: UTC, whole seconds, explicit offset (what the v2 orders filters and the
    /// v3 refunds `created:min/max` filters are sent as, percent-encoded).
    public static func iso8601WithOffset(_ date: Date) -> String { isoBody(date) + "+00:00" }

    /// `2026-04-01T00:00:00Z`: UTC, whole seconds (how v3 customers report dates).
    public static func iso8601Zulu(_ date: Date) -> String { isoBody(date) + "Z" }

    /// `2026-04-01T00:00:00`: UTC, whole seconds, no offset (the customers v3 date filters' documented shape).
    public static func iso8601UTCWithoutOffset(_ date: Date) -> String { isoBody(date) }

    /// `Tue, 05 Mar 2019 21:40:11 +0000`: UTC, whole seconds (how v2 reports dates).
    public static func rfc2822(_ date: Date) -> String {
        let f = fields(date)
        let weekday = weekdays[f.weekday].capitalized
        let month = months[f.month - 1].capitalized
        return "\(weekday), \(pad(f.day, 2)) \(month) \(pad(f.year, 4)) \(pad(f.hour, 2)):\(pad(f.minute, 2)):\(pad(f.second, 2)) +0000"
    }

    /// The date truncated to the whole second (BigCommerce's resolution).
    public static func wholeSeconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970).rounded(.down))
    }

    private static func isoBody(_ date: Date) -> String {
        let f = fields(date)
        return "\(pad(f.year, 4))-\(pad(f.month, 2))-\(pad(f.day, 2))T\(pad(f.hour, 2)):\(pad(f.minute, 2)):\(pad(f.second, 2))"
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    // MARK: Calendar arithmetic (proleptic Gregorian, UTC)

    private static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    private static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return isLeap(y) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    private static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func makeDate(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int,
                                 fraction: Double, offsetSeconds: Int) -> Date? {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1, day <= daysInMonth(year, month),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second) else { return nil }
        let days = daysFromCivil(year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    private static func fields(_ date: Date) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int) {
        let total = Int((date.timeIntervalSince1970).rounded(.down))
        var days = total / 86_400
        var rem = total % 86_400
        if rem < 0 { rem += 86_400; days -= 1 }
        // civil_from_days
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        // 1970-01-01 was a Thursday (index 4).
        let weekday = ((days % 7) + 7 + 4) % 7
        return (y, m, d, rem / 3600, (rem % 3600) / 60, rem % 60, weekday)
    }
}
