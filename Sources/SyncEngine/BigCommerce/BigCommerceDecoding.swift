import Foundation

/// Reads fields of one BigCommerce JSON object, with the path of the field in every error.
///
/// Leniency rules (the same for every resource):
/// - unknown fields are ignored; a missing or `null` optional field takes its default;
/// - ids may be JSON numbers or numeric strings; strings may arrive as numbers;
/// - money is read with ``JSON/decimal`` (string or number literal, never through `Double`);
/// - a field that is present with a value of the wrong kind (money `"abc"`, an object where a number belongs,
///   an unreadable date) is an error, never silently zero.
struct BCFieldReader {
    let object: JSONObject
    let path: String

    init(_ object: JSONObject, path: String) {
        self.object = object
        self.path = path
    }

    /// A reader for `value` when it is an object, else a field error naming `path`.
    init(_ value: JSON, path: String) throws {
        guard let o = value.object else { throw JSONError.field(path: path, problem: "expected an object") }
        self.init(o, path: path)
    }

    func has(_ key: String) -> Bool {
        guard let v = object[key] else { return false }
        return !v.isNull
    }

    private func fail(_ key: String, _ problem: String) -> JSONError {
        .field(path: "\(path).\(key)", problem: problem)
    }

    // MARK: Integers

    func requiredInt64(_ key: String) throws -> Int64 {
        guard let v = object[key], !v.isNull else { throw fail(key, "missing") }
        guard let i = v.int64 else { throw fail(key, "expected an integer") }
        return i
    }

    func optionalInt64(_ key: String) throws -> Int64? {
        guard let v = object[key], !v.isNull else { return nil }
        if case .string(let s) = v, s.trimmingCharacters(in: .whitespaces).isEmpty { return nil }
        guard let i = v.int64 else { throw fail(key, "expected an integer") }
        return i
    }

    func int64(_ key: String, default value: Int64 = 0) throws -> Int64 { try optionalInt64(key) ?? value }

    func int(_ key: String, default value: Int = 0) throws -> Int { Int(try optionalInt64(key) ?? Int64(value)) }

    // MARK: Money

    func requiredDecimal(_ key: String) throws -> Decimal {
        guard let v = object[key], !v.isNull else { throw fail(key, "missing") }
        guard let d = v.decimal else { throw fail(key, "expected a decimal amount") }
        return d
    }

    func optionalDecimal(_ key: String) throws -> Decimal? {
        guard let v = object[key], !v.isNull else { return nil }
        if case .string(let s) = v, s.trimmingCharacters(in: .whitespaces).isEmpty { return nil }
        guard let d = v.decimal else { throw fail(key, "expected a decimal amount") }
        return d
    }

    func decimal(_ key: String, default value: Decimal = 0) throws -> Decimal { try optionalDecimal(key) ?? value }

    // MARK: Text and flags

    /// A string, or the literal of a number; `""` when missing or null. Objects and arrays are errors.
    func string(_ key: String) throws -> String { try optionalString(key) ?? "" }

    func optionalString(_ key: String) throws -> String? {
        guard let v = object[key], !v.isNull else { return nil }
        switch v {
        case .string(let s): return s
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        default: throw fail(key, "expected a string")
        }
    }

    /// A boolean (`true`/`false`, `1`/`0`, `"true"`/`"false"`); `value` when missing or null.
    func bool(_ key: String, default value: Bool = false) throws -> Bool {
        guard let v = object[key], !v.isNull else { return value }
        guard let b = v.bool else { throw fail(key, "expected a boolean") }
        return b
    }

    // MARK: Dates

    /// RFC 2822 or ISO 8601; missing, empty or unreadable is an error.
    func requiredDate(_ key: String) throws -> Date {
        guard let v = object[key], !v.isNull else { throw fail(key, "missing") }
        guard let s = v.string else { throw fail(key, "expected a date string") }
        guard let d = BigCommerceDates.parse(s) else { throw fail(key, "unreadable date \"\(s.prefix(40))\"") }
        return d
    }

