import CCrypto
import Foundation

/// A stable content hash: SHA-256 (libcrypto) of the canonical JSON (sorted keys, compact), hex-encoded.
///
/// Invariant: equal JSON values give equal fingerprints on every platform and run; object key order and
/// number formatting of equal `Decimal`s (`12.50` vs `12.5`, as written by `JSON.decimal`) do not matter.
public enum Fingerprint {
    public static func of(_ json: JSON) -> String {
        sha256Hex(json.serialized(sortedKeys: true))
    }

    public static func sha256Hex(_ data: Data) -> String {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        data.withUnsafeBytes { raw in
            _ = SHA256(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &digest)
        }
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(digest.count * 2)
        for b in digest {
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
