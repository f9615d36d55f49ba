import Foundation

/// Misuse of the command line: exit 64, printed as `Error: <message>` then `Try: <hint>`.
///
/// Invariant: the message says what was wrong in the user's terms; when `hint` is nil the runner fills
/// in `zbsync <command> --help` for the command being parsed.
struct UsageError: Error, Equatable, CustomStringConvertible {
    var message: String
    var hint: String?

    init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    var description: String { message }
}

/// Picks the closest known word to a mistyped one, for "did you mean" hints.
enum Suggestion {
    /// The candidate with the smallest edit distance, if it is close enough to be a plausible typo
    /// (or the typed word is a prefix of exactly one candidate).
    static func closest(to word: String, in candidates: [String]) -> String? {
        let prefixed = candidates.filter { $0.hasPrefix(word) && !word.isEmpty }
        if prefixed.count == 1 { return prefixed[0] }
        let scored = candidates.map { ($0, distance(word, $0)) }.sorted { $0.1 < $1.1 }
        guard let best = scored.first else { return nil }
        let allowed = max(2, min(word.count, best.0.count) / 3)
        return best.1 <= allowed ? best.0 : nil
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
