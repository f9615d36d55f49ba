import Foundation

/// A parsed JSON document that keeps numbers as their literal text.
///
/// Invariant: a number is never converted through `Double`. Money is read with ``decimal`` straight
/// from the literal (or from a string such as `"336.3200"`), and 19-digit Zoho ids survive intact.
/// Object keys keep their insertion order so that ``serialized(sortedKeys:)`` is deterministic.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The literal text of the number exactly as it appeared (for example `"-12.5000"` or `"982000000567114"`).
    case number(String)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    // MARK: Parsing

    /// Parses UTF-8 JSON. Throws ``JSONError/malformed(_:)`` with the byte offset of the first problem.
    public static func parse(_ data: Data) throws -> JSON {
        var parser = JSONParser(bytes: [UInt8](data))
        return try parser.parseDocument()
    }

    public static func parse(_ text: String) throws -> JSON {
        try parse(Data(text.utf8))
    }

    // MARK: Access

    public subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public subscript(index: Int) -> JSON? {
        if case .array(let a) = self, index >= 0, index < a.count { return a[index] }
        return nil
    }

    public var isNull: Bool { if case .null = self { return true }; return false }

    /// The string value; numbers and booleans are not coerced.
    public var string: String? { if case .string(let s) = self { return s }; return nil }

    /// A string, or the literal of a number (for ids that some APIs send either way).
    public var stringOrNumberText: String? {
        switch self {
        case .string(let s): return s
        case .number(let n): return n
        default: return nil
        }
    }

    public var bool: Bool? {
        switch self {
        case .bool(let b): return b
        case .number(let n): return n == "1" ? true : (n == "0" ? false : nil)
        case .string(let s):
            switch s.lowercased() {
            case "true", "1": return true
            case "false", "0": return false
            default: return nil
            }
        default: return nil
        }
    }

    /// An integer from a JSON number without a fraction or exponent, or from a string holding one.
    public var int: Int? {
        switch self {
        case .number(let n):
            if let i = Int(n) { return i }
            // "12.0" is an integer written as a decimal.
            if let d = Decimal(string: n, locale: Locale(identifier: "en_US_POSIX")), d == d.rounded(scale: 0) {
                return Int(exactly: NSDecimalNumber(decimal: d).int64Value)
            }
            return nil
        case .string(let s): return Int(s.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }

    public var int64: Int64? { int.map(Int64.init) }

    /// A `Decimal` from a JSON number literal or a numeric string, never through `Double`.
    public var decimal: Decimal? {
        switch self {
        case .number(let n): return Decimal.parse(n)
        case .string(let s): return Decimal.parse(s)
        default: return nil
        }
    }

    public var array: [JSON]? { if case .array(let a) = self { return a }; return nil }
    public var object: JSONObject? { if case .object(let o) = self { return o }; return nil }

    // MARK: Serialization

    /// Compact UTF-8 JSON. With `sortedKeys`, object keys are sorted so equal values give equal bytes.
    public func serialized(sortedKeys: Bool = false) -> Data {
        var out = [UInt8]()
        out.reserveCapacity(256)
        write(into: &out, sortedKeys: sortedKeys)
        return Data(out)
    }

    public func serializedString(sortedKeys: Bool = false) -> String {
        String(decoding: serialized(sortedKeys: sortedKeys), as: UTF8.self)
    }

    private func write(into out: inout [UInt8], sortedKeys: Bool) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): JSON.writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            var first = true
            for v in a {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                v.write(into: &out, sortedKeys: sortedKeys)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var first = true
            func pair(_ k: String, _ v: JSON) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                JSON.writeString(k, into: &out)
                out.append(UInt8(ascii: ":"))
                v.write(into: &out, sortedKeys: sortedKeys)
            }
            if sortedKeys {
                for (k, v) in o.pairs.sorted(by: { $0.0 < $1.0 }) { pair(k, v) }
            } else {
                for (k, v) in o.pairs { pair(k, v) }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            // Fast path: most strings need no escaping.
            if !bytes.contains(where: { $0 < 0x20 || $0 == 34 || $0 == 92 }) {
                out.append(contentsOf: bytes)
                return
            }
            for b in bytes {
                switch b {
                case 34: out.append(92); out.append(34)
                case 92: out.append(92); out.append(92)
                case 0x0A: out.append(92); out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(92); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(92); out.append(UInt8(ascii: "t"))
                case 0..<0x20:
                    out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hexDigits[Int(b >> 4)], hexDigits[Int(b & 0xF)]])
                default: out.append(b)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

// MARK: Builders

extension JSON: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByNilLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByIntegerLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements)) }
    public init(integerLiteral value: Int) { self = .number(String(value)) }

    /// A JSON number holding `value` in plain notation (for example `12.50` → `12.5`).
    public static func decimal(_ value: Decimal) -> JSON { .number(value.plainString) }
    public static func int(_ value: Int) -> JSON { .number(String(value)) }
    public static func int64(_ value: Int64) -> JSON { .number(String(value)) }
    /// `.string(value)` or `.null` when nil.
    public static func optional(_ value: String?) -> JSON { value.map(JSON.string) ?? .null }
}

