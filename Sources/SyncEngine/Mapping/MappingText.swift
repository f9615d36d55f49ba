import Foundation

/// Text and date shaping shared by the mapping functions.
enum MappingText {
    /// Replaces control characters (Unicode `Cc`: tabs, newlines, NUL, DEL…) with spaces, collapses runs of
    /// whitespace and trims. Every other character, emoji and accents included, is kept.
    static func clean(_ text: String) -> String {
        if isClean(text) { return text }
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            let isSpace = scalar.properties.generalCategory == .control || scalar.properties.isWhitespace
            if isSpace {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace { out.append(" "); pendingSpace = false }
            out.append(scalar)
        }
        return String(out)
    }

    /// True for printable ASCII with single inner spaces: the common case, which `clean` leaves as it is.
    static func isClean(_ text: String) -> Bool {
        withBytes(text) { isClean($0) }
    }

    static func isClean(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var previousSpace = true
        for b in bytes {
            if b == 0x20 {
                if previousSpace { return false }
                previousSpace = true
            } else if b > 0x20 && b < 0x7F {
                previousSpace = false
            } else {
                return false
            }
        }
        return !previousSpace || bytes.isEmpty
    }

    /// True when `text` is clean (see ``isClean(_:)``) and has no byte in `excluded`: such a text is its own
    /// `clean`, and (with `a...z` excluded) its own `uppercased()`.
    static func isClean(_ text: String, without excluded: ClosedRange<UInt8>) -> Bool {
        withBytes(text) { bytes in isClean(bytes) && !bytes.contains(where: { excluded.contains($0) }) }
    }

    /// `text.lowercased() == lowercase`, without building the lower-cased text when both are ASCII (whose lower
    /// case is byte by byte).
    static func lowercased(_ text: String, equals lowercase: String) -> Bool {
        let match: Bool? = withBytes(text) { bytes in
            withBytes(lowercase) { target -> Bool? in
                guard !bytes.contains(where: { $0 >= 0x80 }), !target.contains(where: { $0 >= 0x80 }) else { return nil }
                guard bytes.count == target.count else { return false }
                for (b, t) in zip(bytes, target) {
                    let lower = b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b + 32 : b
                    if lower != t { return false }
                }
                return true
            }
        }
        return match ?? (text.lowercased() == lowercase)
    }

    /// `text.uppercased()`; ASCII text without lower-case letters is returned as it is (it is its own upper case).
    static func uppercased(_ text: String) -> String {
        let unchanged = withBytes(text) { bytes in !bytes.contains(where: { $0 >= 0x80 || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) }) }
        return unchanged ? text : text.uppercased()
    }

    /// Runs `body` over the UTF-8 of `text` (in place when the text is stored contiguously).
    @inline(__always) static func withBytes<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
        return Array(text.utf8).withUnsafeBufferPointer(body)
    }

    /// The longest prefix of whole characters whose UTF-16 length is at most `limit` (Zoho counts Java
    /// characters, i.e. UTF-16 units). Never splits a character; trailing spaces are trimmed.
    static func truncate(_ text: String, to limit: Int) -> String {
        guard text.utf16.count > limit else { return text }
        var used = 0
        var end = text.startIndex
        for idx in text.indices {
            let width = text[idx].utf16.count
            if used + width > limit { break }
            used += width
            end = text.index(after: idx)
        }
        var result = String(text[..<end])
        while result.last == " " { result.removeLast() }
        return result
    }

    /// `clean` then `truncate`.
    static func field(_ text: String, limit: Int) -> String {
        truncate(clean(text), to: limit)
    }

    /// `base` plus `suffix`, cutting `base` (never the suffix) so the whole fits in `limit`.
    static func withSuffix(_ base: String, _ suffix: String, limit: Int) -> String {
        let room = limit - suffix.utf16.count
        guard room > 0 else { return truncate(base + suffix, to: limit) }
        return truncate(base, to: room) + suffix
    }

    /// `yyyy-MM-dd` of `date` in `timeZone`, Gregorian calendar, independent of the process locale.
    ///
    /// Foundation's Gregorian calendar derives the day from the local time `date + secondsFromGMT(for: date)`
    /// through its Julian day number, so dates with the same Julian day (computed with the same expression) have
    /// the same year, month and day in any time zone. The text is cached per Julian day, within years where the
    /// calendar is purely Gregorian.
    static func day(_ date: Date, in timeZone: TimeZone) -> String {
        let local = date.timeIntervalSinceReferenceDate + Double(timeZone.secondsFromGMT(for: date))
        let julianDate = local / 86400 + 2_451_910.5
        let julianDay = (julianDate + 0.5).rounded(.down)
        guard julianDay >= DayCache.firstJulianDay, julianDay <= DayCache.lastJulianDay else { return calendarDay(date, in: timeZone) }
        let key = Int(julianDay)
        if let text = DayCache.shared.text(forJulianDay: key) { return text }
        let text = calendarDay(date, in: timeZone)
        DayCache.shared.store(text, forJulianDay: key)
        return text
    }

    /// ``day(_:in:)`` computed by `Calendar`.
    static func calendarDay(_ date: Date, in timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        let y = c.year ?? 1970, m = c.month ?? 1, d = c.day ?? 1
        func pad(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }
}

/// `yyyy-MM-dd` texts by Julian day number, shared by every planner (see ``MappingText/day(_:in:)``).
final class DayCache: @unchecked Sendable {
    static let shared = DayCache()
    /// 1900-01-01 and 9999-12-31: far from the Julian/Gregorian cutover of 1582.
    static let firstJulianDay: Double = 2_415_021
    static let lastJulianDay: Double = 5_373_484
    private static let capacity = 20_000

    private let lock = NSLock()
    private var texts: [Int: String] = [:]

    func text(forJulianDay day: Int) -> String? {
        lock.lock(); defer { lock.unlock() }
        return texts[day]
    }

    func store(_ text: String, forJulianDay day: Int) {
        lock.lock(); defer { lock.unlock() }
        if texts.count >= Self.capacity { texts.removeAll(keepingCapacity: true) }
        texts[day] = text
    }
}