    /// RFC 2822 or ISO 8601; nil when missing, null or `""` (for example `date_shipped` of an unshipped order).
    func optionalDate(_ key: String) throws -> Date? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let s = v.string else { throw fail(key, "expected a date string") }
        if s.trimmingCharacters(in: .whitespaces).isEmpty { return nil }
        guard let d = BigCommerceDates.parse(s) else { throw fail(key, "unreadable date \"\(s.prefix(40))\"") }
        return d
    }

    // MARK: Nesting

    /// The nested object, nil when missing or null, an error when it is something else.
    func optionalObject(_ key: String) throws -> BCFieldReader? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let o = v.object else { throw fail(key, "expected an object") }
        return BCFieldReader(o, path: "\(path).\(key)")
    }

    /// The nested array, nil when missing or null, an error when it is something else.
    func optionalArray(_ key: String) throws -> [JSON]? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let a = v.array else { throw fail(key, "expected an array") }
        return a
    }

    /// Each element of the array at `key` as an object reader (`[]` when missing). Non-objects are errors.
    func objects(_ key: String) throws -> [BCFieldReader] {
        guard let items = try optionalArray(key) else { return [] }
        return try items.enumerated().map { i, v in try BCFieldReader(v, path: "\(path).\(key)[\(i)]") }
    }
}

// MARK: - Lists with per-record quarantine

/// Splits a JSON array of records into decoded values and quarantined ones.
///
/// Invariant: every element ends up in exactly one of the two results, in order. A rejected element is keyed
/// `<entity>:<id>` when its `id` is readable, else `<entity>:?` (the reason then names its position).
func decodeRecords<T>(_ items: [JSON], entity: String, pathPrefix: String,
                      _ decode: (BCFieldReader) throws -> T) -> (records: [T], rejected: [RejectedRecord]) {
    var records: [T] = []
    var rejected: [RejectedRecord] = []
    for (index, item) in items.enumerated() {
        let path = "\(pathPrefix)[\(index)]"
        guard let object = item.object else {
            rejected.append(RejectedRecord(entityKey: "\(entity):?", reason: "\(path): expected an object"))
            continue
        }
        do {
            records.append(try decode(BCFieldReader(object, path: path)))
        } catch {
            let id = object["id"]?.int64
            let key = id.map { "\(entity):\($0)" } ?? "\(entity):?"
            let reason = (error as? JSONError)?.description ?? String(describing: error)
            rejected.append(RejectedRecord(entityKey: key, reason: id == nil ? "record at \(path) has no readable id; \(reason)" : reason))
        }
    }
    return (records, rejected)
}

/// Decodes every element or throws `RemoteError.malformed` naming the first bad one. For sub-resource lists
/// (lines, taxes, coupons, …) where one bad row makes the whole parent unusable.
func decodeAll<T>(_ items: [JSON], entity: String, pathPrefix: String, context: String,
                  _ decode: (BCFieldReader) throws -> T) throws -> [T] {
    let (records, rejected) = decodeRecords(items, entity: entity, pathPrefix: pathPrefix, decode)
    if let first = rejected.first {
        throw RemoteError.malformed(.bigcommerce, "\(context): \(first.entityKey): \(first.reason)")
    }
    return records
}

// MARK: - Bodies

/// How a body was read.
enum BCBody {
    /// 204 or an empty body.
    case empty
    case json(JSON)
}

extension BCBody {
    /// Parses a 2xx body. 204 or whitespace-only bodies are ``empty``; anything that is not JSON throws
    /// `RemoteError.malformed` for the whole reply (a truncated page must not look like a short one).
    static func read(_ response: HTTPResponse, context: String) throws -> BCBody {
        if response.status == 204 || response.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return .empty
        }
        do {
            return .json(try JSON.parse(response.body))
        } catch {
            let why = (error as? JSONError)?.description ?? "unreadable body"
            throw RemoteError.malformed(.bigcommerce, "\(context): \(why) (\(response.body.count) bytes)")
        }
    }

    /// As ``read(_:context:)``, for a page of a list whose end moves a cursor (orders, refunds, customers):
    /// only HTTP 204 says "nothing here". A 200 whose body is empty is malformed, so a reply cut to nothing on
    /// the way is never taken for the end of the list (which would move the cursor past unread records).
    static func readPage(_ response: HTTPResponse, context: String) throws -> BCBody {
        if response.status != 204, response.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw RemoteError.malformed(.bigcommerce, "\(context): HTTP \(response.status) with an empty body (an empty list comes as HTTP 204)")
        }
        return try read(response, context: context)
    }

    /// A v2 list: a bare array (204/empty = `[]`). Anything else is malformed.
    func v2Array(context: String) throws -> [JSON] {
        switch self {
        case .empty: return []
        case .json(let j):
            guard let a = j.array else { throw RemoteError.malformed(.bigcommerce, "\(context): expected a JSON array") }
            return a
        }
    }

    /// A v3 collection: `{"data": [...], "meta": {...}}` (204/empty = no data).
    func v3Collection(context: String) throws -> (data: [JSON], meta: JSONObject?) {
        switch self {
        case .empty: return ([], nil)
        case .json(let j):
            guard let o = j.object else { throw RemoteError.malformed(.bigcommerce, "\(context): expected a JSON object") }
            let meta = o["meta"]?.object
            guard let dataValue = o["data"], !dataValue.isNull else { return ([], meta) }
            guard let data = dataValue.array else {
                throw RemoteError.malformed(.bigcommerce, "\(context): `data` is not an array")
            }
            return (data, meta)
        }
    }
}

