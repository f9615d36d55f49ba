import Foundation
import SyncEngine

/// The type of a configuration value: how its text is checked and what it becomes.
enum ConfigValueType: Sendable, Equatable {
    case string
    /// A whole number within the range.
    case int(ClosedRange<Int>)
    /// `true`/`false` (also `yes`/`no`, `on`/`off`, `1`/`0`).
    case bool
    /// An exact decimal number (never through `Double`).
    case decimal
    /// One of the listed words.
    case enumeration([String])
    /// Seconds: a whole number, optionally with a unit `s`, `m` or `h` (`600`, `10m`).
    case seconds
    /// `YYYY-MM-DD` (midnight UTC) or an ISO 8601 timestamp with offset.
    case date
    /// An `http(s)` URL with a host.
    case url
    /// An IANA time zone name (`Europe/Paris`, `UTC`).
    case timeZone
    /// Comma-separated whole numbers within the range.
    case intList(ClosedRange<Int>)
    /// Comma-separated `name:value` pairs.
    case pairs

    /// What the type expects, for error messages and the template.
    var expectation: String {
        switch self {
        case .string: return "text"
        case .int(let r): return "a whole number from \(r.lowerBound) to \(r.upperBound)"
        case .bool: return "true or false"
        case .decimal: return "a decimal number"
        case .enumeration(let words): return "one of \(words.joined(separator: ", "))"
        case .seconds: return "a number of seconds (or with a unit: 90s, 10m, 1h)"
        case .date: return "a date YYYY-MM-DD or an ISO 8601 time such as 2025-01-31T12:00:00Z"
        case .url: return "an http(s) URL"
        case .timeZone: return "an IANA time zone name such as UTC or Europe/Paris"
        case .intList(let r): return "comma-separated whole numbers from \(r.lowerBound) to \(r.upperBound)"
        case .pairs: return "comma-separated name:value pairs"
        }
    }

    /// Checks `text` (already unquoted and trimmed; never empty). Returns a problem, or nil when valid.
    func problem(with text: String) -> String? {
        let ok: Bool
        switch self {
        case .string: ok = true
        case .int(let r): ok = Int(text).map(r.contains) ?? false
        case .bool: ok = ConfigValueType.parseBool(text) != nil
        case .decimal: ok = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) != nil
            && text.allSatisfy { $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" }
        case .enumeration(let words): ok = words.contains(text)
        case .seconds: ok = ConfigValueType.parseSeconds(text) != nil
        case .date: ok = DateText.parse(text) != nil
        case .url:
            if let u = URL(string: text), let scheme = u.scheme?.lowercased(), scheme == "https" || scheme == "http",
               let host = u.host, !host.isEmpty { ok = true } else { ok = false }
        case .timeZone: ok = TimeZone(identifier: text) != nil
        case .intList(let r): ok = ConfigValueType.parseIntList(text).map { $0.allSatisfy(r.contains) && !$0.isEmpty } ?? false
        case .pairs: ok = ConfigValueType.parsePairs(text) != nil
        }
        return ok ? nil : "expected \(expectation), got '\(text)'"
    }

    static func parseBool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: return nil
        }
    }

    static func parseSeconds(_ text: String) -> Int? {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600]
        if let last = text.last, let unit = units[last] {
            return Int(text.dropLast()).flatMap { $0 >= 0 ? $0 * unit : nil }
        }
        return Int(text).flatMap { $0 >= 0 ? $0 : nil }
    }

    static func parseIntList(_ text: String) -> [Int]? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var out: [Int] = []
        for p in parts { guard let v = Int(p) else { return nil }; out.append(v) }
        return out
    }

    static func parsePairs(_ text: String) -> [(String, String)]? {
        var out: [(String, String)] = []
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pieces.count == 2, !pieces[0].isEmpty, !pieces[1].isEmpty else { return nil }
            out.append((pieces[0], pieces[1]))
        }
        return out.isEmpty ? nil : out
    }
}

/// One known configuration key: where it lives, its type, its default and a line of documentation.
///
/// Invariants: `section.name` is unique in ``ConfigKey/all``; a non-nil `defaultValue` passes the type's
/// check; the environment override is `ZBSYNC_<SECTION>_<NAME>` upper-cased.
struct ConfigKey: Sendable {
    var section: String
    var name: String
    var type: ConfigValueType
    /// The value used when neither the file nor the environment sets the key; nil = unset.
    var defaultValue: String?
    /// Shown in the template when there is no fixed default (`from zoho.region`).
    var defaultNote: String?
    var doc: String

    /// `zoho.requests_per_minute`.
    var path: String { "\(section).\(name)" }
    /// `ZBSYNC_ZOHO_REQUESTS_PER_MINUTE`.
    var environmentVariable: String { "ZBSYNC_\(section.uppercased())_\(name.uppercased())" }

    init(_ section: String, _ name: String, _ type: ConfigValueType, _ defaultValue: String?, defaultNote: String? = nil,
         _ doc: String) {
        self.section = section
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.defaultNote = defaultNote
        self.doc = doc
    }

