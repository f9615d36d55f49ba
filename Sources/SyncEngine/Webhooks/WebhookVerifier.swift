import CCrypto
import Foundation

/// Which checks a webhook delivery must pass (`webhooks.verify`).
public enum WebhookVerificationMode: String, Sendable, CaseIterable {
    /// The Standard Webhooks signature (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
    case signature
    /// The custom header secret configured on the hook.
    case header
    /// Both.
    case both

    var needsSignature: Bool { self != .header }
    var needsHeaderSecret: Bool { self != .signature }
}

/// The request headers a verification looks at (nil = absent). Values are taken as received.
public struct WebhookHeaders: Sendable, Equatable {
    /// `webhook-id`.
    public var id: String?
    /// `webhook-timestamp` (Unix seconds).
    public var timestamp: String?
    /// `webhook-signature`: space-separated `v1,<base64>` entries.
    public var signature: String?
    /// The custom header (`webhooks.header_name`, `X-Zbsync-Token` by default).
    public var token: String?
    public init(id: String? = nil, timestamp: String? = nil, signature: String? = nil, token: String? = nil) {
        self.id = id; self.timestamp = timestamp; self.signature = signature; self.token = token
    }
}

/// Why a delivery was refused. The descriptions name the check, never a header value or a secret.
public enum WebhookRejection: String, Error, Sendable, Equatable, CustomStringConvertible {
    case noSigningSecret
    case missingSignatureHeaders
    case malformedTimestamp
    case timestampOutOfTolerance
    case noValidSignature
    case noHeaderSecret
    case missingToken
    case tokenMismatch

    public var description: String {
        switch self {
        case .noSigningSecret:
            return "no BigCommerce client secret is stored, so signatures cannot be checked (store it with 'zbsync auth bigcommerce' and $ZBSYNC_BIGCOMMERCE_CLIENT_SECRET)"
        case .missingSignatureHeaders:
            return "webhook-id, webhook-timestamp or webhook-signature header missing"
        case .malformedTimestamp:
            return "webhook-timestamp is not Unix seconds"
        case .timestampOutOfTolerance:
            return "webhook-timestamp is more than 5 minutes from now (replayed, or a clock is wrong)"
        case .noValidSignature:
            return "no v1 signature matches"
        case .noHeaderSecret:
            return "no webhook header secret is configured"
        case .missingToken:
            return "the custom header secret is missing"
        case .tokenMismatch:
            return "the custom header secret does not match"
        }
    }
}

/// Verifies BigCommerce webhook deliveries. Pure: no I/O, the time is passed in.
///
/// Invariants:
/// - Signatures follow Standard Webhooks v1: `base64(HMAC-SHA256(key, "{id}.{timestamp}.{raw body}"))`,
///   compared in constant time (`CRYPTO_memcmp`) against every `v1,` entry of `webhook-signature`;
///   other versions (`v1a,` = ed25519) are ignored. The timestamp must be within ``tolerance`` of now,
///   either direction.
/// - The header secret is compared in constant time over SHA-256 digests, so neither its content nor its
///   length leaks through timing.
/// - A missing secret on this side is a refusal, never a pass.
public struct WebhookVerifier: Sendable {
    /// ±5 minutes, as the Standard Webhooks libraries use.
    public static let tolerance: TimeInterval = 5 * 60

    public var mode: WebhookVerificationMode
    /// The HMAC key (see ``signingKey(clientSecret:)``); nil when no client secret is stored.
    public var signingKey: Data?
    /// The expected custom header value; nil when none is configured.
    public var headerSecret: Secret?

    public init(mode: WebhookVerificationMode, signingKey: Data?, headerSecret: Secret?) {
        self.mode = mode; self.signingKey = signingKey; self.headerSecret = headerSecret
    }

    /// The HMAC key for a stored client secret. BigCommerce's sample base64-encodes the app's client
    /// secret before handing it to a Standard Webhooks library, which decodes it again: the key is the raw
    /// bytes of the client secret. A secret stored in Standard Webhooks form (`whsec_<base64>`) is
    /// decoded instead; if the part after `whsec_` is not valid base64, the whole text is the key.
    public static func signingKey(clientSecret: Secret) -> Data {
        let text = clientSecret.reveal()
        if text.hasPrefix("whsec_"), let decoded = Data(base64Encoded: String(text.dropFirst(6))), !decoded.isEmpty {
            return decoded
        }
        return Data(text.utf8)
    }