/// An insertion-ordered JSON object.
public struct JSONObject: Sendable, Equatable {
    public private(set) var pairs: [(String, JSON)]

    public init(_ pairs: [(String, JSON)] = []) { self.pairs = pairs }

    public subscript(key: String) -> JSON? {
        get { pairs.first(where: { $0.0 == key })?.1 }
        set {
            if let i = pairs.firstIndex(where: { $0.0 == key }) {
                if let v = newValue { pairs[i].1 = v } else { pairs.remove(at: i) }
            } else if let v = newValue {
                pairs.append((key, v))
            }
        }
    }

    public var keys: [String] { pairs.map(\.0) }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.pairs.count == b.pairs.count else { return false }
        for (k, v) in a.pairs where b[k] != v { return false }
        return true
    }
}

public enum JSONError: Error, Equatable, CustomStringConvertible {
    /// The bytes are not JSON; the message names the byte offset.
    case malformed(String)
    /// A required field is missing or has the wrong type; `path` is like `orders[3].total_inc_tax`.
    case field(path: String, problem: String)

    public var description: String {
        switch self {
        case .malformed(let m): return "malformed JSON: \(m)"
        case .field(let path, let problem): return "field \(path): \(problem)"
        }
    }
}

// MARK: Parser

private struct JSONParser {
    let bytes: [UInt8]
    var i = 0
    var depth = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws -> JSON {
        // Skip a UTF-8 byte-order mark.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { i = 3 }
        skipSpace()
        if i >= bytes.count { throw JSONError.malformed("empty body") }
        let v = try parseValue()
        skipSpace()
        if i != bytes.count { throw JSONError.malformed("unexpected data after the value at byte \(i)") }
        return v
    }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    mutating func parseValue() throws -> JSON {
        guard i < bytes.count else { throw JSONError.malformed("unexpected end of data at byte \(i)") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw JSONError.malformed("unexpected character at byte \(i)")
        }
    }

    mutating func expectWord(_ w: String) throws {
        let u = Array(w.utf8)
        guard i + u.count <= bytes.count, Array(bytes[i..<(i + u.count)]) == u else {
            throw JSONError.malformed("invalid literal at byte \(i)")
        }
        i += u.count
    }

    mutating func enter() throws {
        depth += 1
        if depth > 512 { throw JSONError.malformed("nesting deeper than 512 levels") }
    }

    mutating func parseObject() throws -> JSON {
        try enter(); defer { depth -= 1 }
        i += 1
        var pairs: [(String, JSON)] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(JSONObject(pairs)) }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw JSONError.malformed("expected a key at byte \(i)") }
            let k = try parseString()
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw JSONError.malformed("expected ':' at byte \(i)") }
            i += 1
            skipSpace()
            let v = try parseValue()
            pairs.append((k, v))
            skipSpace()
            guard i < bytes.count else { throw JSONError.malformed("unexpected end of data in an object") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; break }
            throw JSONError.malformed("expected ',' or '}' at byte \(i)")
        }
        return .object(JSONObject(pairs))
    }

    mutating func parseArray() throws -> JSON {
        try enter(); defer { depth -= 1 }
        i += 1
        var items: [JSON] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try parseValue())
            skipSpace()
            guard i < bytes.count else { throw JSONError.malformed("unexpected end of data in an array") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; break }
            throw JSONError.malformed("expected ',' or ']' at byte \(i)")
        }
        return .array(items)
    }

    mutating func parseNumber() throws -> String {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        func digits(_ p: inout JSONParser) -> Int {
            let s = p.i
            while p.i < p.bytes.count, p.bytes[p.i] >= 48, p.bytes[p.i] <= 57 { p.i += 1 }
            return p.i - s
        }
        if digits(&self) == 0 { throw JSONError.malformed("invalid number at byte \(start)") }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            if digits(&self) == 0 { throw JSONError.malformed("invalid number at byte \(start)") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            if digits(&self) == 0 { throw JSONError.malformed("invalid number at byte \(start)") }
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    mutating func parseString() throws -> String {
        i += 1
        var out = [UInt8]()
        while true {
            guard i < bytes.count else { throw JSONError.malformed("unterminated string") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; break }
            if b < 0x20 { throw JSONError.malformed("control character in a string at byte \(i)") }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            i += 1
            guard i < bytes.count else { throw JSONError.malformed("unterminated escape") }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(34)
            case UInt8(ascii: "\\"): out.append(92)
            case UInt8(ascii: "/"): out.append(47)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    if i + 1 < bytes.count, bytes[i] == 92, bytes[i + 1] == UInt8(ascii: "u") {
                        i += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw JSONError.malformed("invalid surrogate pair at byte \(i)") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        scalar = 0xFFFD
                    }
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    scalar = 0xFFFD
                }
                let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw JSONError.malformed("invalid escape at byte \(i - 1)")
            }
        }
        // Invalid UTF-8 is replaced rather than rejected: names from shops are shown, not trusted.
        return String(decoding: out, as: UTF8.self)
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw JSONError.malformed("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 65...70: d = UInt32(c - 55)
            case 97...102: d = UInt32(c - 87)
            default: throw JSONError.malformed("invalid \\u escape at byte \(i)")
            }
            v = v * 16 + d
            i += 1
        }
        return v
    }
}
