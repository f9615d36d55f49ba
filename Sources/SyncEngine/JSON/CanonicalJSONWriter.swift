import Foundation

/// Writes the canonical JSON of a value (compact, object keys in ascending order) straight into bytes, without
/// building a ``JSON`` tree first.
///
/// Invariant: for a value whose `toJSON()` builds an object, what its ``CanonicalJSON/writeCanonical(to:)``
/// writes is byte for byte `toJSON().serialized(sortedKeys: true)`. Keys are written as given, so each writer
/// lists its keys in sorted order; numbers use the same text as `JSON.money` / `JSON.int64`, strings the same
/// escaping as ``JSON``.
///
/// The bytes live in one buffer owned by the writer (it cannot be copied) and freed with it.
struct CanonicalJSONWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 1024) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// A copy of the bytes written.
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// Room for `n` more bytes.
    @inline(__always) private mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    private mutating func grow(_ needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always) private mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let start = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (base + count).update(from: start, count: bytes.count)
        count += bytes.count
    }

    /// Writes again the bytes written at `range` (for a value equal to one already written).
    mutating func repeatBytes(_ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        reserve(range.count)
        (base + count).update(from: base + range.lowerBound, count: range.count)
        count += range.count
    }

    /// Punctuation and quoted keys, e.g. `{"amount":` or `,"date":`.
    mutating func raw(_ text: StaticString) {
        append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// A JSON string, escaped as ``JSON`` escapes it.
    mutating func string(_ value: String) { string(value, after: "") }

    /// `prefix` (punctuation and a key, as for ``raw(_:)``) then the string `value`.
    mutating func string(_ value: String, after prefix: StaticString) {
        let copied = value.utf8.withContiguousStorageIfAvailable { utf8 in appendPlain(utf8, after: prefix) } ?? false
        if copied { return }
        raw(prefix)
        var escaped: [UInt8] = []
        JSON.writeString(value, into: &escaped)
        escaped.withUnsafeBufferPointer { append($0) }
    }

    /// `prefix`, then `utf8` between quotes, when no byte of it needs escaping (the common case); false, with
    /// nothing written, otherwise.
    private mutating func appendPlain(_ utf8: UnsafeBufferPointer<UInt8>, after prefix: StaticString) -> Bool {
        for b in utf8 where b < 0x20 || b == 34 || b == 92 { return false }
        let head = prefix.utf8CodeUnitCount
        reserve(head + utf8.count + 2)
        let target = base + count
        if head > 0 { target.update(from: prefix.utf8Start, count: head) }
        target[head] = UInt8(ascii: "\"")
        if let start = utf8.baseAddress, !utf8.isEmpty { (target + head + 1).update(from: start, count: utf8.count) }
        target[head + utf8.count + 1] = UInt8(ascii: "\"")
        count += head + utf8.count + 2
        return true
    }

    /// `prefix` then a number already in JSON text (as `JSON.number` holds it), copied as it is.
    mutating func number(_ text: String, after prefix: StaticString) {
        raw(prefix)
        if let done: Void = text.utf8.withContiguousStorageIfAvailable({ append($0) }) { return done }
        for b in text.utf8 { append(b) }
    }

    mutating func optionalString(_ value: String?) {
        if let value { string(value) } else { raw("null") }
    }

    /// As `JSON.money`.
    mutating func money(_ value: Decimal) { money(value, after: "") }

    /// `prefix` then the number `value`, as `JSON.money` writes it.
    mutating func money(_ value: Decimal, after prefix: StaticString) {
        guard let (m, e, length) = FixedPoint.plainParts(value) else {
            raw(prefix)
            var text = value.plainString
            text.withUTF8 { append($0) }
            return
        }
        let head = prefix.utf8CodeUnitCount
        reserve(head + length)
        if head > 0 { (base + count).update(from: prefix.utf8Start, count: head) }
        FixedPoint.plainText(m, e, into: UnsafeMutableBufferPointer(start: base + count + head, count: length))
        count += head + length
    }

    /// As `JSON.optionalDecimal`.
    mutating func optionalMoney(_ value: Decimal?) {
        if let value { money(value) } else { raw("null") }
    }

    /// As `JSON.int64`.
    mutating func int64(_ value: Int64) {
        var v = value.magnitude
        var digits = 1
        var p = v
        while p >= 10 { p /= 10; digits += 1 }
        let length = digits + (value < 0 ? 1 : 0)
        reserve(length)
        if value < 0 { base[count] = UInt8(ascii: "-") }
        var i = count + length - 1
        for _ in 0..<digits {
            base[i] = UInt8(ascii: "0") &+ UInt8(v % 10)
            v /= 10
            i -= 1
        }
        count += length
    }

    mutating func optionalInt64(_ value: Int64?) {
        if let value { int64(value) } else { raw("null") }
    }

    mutating func bool(_ value: Bool) { value ? raw("true") : raw("false") }

    /// SHA-256 of the bytes written, hex-encoded (see ``Fingerprint``).
    var sha256Hex: String { Fingerprint.sha256Hex(UnsafeRawBufferPointer(start: base, count: count)) }
}

/// A value with a canonical JSON form written by ``CanonicalJSONWriter``.
protocol CanonicalJSON {
    func writeCanonical(to w: inout CanonicalJSONWriter)
}

extension CanonicalJSON {
    /// `Fingerprint.of(toJSON())`, without the JSON tree.
    var canonicalFingerprint: String {
        var w = CanonicalJSONWriter()
        writeCanonical(to: &w)
        return w.sha256Hex
    }

    /// The bytes `Fingerprint` hashes for this value.
    var canonicalBytes: [UInt8] {
        var w = CanonicalJSONWriter()
        writeCanonical(to: &w)
        return w.bytes
    }
}
