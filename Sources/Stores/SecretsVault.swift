import CCrypto
import Foundation
import SyncEngine

/// A failure to load a master key or to encrypt or decrypt a secret. Messages are for people and
/// never contain key material or secret values.
public enum VaultError: Error, Equatable, CustomStringConvertible {
    case keyFileMissing(path: String)
    /// Wrong type, owner or mode; `reason` says which.
    case keyFileInsecure(path: String, reason: String)
    case keyFileMalformed(path: String)
    case keyFileExists(path: String)
    /// `$ZBSYNC_KEY` is not base64, or not 32 bytes (`byteCount` is what it decoded to).
    case environmentKeyInvalid(byteCount: Int?)
    /// The secret was encrypted under another master key.
    case keyMismatch(name: String, storedKeyID: String, activeKeyID: String)
    /// Authentication failed: wrong key, altered bytes, or a value moved from another name.
    case decryptionFailed(name: String)
    /// The stored value is not a blob this program wrote (too short or unknown version).
    case malformedBlob(name: String)
    case cryptoFailure(String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .keyFileMissing(let path):
            return "no master key at \(path); run `zbsync init`, or set \(MasterKey.environmentVariable)"
        case .keyFileInsecure(let path, let reason):
            return "master key file \(path) \(reason); it must be a regular file owned by you: run `chmod 600 \(path)`"
        case .keyFileMalformed(let path):
            return "master key file \(path) does not hold base64 of exactly 32 bytes"
        case .keyFileExists(let path):
            return "master key file \(path) already exists; refusing to overwrite it"
        case .environmentKeyInvalid(let count):
            let got = count.map { "it decodes to \($0) bytes" } ?? "it is not valid base64"
            return "\(MasterKey.environmentVariable) must be base64 of exactly 32 bytes; \(got)"
        case .keyMismatch(let name, let stored, let active):
            return "secret '\(name)' was encrypted with master key \(stored), but the active key is \(active); restore that key or store the secret again"
        case .decryptionFailed(let name):
            return "secret '\(name)' could not be decrypted: the master key is wrong, or the stored value was altered or moved from another name"
        case .malformedBlob(let name):
            return "secret '\(name)' is not in a format this zbsync can read"
        case .cryptoFailure(let what):
            return "cryptography failed: \(what)"
        case .io(let path, let reason):
            return "\(path): \(reason)"
        }
    }
}

/// Encrypts and decrypts secrets with AES-256-GCM under one master key.
///
/// Invariants:
/// - A blob is `version(1) ‖ nonce(12) ‖ ciphertext ‖ tag(16)`; the key id is stored beside it.
/// - Every encryption draws a fresh random 96-bit nonce from `RAND_bytes`. NIST SP 800-38D allows at
///   most 2^32 random-nonce encryptions per key; we make a handful per run.
/// - The AAD is `"zbsync/v1/" + name + "/" + keyID`, so a blob copied to another name, or relabelled
///   with another key id, fails authentication.
/// - The tag is verified by `EVP_DecryptFinal_ex`, never compared here.
public final class SecretsVault: Sendable {
    /// The blob format version this vault writes.
    public static let blobVersion: UInt8 = 1
    static let nonceLength = 12
    static let tagLength = 16

    public let key: MasterKey
    /// The active key's id, stored beside every blob it writes.
    public var keyID: String { key.keyID }

    public init(key: MasterKey) { self.key = key }