    /// Throws ``WebhookRejection`` unless the delivery passes every check `mode` asks for.
    public func verify(headers: WebhookHeaders, body: Data, now: Date) throws {
        if mode.needsHeaderSecret { try verifyHeaderSecret(headers.token) }
        if mode.needsSignature { try verifySignature(headers: headers, body: body, now: now) }
    }

    /// Like ``verify(headers:body:now:)``, as a value.
    public func check(headers: WebhookHeaders, body: Data, now: Date) -> WebhookRejection? {
        do {
            try verify(headers: headers, body: body, now: now)
            return nil
        } catch {
            return error as? WebhookRejection ?? .noValidSignature
        }
    }

    func verifyHeaderSecret(_ token: String?) throws {
        guard let expected = headerSecret, !expected.isEmpty else { throw WebhookRejection.noHeaderSecret }
        guard let token, !token.isEmpty else { throw WebhookRejection.missingToken }
        let a = Self.sha256(Data(token.utf8))
        let b = Self.sha256(Data(expected.reveal().utf8))
        guard Self.constantTimeEqual(a, b) else { throw WebhookRejection.tokenMismatch }
    }

    func verifySignature(headers: WebhookHeaders, body: Data, now: Date) throws {
        guard let key = signingKey, !key.isEmpty else { throw WebhookRejection.noSigningSecret }
        guard let id = headers.id, !id.isEmpty, let timestamp = headers.timestamp, !timestamp.isEmpty,
              let signature = headers.signature, !signature.isEmpty else {
            throw WebhookRejection.missingSignatureHeaders
        }
        let trimmed = timestamp.trimmingCharacters(in: .whitespaces)
        guard trimmed.allSatisfy({ $0.isASCII && $0.isNumber }), let seconds = Int64(trimmed) else {
            throw WebhookRejection.malformedTimestamp
        }
        guard abs(now.timeIntervalSince1970 - Double(seconds)) <= Self.tolerance else {
            throw WebhookRejection.timestampOutOfTolerance
        }
        var content = Data("\(id).\(trimmed).".utf8)
        content.append(body)
        let expected = Self.hmacSHA256(key: key, message: content)
        var matched = false
        // Every entry is checked (no early exit), so the time taken does not tell which entry matched.
        for entry in signature.split(separator: " ", omittingEmptySubsequences: true) {
            guard entry.hasPrefix("v1,") else { continue }
            guard let candidate = Data(base64Encoded: String(entry.dropFirst(3))) else { continue }
            if Self.constantTimeEqual(candidate, expected) { matched = true }
        }
        guard matched else { throw WebhookRejection.noValidSignature }
    }

    /// The Standard Webhooks `v1` signature of one delivery (for tests and for senders).
    public static func signature(key: Data, id: String, timestamp: String, body: Data) -> String {
        var content = Data("\(id).\(timestamp).".utf8)
        content.append(body)
        return "v1," + hmacSHA256(key: key, message: content).base64EncodedString()
    }

    // MARK: Primitives (libcrypto)

    /// HMAC-SHA256 with libcrypto's one-shot `HMAC()`.
    public static func hmacSHA256(key: Data, message: Data) -> Data {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // A non-null pointer even for empty input: libcrypto treats (NULL, 0) keys specially.
        let keyBytes = key.isEmpty ? [UInt8(0)] : [UInt8](key)
        let keyLength = Int32(key.count)
        let messageBytes = message.isEmpty ? [UInt8(0)] : [UInt8](message)
        _ = keyBytes.withUnsafeBufferPointer { k in
            messageBytes.withUnsafeBufferPointer { m in
                HMAC(EVP_sha256(), k.baseAddress, keyLength, m.baseAddress, message.count, &out, &length)
            }
        }
        return Data(out.prefix(Int(length)))
    }

    static func sha256(_ data: Data) -> Data {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        let bytes = data.isEmpty ? [UInt8(0)] : [UInt8](data)
        _ = bytes.withUnsafeBufferPointer { SHA256($0.baseAddress, data.count, &digest) }
        return Data(digest)
    }

    /// Constant-time equality (`CRYPTO_memcmp`) of two byte strings; different lengths are unequal.
    public static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count, !a.isEmpty else { return false }
        let x = [UInt8](a), y = [UInt8](b)
        return x.withUnsafeBytes { p in y.withUnsafeBytes { q in CRYPTO_memcmp(p.baseAddress, q.baseAddress, x.count) == 0 } }
    }
}
