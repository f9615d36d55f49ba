import CCrypto
import Foundation

/// A stable content hash: SHA-256 (libcrypto) of the canonical JSON (sorted keys, compact), hex-encoded.
///
/// Invariant: equal JSON values give equal fingerprints on every platform and run; object key order and
/// number formatting of equal `Decimal`s (`12.50` vs `12.5`, as written by `JSON.decimal`) do not matter.
/// Specs hash the same bytes written directly (``CanonicalJSONWriter``), so their fingerprints equal
/// `Fingerprint.of(spec.toJSON())`.
public enum Fingerprint {
    public static func of(_ json: JSON) -> String {
        sha256Hex(json.serialized(sortedKeys: true))
    }

    public static func sha256Hex(_ data: Data) -> String {
        data.withUnsafeBytes { sha256Hex($0) }
    }

    static func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String {
        var digest: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &digest) { d in
            let out = d.baseAddress!.assumingMemoryBound(to: UInt8.self)
            if !SHA256Contexts.shared.digest(bytes, into: out) {
                _ = SHA256(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, out)
            }
            return String(unsafeUninitializedCapacity: 64) { hex in
                for i in 0..<32 {
                    let b = out[i]
                    hex[2 * i] = hexDigit(b >> 4)
                    hex[2 * i + 1] = hexDigit(b & 0x0F)
                }
                return 64
            }
        }
    }

    @inline(__always) private static func hexDigit(_ v: UInt8) -> UInt8 {
        v < 10 ? UInt8(ascii: "0") &+ v : UInt8(ascii: "a") &+ (v &- 10)
    }
}

/// Reusable OpenSSL SHA-256 contexts. OpenSSL 3's one-shot `SHA256()` looks the algorithm up and allocates a
/// context on every call, which costs about as much as hashing a spec; here the algorithm is fetched once and
/// contexts are kept for the next hash.
final class SHA256Contexts: @unchecked Sendable {
    static let shared = SHA256Contexts()
    private static let keep = 8

    private let algorithm: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)
    private let lock = NSLock()
    private var idle: [OpaquePointer] = []

    /// Writes the 32-byte digest of `bytes` to `out`; false when OpenSSL could not (the caller then falls back).
    func digest(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) -> Bool {
        guard let algorithm, let context = take() else { return false }
        var size: UInt32 = 0
        let ok = EVP_DigestInit_ex(context, algorithm, nil) == 1
            && EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1
            && EVP_DigestFinal_ex(context, out, &size) == 1 && size == 32
        give(context)
        return ok
    }

    private func take() -> OpaquePointer? {
        lock.lock()
        let context = idle.popLast()
        lock.unlock()
        return context ?? EVP_MD_CTX_new()
    }

    private func give(_ context: OpaquePointer) {
        lock.lock()
        if idle.count < Self.keep {
            idle.append(context)
            lock.unlock()
        } else {
            lock.unlock()
            EVP_MD_CTX_free(context)
        }
    }
}