    /// Encrypts `secret` for storage under `name`.
    public func encrypt(_ secret: Secret, name: String) throws -> (keyID: String, blob: Data) {
        var nonce = [UInt8](repeating: 0, count: Self.nonceLength)
        guard RAND_bytes(&nonce, Int32(nonce.count)) == 1 else { throw VaultError.cryptoFailure("no random bytes for a nonce") }
        var plaintext = Array(secret.reveal().utf8)
        defer { OPENSSL_cleanse(&plaintext, plaintext.count) }
        let aad = Self.aad(name: name, keyID: keyID)

        let ctx = try Self.newContext()
        defer { EVP_CIPHER_CTX_free(ctx) }
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: Self.tagLength)
        var produced: Int32 = 0
        var total = 0
        try key.material.withBytes { keyBytes in
            try Self.check(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil), "EVP_EncryptInit_ex")
            try Self.check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(nonce.count), nil), "set IV length")
            try Self.check(EVP_EncryptInit_ex(ctx, nil, nil, keyBytes.bindMemory(to: UInt8.self).baseAddress, nonce), "set key")
        }
        try Self.check(EVP_EncryptUpdate(ctx, nil, &produced, aad, Int32(aad.count)), "AAD")
        if !plaintext.isEmpty {
            try ciphertext.withUnsafeMutableBufferPointer { out in
                try Self.check(EVP_EncryptUpdate(ctx, out.baseAddress, &produced, plaintext, Int32(plaintext.count)), "encrypt")
            }
            total = Int(produced)
        }
        try ciphertext.withUnsafeMutableBufferPointer { out in
            try Self.check(EVP_EncryptFinal_ex(ctx, out.baseAddress! + total, &produced), "EVP_EncryptFinal_ex")
        }
        total += Int(produced)
        try Self.check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(tag.count), &tag), "get tag")

        var blob = Data(capacity: 1 + nonce.count + total + tag.count)
        blob.append(Self.blobVersion)
        blob.append(contentsOf: nonce)
        blob.append(contentsOf: ciphertext[0..<total])
        blob.append(contentsOf: tag)
        return (keyID, blob)
    }

    /// Decrypts a blob stored under `name` with `keyID`. Throws `VaultError.keyMismatch` when `keyID` is
    /// not the active key, and `VaultError.decryptionFailed` when authentication fails.
    public func decrypt(blob: Data, name: String, keyID storedKeyID: String) throws -> Secret {
        guard storedKeyID == keyID else {
            throw VaultError.keyMismatch(name: name, storedKeyID: storedKeyID, activeKeyID: keyID)
        }
        let bytes = [UInt8](blob)
        guard bytes.count >= 1 + Self.nonceLength + Self.tagLength, bytes[0] == Self.blobVersion else {
            throw VaultError.malformedBlob(name: name)
        }
        let nonce = Array(bytes[1..<(1 + Self.nonceLength)])
        let body = Array(bytes[(1 + Self.nonceLength)..<(bytes.count - Self.tagLength)])
        var tag = Array(bytes[(bytes.count - Self.tagLength)...])
        let aad = Self.aad(name: name, keyID: storedKeyID)

        let ctx = try Self.newContext()
        defer { EVP_CIPHER_CTX_free(ctx) }
        var plaintext = [UInt8](repeating: 0, count: body.count + 16)
        defer { OPENSSL_cleanse(&plaintext, plaintext.count) }
        var produced: Int32 = 0
        var total = 0
        try key.material.withBytes { keyBytes in
            try Self.check(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil), "EVP_DecryptInit_ex")
            try Self.check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(nonce.count), nil), "set IV length")
            try Self.check(EVP_DecryptInit_ex(ctx, nil, nil, keyBytes.bindMemory(to: UInt8.self).baseAddress, nonce), "set key")
        }
        try Self.check(EVP_DecryptUpdate(ctx, nil, &produced, aad, Int32(aad.count)), "AAD")
        if !body.isEmpty {
            try plaintext.withUnsafeMutableBufferPointer { out in
                try Self.check(EVP_DecryptUpdate(ctx, out.baseAddress, &produced, body, Int32(body.count)), "decrypt")
            }
            total = Int(produced)
        }
        try Self.check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(tag.count), &tag), "set tag")
        // The tag check happens here, in constant time inside OpenSSL.
        let finalOK = plaintext.withUnsafeMutableBufferPointer { out in
            EVP_DecryptFinal_ex(ctx, out.baseAddress! + total, &produced)
        }
        guard finalOK == 1 else {
            ERR_clear_error()
            throw VaultError.decryptionFailed(name: name)
        }
        total += Int(produced)
        return Secret(String(decoding: plaintext[0..<total], as: UTF8.self))
    }

    static func aad(name: String, keyID: String) -> [UInt8] {
        Array("zbsync/v1/\(name)/\(keyID)".utf8)
    }

    private static func newContext() throws -> OpaquePointer {
        guard let ctx = EVP_CIPHER_CTX_new() else { throw VaultError.cryptoFailure("EVP_CIPHER_CTX_new") }
        return ctx
    }

    private static func check(_ rc: Int32, _ step: String) throws {
        guard rc == 1 else {
            ERR_clear_error()
            throw VaultError.cryptoFailure(step)
        }
    }
}