// MARK: - v3 paging

/// Where a page of a v3 list stands, from its `meta` (`{"pagination": {total, count, per_page, current_page,
/// total_pages, links: {previous, current, next}}}`).
///
/// Invariants: when `meta.pagination` is there it decides, so a server that caps pages below the `limit` asked is
/// still read to the end; without it a page shorter than `limit` is the last (the spec leaves some metas open).
/// An empty page is always the last, and `total_pages` is compared with the page asked as well as with
/// `current_page`, so even a server that ignores `page` is read at most `total_pages` times.
enum BCV3Paging {
    static func isLastPage(meta: JSONObject?, count: Int, limit: Int, page: Int) -> Bool {
        if count == 0 { return true }
        if let p = meta?["pagination"]?.object {
            if let total = p["total_pages"]?.int, let current = p["current_page"]?.int {
                return max(current, page) >= total
            }
            if let links = p["links"]?.object, !links.keys.isEmpty {
                return !hasLink(links["next"])
            }
            if let perPage = p["per_page"]?.int, perPage > 0 {
                return count < min(limit, perPage)
            }
        }
        return count < limit
    }

    /// A `links.next`-style value that is present and not blank.
    static func hasLink(_ value: JSON?) -> Bool {
        guard let s = value?.string else { return false }
        return !s.trimmingCharacters(in: .whitespaces).isEmpty
    }

    /// The value of `name` in a relative link such as `?after=MTM=&limit=2` (percent-decoded), nil when absent.
    static func queryValue(_ name: String, in link: String) -> String? {
        let query = link.split(separator: "?", maxSplits: 1).last.map(String.init) ?? link
        for part in query.split(separator: "&") {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, pair[0] == name[...] else { continue }
            let value = String(pair[1]).removingPercentEncoding ?? String(pair[1])
            return value.isEmpty ? nil : value
        }
        return nil
    }
}

// MARK: - Error bodies

/// The human part of a BigCommerce error reply, from either shape:
/// v2 `[{"status": 404, "message": "..."}]` or v3 `{"status": 422, "title": "...", "errors": {"field": "..."}}`
/// (also `{"data": [{status, title}]}`). Nil when the body is neither. Never includes request data.
enum BigCommerceErrorBody {
    static func message(from body: Data) -> String? {
        guard !body.isEmpty, let json = try? JSON.parse(body) else { return nil }
        return message(from: json)
    }

    static func message(from json: JSON) -> String? {
        if let items = json.array {
            let messages = items.compactMap { item -> String? in
                if let m = item["message"]?.string, !m.isEmpty { return m }
                return item["title"]?.string
            }
            return messages.isEmpty ? nil : clip(messages.joined(separator: "; "))
        }
        guard let o = json.object else { return nil }
        if let inner = o["data"], inner.array != nil { return message(from: inner) }
        var parts: [String] = []
        if let title = o["title"]?.string, !title.isEmpty { parts.append(title) }
        else if let m = o["message"]?.string, !m.isEmpty { parts.append(m) }
        if let errors = o["errors"]?.object {
            let details = errors.pairs.map { key, value in "\(key): \(value.stringOrNumberText ?? value.serializedString())" }
            if !details.isEmpty { parts.append(details.joined(separator: ", ")) }
        }
        return parts.isEmpty ? nil : clip(parts.joined(separator: " — "))
    }

    private static func clip(_ s: String) -> String { s.count > 300 ? String(s.prefix(300)) + "…" : s }
}
