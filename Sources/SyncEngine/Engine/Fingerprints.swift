import CCrypto
import Foundation

/// Content fingerprints: SHA-256 (libcrypto) of the canonical, sorted-key JSON of a mapped value.
/// Equal content gives equal fingerprints across runs and machines.
public enum Fingerprints {
    public static func of(_ json: JSON) -> String {
        sha256Hex(json.serialized(sortedKeys: true))
    }

    public static func sha256Hex(_ data: Data) -> String {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        data.withUnsafeBytes { raw in
            _ = SHA256(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &digest)
        }
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}
