import Foundation

/// One option, flag or positional argument a command accepts, as a row of its declarative table.
///
/// Invariants: an option or flag has at least one name, each `--long` or `-s`; ``key`` (the first long
/// name without dashes, or the positional's name) is what ``ParsedArguments`` is queried with.
struct ArgumentSpec: Sendable {
    enum Kind: Sendable, Equatable {
        /// `--name value` or `--name=value`.
        case option
        /// `--name`, no value. Repeating it counts (`-v -v`).
        case flag
        /// A bare word in order.
        case positional
    }

    var kind: Kind
    /// `["--since"]`, `["-v", "--verbose"]`; for a positional, empty.
    var names: [String]
    /// Shown as `<valueName>` in usage and help.
    var valueName: String
    var help: String
    /// ``ParsedArguments`` returns it when the option is absent; shown as `(default: …)`.
    var defaultValue: String?
    /// Shown as `(default: …)` when the default is not a fixed value (`zoho.region from the config`).
    var defaultNote: String?
    /// When set, the value must be one of these (checked by the parser).
    var allowedValues: [String]?
    var isRequired: Bool
    /// May be given more than once (every value is kept).
    var isRepeatable: Bool
    /// Kept out of `--help` (still parsed).
    var isHidden: Bool
    var key: String

    static func option(_ names: String..., valueName: String, help: String, defaultValue: String? = nil,
                       defaultNote: String? = nil, allowedValues: [String]? = nil, required: Bool = false, repeatable: Bool = false,
                       hidden: Bool = false) -> ArgumentSpec {
        ArgumentSpec(kind: .option, names: names, valueName: valueName, help: help, defaultValue: defaultValue,
                     defaultNote: defaultNote, allowedValues: allowedValues, isRequired: required, isRepeatable: repeatable, isHidden: hidden,
                     key: Self.key(for: names))
    }

    static func flag(_ names: String..., help: String, hidden: Bool = false) -> ArgumentSpec {
        ArgumentSpec(kind: .flag, names: names, valueName: "", help: help, defaultValue: nil, defaultNote: nil,
                     allowedValues: nil, isRequired: false, isRepeatable: true, isHidden: hidden, key: Self.key(for: names))
    }

    static func positional(_ name: String, help: String, required: Bool = true) -> ArgumentSpec {
        ArgumentSpec(kind: .positional, names: [], valueName: name, help: help, defaultValue: nil, defaultNote: nil,
                     allowedValues: nil, isRequired: required, isRepeatable: false, isHidden: false, key: name)
    }

    private static func key(for names: [String]) -> String {
        let long = names.first { $0.hasPrefix("--") } ?? names.first ?? ""
        return String(long.drop { $0 == "-" })
    }

    /// The preferred spelling (`--since`), for messages.
    var displayName: String {
        kind == .positional ? "<\(valueName)>" : (names.first { $0.hasPrefix("--") } ?? names[0])
    }

    /// `--since <date>` or `--dry-run`, for usage lines.
    var synopsis: String {
        switch kind {
        case .option: return "\(displayName) <\(valueName)>"
        case .flag: return displayName
        case .positional: return "<\(valueName)>"
        }
    }
}

/// The values found on the command line for one command, queried by ``ArgumentSpec/key``.
///
/// Invariant: every value was checked against its spec (known name, value present, allowed value);
/// typed accessors throw ``UsageError`` naming the option when the text does not convert.
struct ParsedArguments: Sendable {
    private(set) var specs: [ArgumentSpec]
    private var values: [String: [String]] = [:]
    private var flagCounts: [String: Int] = [:]
    private var positionalValues: [String] = []

    init(specs: [ArgumentSpec]) { self.specs = specs }

    mutating func append(value: String, for spec: ArgumentSpec) { values[spec.key, default: []].append(value) }
    mutating func countFlag(_ spec: ArgumentSpec) { flagCounts[spec.key, default: 0] += 1 }
    mutating func appendPositional(_ value: String) { positionalValues.append(value) }
    var positionalCount: Int { positionalValues.count }
    func hasValue(for spec: ArgumentSpec) -> Bool { values[spec.key] != nil || flagCounts[spec.key] != nil }

    private func spec(_ key: String) -> ArgumentSpec {
        guard let s = specs.first(where: { $0.key == key }) else {
            preconditionFailure("no argument '\(key)' is declared by this command")
        }
        return s
    }

    /// The last value given, else the declared default, else nil.
    func string(_ key: String) -> String? {
        let s = spec(key)
        if s.kind == .positional {
            let positionals = specs.filter { $0.kind == .positional }
            guard let index = positionals.firstIndex(where: { $0.key == key }), index < positionalValues.count else { return nil }
            return positionalValues[index]
        }
        return values[key]?.last ?? s.defaultValue
    }

    /// Every value of a repeatable option, in order.
    func strings(_ key: String) -> [String] { _ = spec(key); return values[key] ?? [] }

    /// Whether a flag was given.
    func flag(_ key: String) -> Bool { count(key) > 0 }

    /// How many times a flag was given.
    func count(_ key: String) -> Int { _ = spec(key); return flagCounts[key] ?? 0 }

    func int(_ key: String) throws -> Int? {
        guard let text = string(key) else { return nil }
        guard let v = Int(text) else { throw UsageError("\(spec(key).displayName) needs a whole number, got '\(text)'") }
        return v
    }

    func int64(_ key: String) throws -> Int64? {
        guard let text = string(key) else { return nil }
        guard let v = Int64(text) else { throw UsageError("\(spec(key).displayName) needs a whole number, got '\(text)'") }
        return v
    }

    /// A date `YYYY-MM-DD` (midnight UTC) or an ISO 8601 timestamp with offset.
    func date(_ key: String) throws -> Date? {
        guard let text = string(key) else { return nil }
        guard let d = DateText.parse(text) else {
            throw UsageError("\(spec(key).displayName) needs a date (YYYY-MM-DD) or an ISO 8601 time, got '\(text)'")
        }
        return d
    }
}

/// Dates as zbsync reads and writes them: `YYYY-MM-DD` (midnight UTC) or ISO 8601 with an offset.
enum DateText {
    static func parse(_ text: String) -> Date? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.count == 10 {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = "yyyy-MM-dd"
            f.isLenient = false
            if let d = f.date(from: t), f.string(from: d) == t { return d }
            return nil
        }
        let full = ISO8601DateFormatter()
        full.formatOptions = [.withInternetDateTime]
        if let d = full.date(from: t) { return d }
        full.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return full.date(from: t)
    }

    /// `2025-01-31T12:00:00Z`.
    static func iso(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}
