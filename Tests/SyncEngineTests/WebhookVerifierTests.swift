import Foundation
import Testing
@testable import SyncEngine

/// Standard Webhooks verification of BigCommerce deliveries (`WebhookVerifier`).
@Suite struct WebhookVerifierTests {
    static let clientSecret = Secret("bc-client-secret-4f7a")
    static let id = "msg_2Lk9aQ"
    static let timestamp = "1700000000"
    static let now = Date(timeIntervalSince1970: 1_700_000_000)
    static let body = Data(#"{"scope":"store/order/created","store_id":"1025646","data":{"type":"order","id":250},"hash":"dd70c0976e06b67aaf671e73f49dcb79230ebf9d","created_at":1700000000,"producer":"stores/abc123"}"#.utf8)
    /// `base64(hmac.new(b"bc-client-secret-4f7a", b"msg_2Lk9aQ.1700000000." + body, hashlib.sha256).digest())`,
    /// computed with Python's `hmac` module.
    static let knownSignature = "v1,M1VDbP4fH7diCtXMLtCymThPwGZQFIPwzUvN7zoneBc="

    static func verifier(_ mode: WebhookVerificationMode = .signature, secret: Secret? = clientSecret,
                         headerSecret: Secret? = nil) -> WebhookVerifier {
        WebhookVerifier(mode: mode, signingKey: secret.map(WebhookVerifier.signingKey(clientSecret:)), headerSecret: headerSecret)
    }

    static func headers(signature: String? = knownSignature, id: String? = id, timestamp: String? = timestamp,
                        token: String? = nil) -> WebhookHeaders {
        WebhookHeaders(id: id, timestamp: timestamp, signature: signature, token: token)
    }

    @Test func hmacMatchesAWidelyPublishedValue() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), a widely published value.
        let mac = WebhookVerifier.hmacSHA256(key: Data("key".utf8), message: Data("The quick brown fox jumps over the lazy dog".utf8))
        #expect(mac.map { String(format: "%02x", $0) }.joined() == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
    }

    @Test func knownAnswerSignatureVerifies() throws {
        let key = WebhookVerifier.signingKey(clientSecret: Self.clientSecret)
        #expect(WebhookVerifier.signature(key: key, id: Self.id, timestamp: Self.timestamp, body: Self.body) == Self.knownSignature)
        try Self.verifier().verify(headers: Self.headers(), body: Self.body, now: Self.now)
    }

    @Test func standardWebhooksSpecVectorWithWhsecPrefix() throws {
        // The example of the Standard Webhooks specification (a `whsec_` secret is base64-decoded).
        let secret = Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let body = Data(#"{"test": 2432232314}"#.utf8)
        let headers = WebhookHeaders(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: "1614265330",
                                     signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        try Self.verifier(secret: secret).verify(headers: headers, body: body, now: Date(timeIntervalSince1970: 1_614_265_330))
    }

    @Test func whsecFormOfTheSameSecretGivesTheSameKey() {
        // base64("bc-client-secret-4f7a") = YmMtY2xpZW50LXNlY3JldC00Zjdh
        #expect(WebhookVerifier.signingKey(clientSecret: Secret("whsec_YmMtY2xpZW50LXNlY3JldC00Zjdh"))
                == WebhookVerifier.signingKey(clientSecret: Self.clientSecret))
        #expect(WebhookVerifier.signingKey(clientSecret: Self.clientSecret) == Data("bc-client-secret-4f7a".utf8))
    }

    @Test func wrongSecretIsRefused() {
        let rejection = Self.verifier(secret: Secret("another-secret")).check(headers: Self.headers(), body: Self.body, now: Self.now)
        #expect(rejection == .noValidSignature)
    }

    @Test func tamperedBodyIsRefused() {
        var body = Self.body
        body[body.firstIndex(of: UInt8(ascii: "5"))!] = UInt8(ascii: "6") // order 250 → 260
        #expect(Self.verifier().check(headers: Self.headers(), body: body, now: Self.now) == .noValidSignature)
        #expect(Self.verifier().check(headers: Self.headers(), body: Self.body + Data(" ".utf8), now: Self.now) == .noValidSignature)
    }

    @Test func tamperedIdOrTimestampIsRefused() {
        #expect(Self.verifier().check(headers: Self.headers(id: "msg_other"), body: Self.body, now: Self.now) == .noValidSignature)
        #expect(Self.verifier().check(headers: Self.headers(timestamp: "1700000001"), body: Self.body, now: Self.now) == .noValidSignature)
    }

    @Test func timestampTenMinutesOldOrAheadIsRefused() {
        let verifier = Self.verifier()
        #expect(verifier.check(headers: Self.headers(), body: Self.body, now: Self.now.addingTimeInterval(600)) == .timestampOutOfTolerance)
        #expect(verifier.check(headers: Self.headers(), body: Self.body, now: Self.now.addingTimeInterval(-600)) == .timestampOutOfTolerance)
        // The edges of the ±5 minute window are inside.
        #expect(verifier.check(headers: Self.headers(), body: Self.body, now: Self.now.addingTimeInterval(300)) == nil)
        #expect(verifier.check(headers: Self.headers(), body: Self.body, now: Self.now.addingTimeInterval(-300)) == nil)
        #expect(verifier.check(headers: Self.headers(), body: Self.body, now: Self.now.addingTimeInterval(301)) == .timestampOutOfTolerance)
    }

    @Test func malformedTimestampIsRefused() {
        for bad in ["abc", "-1700000000", "1700000000.5", "1e9"] {
            #expect(Self.verifier().check(headers: Self.headers(timestamp: bad), body: Self.body, now: Self.now) == .malformedTimestamp, "\(bad)")
        }
    }

    @Test func oneValidSignatureAmongSeveralIsEnough() throws {
        let other = "v1,\(Data(repeating: 7, count: 32).base64EncodedString())"
        let header = "\(other) v1,not-base64!! \(Self.knownSignature) v1,\(Data(repeating: 1, count: 5).base64EncodedString())"
        try Self.verifier().verify(headers: Self.headers(signature: header), body: Self.body, now: Self.now)
        #expect(Self.verifier().check(headers: Self.headers(signature: "\(other) \(other)"), body: Self.body, now: Self.now) == .noValidSignature)
    }

    @Test func otherSignatureVersionsAreIgnored() {
        let digest = String(Self.knownSignature.dropFirst(3))
        // The right bytes under `v1a,` (ed25519) or `v2,` do not count.
        #expect(Self.verifier().check(headers: Self.headers(signature: "v1a,\(digest)"), body: Self.body, now: Self.now) == .noValidSignature)
        #expect(Self.verifier().check(headers: Self.headers(signature: "v2,\(digest) v1a,\(digest)"), body: Self.body, now: Self.now) == .noValidSignature)
        #expect(Self.verifier().check(headers: Self.headers(signature: digest), body: Self.body, now: Self.now) == .noValidSignature)
    }

    @Test func missingHeadersAreRefused() {
        let v = Self.verifier()
        #expect(v.check(headers: Self.headers(signature: nil), body: Self.body, now: Self.now) == .missingSignatureHeaders)
        #expect(v.check(headers: Self.headers(id: nil), body: Self.body, now: Self.now) == .missingSignatureHeaders)
        #expect(v.check(headers: Self.headers(timestamp: nil), body: Self.body, now: Self.now) == .missingSignatureHeaders)
        #expect(v.check(headers: Self.headers(signature: ""), body: Self.body, now: Self.now) == .missingSignatureHeaders)
        #expect(v.check(headers: WebhookHeaders(), body: Self.body, now: Self.now) == .missingSignatureHeaders)
    }

    @Test func noStoredClientSecretIsARefusalNotAPass() {
        #expect(Self.verifier(secret: nil).check(headers: Self.headers(), body: Self.body, now: Self.now) == .noSigningSecret)
        #expect(Self.verifier(secret: Secret("")).check(headers: Self.headers(), body: Self.body, now: Self.now) == .noSigningSecret)
    }

    @Test func headerSecretMode() {
        let v = Self.verifier(.header, secret: nil, headerSecret: Secret("tok-123"))
        // No signature needed in this mode.
        #expect(v.check(headers: WebhookHeaders(token: "tok-123"), body: Self.body, now: Self.now) == nil)
        #expect(v.check(headers: WebhookHeaders(token: "tok-124"), body: Self.body, now: Self.now) == .tokenMismatch)
        #expect(v.check(headers: WebhookHeaders(token: "tok-1234"), body: Self.body, now: Self.now) == .tokenMismatch)
        #expect(v.check(headers: WebhookHeaders(token: "tok-12"), body: Self.body, now: Self.now) == .tokenMismatch)
        #expect(v.check(headers: WebhookHeaders(token: ""), body: Self.body, now: Self.now) == .missingToken)
        #expect(v.check(headers: Self.headers(), body: Self.body, now: Self.now) == .missingToken)
        let unconfigured = Self.verifier(.header, secret: nil, headerSecret: nil)
        #expect(unconfigured.check(headers: WebhookHeaders(token: "tok-123"), body: Self.body, now: Self.now) == .noHeaderSecret)
    }

    @Test func bothModeNeedsBoth() {
        let v = Self.verifier(.both, headerSecret: Secret("tok-123"))
        #expect(v.check(headers: Self.headers(token: "tok-123"), body: Self.body, now: Self.now) == nil)
        #expect(v.check(headers: Self.headers(token: nil), body: Self.body, now: Self.now) == .missingToken)
        #expect(v.check(headers: Self.headers(token: "nope"), body: Self.body, now: Self.now) == .tokenMismatch)
        #expect(v.check(headers: Self.headers(signature: nil, token: "tok-123"), body: Self.body, now: Self.now) == .missingSignatureHeaders)
        #expect(v.check(headers: Self.headers(token: "tok-123"), body: Self.body, now: Self.now.addingTimeInterval(-600)) == .timestampOutOfTolerance)
    }

    @Test func signatureModeIgnoresTheHeaderSecret() {
        let v = Self.verifier(.signature, headerSecret: Secret("tok-123"))
        #expect(v.check(headers: Self.headers(token: "wrong"), body: Self.body, now: Self.now) == nil)
    }

    @Test func constantTimeEqualityNeedsEqualLengthsAndBytes() {
        #expect(WebhookVerifier.constantTimeEqual(Data([1, 2, 3]), Data([1, 2, 3])))
        #expect(!WebhookVerifier.constantTimeEqual(Data([1, 2, 3]), Data([1, 2, 4])))
        #expect(!WebhookVerifier.constantTimeEqual(Data([1, 2, 3]), Data([1, 2])))
        #expect(!WebhookVerifier.constantTimeEqual(Data(), Data()))
    }

    @Test func rejectionTextsNameNoSecretOrValue() {
        for rejection in [WebhookRejection.noSigningSecret, .missingSignatureHeaders, .malformedTimestamp, .timestampOutOfTolerance,
                          .noValidSignature, .noHeaderSecret, .missingToken, .tokenMismatch] {
            #expect(!rejection.description.contains(Self.clientSecret.reveal()))
            #expect(!rejection.description.contains("tok-123"))
        }
    }
}

