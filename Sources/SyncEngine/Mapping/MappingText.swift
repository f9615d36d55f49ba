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
    private static func isClean(_ text: String) -> Bool {
        var previousSpace = true
        for b in text.utf8 {
            if b == 0x20 {
                if previousSpace { return false }
                previousSpace = true
            } else if b > 0x20 && b < 0x7F {
                previousSpace = false
            } else {
                return false
            }
        }
        return !previousSpace || text.isEmpty
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
    static func day(_ date: Date, in timeZone: TimeZone) -> String {
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