    /// Every key zbsync reads, in the order of the template. Sections appear in this order too.
    static let all: [ConfigKey] = [
        ConfigKey("bigcommerce", "store_hash", .string, nil, defaultNote: "empty until `zbsync auth bigcommerce`",
                  "Store hash: the part after /stores/ in the API path."),
        ConfigKey("bigcommerce", "api_url", .url, "https://api.bigcommerce.com", "BigCommerce API base URL."),
        ConfigKey("bigcommerce", "page_size", .int(1...250), "250", "Records per page when reading BigCommerce."),

        ConfigKey("zoho", "region", .enumeration(ZohoRegion.allCases.map(\.rawValue)), "us",
                  "Zoho data centre of the organization (the Books web address: books.zoho.eu is eu)."),
        ConfigKey("zoho", "accounts_url", .url, nil, defaultNote: "from zoho.region",
                  "Zoho accounts (OAuth) server."),
        ConfigKey("zoho", "organization_id", .string, nil, defaultNote: "the only organization",
                  "Zoho Books organization id; needed when the login has more than one."),
        ConfigKey("zoho", "allow_custom_api_domain", .bool, "false",
                  "Accept an api_domain outside Zoho's region table (the local sandbox needs this)."),
        ConfigKey("zoho", "requests_per_minute", .int(1...100_000), "100",
                  "Zoho calls allowed in any 60-second window (Zoho's limit is 100 per organization)."),
        ConfigKey("zoho", "daily_limit", .int(1...10_000_000), "1000",
                  "Zoho calls allowed per day by the plan; a run stops before exceeding it."),
        ConfigKey("zoho", "client_id", .string, nil, defaultNote: "set by `zbsync auth zoho`",
                  "Zoho API client id (the client secret is stored encrypted, never here)."),

        ConfigKey("sync", "start", .date, nil, defaultNote: "the time `zbsync init` ran",
                  "Where a new home's cursors begin; older orders are backfill's job."),
        ConfigKey("sync", "lookback", .seconds, "600",
                  "Seconds re-read before each cursor, to catch late-visible changes."),
        ConfigKey("sync", "lag", .seconds, "60",
                  "Seconds behind BigCommerce's clock a poll stops, to let writes settle."),
        ConfigKey("sync", "max_attempts", .int(1...100), "8",
                  "Attempts before an operation is dead-lettered (then `zbsync retry`)."),
        ConfigKey("sync", "batch_size", .int(1...10_000), "250",
                  "Operations journaled or pushed per batch."),

        ConfigKey("store", "timezone", .timeZone, "UTC",
                  "The store's time zone (IANA name): invoice dates are order dates in this zone."),

        ConfigKey("orders", "statuses", .intList(0...14), "2,3,4,5,7,8,9,10,11,12,13,14",
                  "BigCommerce order status ids that are invoiced (0, 1 and 6 are never invoiced)."),
        ConfigKey("orders", "invoice_prefix", .string, "BC-",
                  "Invoice number = prefix + order id."),
        ConfigKey("orders", "paid_without_transactions", .bool, "true",
                  "An order marked paid with no transactions gets one payment of its total."),

        ConfigKey("payments", "mode", .string, "creditcard",
                  "Zoho payment mode for customer payments."),
        ConfigKey("payments", "account", .string, nil, defaultNote: "Zoho's default",
                  "Zoho deposit account name or id for payments."),
        ConfigKey("payments", "gateway_modes", .pairs, nil, defaultNote: "none",
                  "Payment mode per BigCommerce gateway, as gateway:mode,gateway:mode."),

        ConfigKey("refunds", "creditnote_prefix", .string, "BCR-",
                  "Credit note number = prefix + refund id."),
        ConfigKey("refunds", "mode", .string, "cash",
                  "Zoho payment mode of a credit-note refund (money out)."),
        ConfigKey("refunds", "account", .string, nil, defaultNote: "Zoho's default",
                  "Zoho account name or id the refunds are paid from."),

        ConfigKey("taxes", "mode", .enumeration(TaxMode.allCases.map(\.rawValue)), "create",
                  "map: use existing Zoho taxes of the same rate; create: also create missing ones; single-line: no per-line tax."),

        ConfigKey("items", "missing", .enumeration(MissingItemPolicy.allCases.map(\.rawValue)), "create",
                  "A SKU not in Zoho: create the item, use the generic item, or fail the order."),
        ConfigKey("items", "generic_name", .string, "BigCommerce item",
                  "Name of the generic item for lines without a usable SKU."),

        ConfigKey("webhooks", "verify", .enumeration(WebhookVerification.allCases.map(\.rawValue)), "signature",
                  "How a delivery is verified: the signature, the custom header, or both."),
        ConfigKey("webhooks", "header_name", .string, "X-Zbsync-Token",
                  "Custom header carrying the shared token (webhooks.verify = header or both)."),
        ConfigKey("webhooks", "process", .enumeration(WebhookProcessing.allCases.map(\.rawValue)), "queue",
                  "queue: the next cron run picks deliveries up; immediate: start a sync at once."),
        ConfigKey("webhooks", "max_body_bytes", .int(1...16_777_216), "262144",
                  "Largest delivery body accepted."),

        ConfigKey("log", "format", .enumeration(LogFormat.allCases.map(\.rawValue)), "text",
                  "Log lines on stderr as text or JSON lines."),
        ConfigKey("log", "level", .enumeration(["debug", "info", "notice", "warning", "error"]), "info",
                  "Least severe level logged (-v means debug, -q means error)."),
    ]

    /// Section names in template order.
    static let sections: [String] = all.reduce(into: []) { names, key in
        if !names.contains(key.section) { names.append(key.section) }
    }

    static func named(section: String, name: String) -> ConfigKey? {
        all.first { $0.section == section && $0.name == name }
    }
}