/// Reading a delivery body into (scope, entity id, hash) and choosing its inbox key (`WebhookEvent`).
@Suite struct WebhookDeliveryTests {
    static func body(_ text: String) -> Data { Data(text.utf8) }

    @Test func orderScopesGiveTheOrderID() throws {
        let e = try WebhookEvent.parse(Self.body(#"{"scope":"store/order/statusUpdated","store_id":"1","data":{"type":"order","id":250,"status":{"previous_status_id":1,"new_status_id":11}},"hash":"abc","created_at":1,"producer":"stores/x"}"#))
        #expect(e == WebhookEvent(scope: "store/order/statusUpdated", entityID: 250, hash: "abc", createdAt: "1"))
        #expect(e.isHandled)
    }

    @Test func refundScopeKeepsTheOrderID() throws {
        let e = try WebhookEvent.parse(Self.body(#"{"scope":"store/order/refund/created","data":{"type":"order","id":118,"refund":{"refund_id":9}},"hash":"h"}"#))
        #expect(e.entityID == 118)
    }

    @Test func transactionScopeUsesOrderID() throws {
        let e = try WebhookEvent.parse(Self.body(#"{"scope":"store/order/transaction/created","data":{"type":"transaction","order_id":"77","transaction_id":"t1"}}"#))
        #expect(e.entityID == 77)
    }

    @Test func customerScopes() throws {
        #expect(try WebhookEvent.parse(Self.body(#"{"scope":"store/customer/updated","data":{"type":"customer","id":42}}"#)).entityID == 42)
        let address = try WebhookEvent.parse(Self.body(#"{"scope":"store/customer/address/updated","data":{"type":"customer","id":900,"address":{"customer_id":42}}}"#))
        #expect(address.entityID == 42)
    }

    @Test func unhandledScopesCarryNoEntity() throws {
        let e = try WebhookEvent.parse(Self.body(#"{"scope":"store/cart/created","data":{"type":"cart","id":"09346904-4175-44fd-be53-f7e598531b6c"}}"#))
        #expect(!e.isHandled)
        #expect(e.entityID == nil)
        #expect(e.inboxDelivery(deliveryID: "x", receivedAt: Date()) == nil)
    }

    @Test(arguments: ["", "not json", "[1,2]", "\"text\"", #"{"data":{"id":1}}"#, #"{"scope":""}"#, #"{"scope":5,"data":{"id":1}}"#])
    func unreadableBodies(_ text: String) {
        #expect(throws: WebhookPayloadError.self) { try WebhookEvent.parse(Self.body(text)) }
    }

    @Test(arguments: [#"{"scope":"store/order/created"}"#, #"{"scope":"store/order/created","data":{}}"#,
                      #"{"scope":"store/order/created","data":{"id":"abc"}}"#, #"{"scope":"store/order/created","data":{"id":0}}"#,
                      #"{"scope":"store/order/created","data":{"id":-4}}"#, #"{"scope":"store/customer/address/created","data":{"id":3}}"#])
    func handledScopeWithoutEntityID(_ text: String) {
        #expect(throws: WebhookPayloadError.noEntityID) { try WebhookEvent.parse(Self.body(text)) }
    }

    @Test func deliveryIDPrefersTheHeaderThenTheHashThenTheBody() {
        let body = Self.body("{}")
        #expect(WebhookEvent.deliveryID(header: "msg_1", hash: "h", body: body) == "msg_1")
        #expect(WebhookEvent.deliveryID(header: nil, hash: "h", body: body) == "h")
        #expect(WebhookEvent.deliveryID(header: "  ", hash: "h", body: body) == "h")
        #expect(WebhookEvent.deliveryID(header: "bad id\n", hash: "h", body: body) == "h")
        #expect(WebhookEvent.deliveryID(header: String(repeating: "a", count: 201), hash: "h", body: body) == "h")
        #expect(WebhookEvent.deliveryID(header: nil, hash: nil, body: body) == "sha256:" + Fingerprint.sha256Hex(body))
    }

    /// Without a `webhook-id`, two events of one order that share a `hash` (if BigCommerce's hash covered only the
    /// data) are still two deliveries; a retry of one event (same body) is still one.
    @Test func payloadKeyKeepsDistinctEventsOfOneOrderApart() throws {
        func event(_ scope: String, _ createdAt: Int) throws -> WebhookEvent {
            try WebhookEvent.parse(Self.body(#"{"scope":"\#(scope)","data":{"type":"order","id":250},"hash":"samehash","created_at":\#(createdAt)}"#))
        }
        let first = try event("store/order/updated", 100)
        let retry = try event("store/order/updated", 100)
        let later = try event("store/order/updated", 160)
        let status = try event("store/order/statusUpdated", 100)
        let key = { (e: WebhookEvent) in WebhookEvent.deliveryID(header: nil, hash: e.dedupeKey, body: Data()) }
        #expect(key(first) == key(retry))
        #expect(key(first) != key(later))
        #expect(key(first) != key(status))
        #expect(WebhookEvent.usableDeliveryID(first.dedupeKey) != nil, "the key is a usable inbox id")
    }

    @Test func inboxRowHoldsOnlyTheIDs() throws {
        let e = try WebhookEvent.parse(Self.body(#"{"scope":"store/order/created","data":{"type":"order","id":5,"extra":"ignored"},"hash":"h"}"#))
        let at = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(e.inboxDelivery(deliveryID: "msg_1", receivedAt: at) == InboxDelivery(deliveryID: "msg_1", scope: "store/order/created", entityID: 5, receivedAt: at))
    }
}
