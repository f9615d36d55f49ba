import Foundation
import Testing
@testable import SyncEngine

@Suite struct ZohoAuthTests {
    static let refreshedToken = "1000.2b3c4d5e6f708192a3b4c5d6e7f80912.a1b2c3d4e5f60718293a4b5c6d7e8f90"

    @Test func storedSessionIsReusedAcrossRuns() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("GET", "/books/v3/invoices/982000000567114", .fixture("invoices.get.sent"))
        // Two "runs": two clients and auth actors over the same token store.
        for _ in 0..<2 {
            let client = h.makeClient()
            _ = try await client.invoice(id: "982000000567114")
        }
        #expect(h.transport.tokenRequests.isEmpty)
        #expect(h.transport.apiRequests.count == 2)
        let auth = h.transport.apiRequests[0].headers["Authorization"]
        #expect(auth == "Zoho-oauthtoken \(ZohoHarness.validToken)")
        #expect(!h.transport.apiRequests[0].url.absoluteString.contains(ZohoHarness.validToken))
    }

    @Test func refreshesWhenFewerThanFiveMinutesRemain() async throws {
        let h = ZohoHarness()
        try h.seedSession(expiresIn: 3600)
        h.transport.on("POST", "/oauth/v2/token", .fixture("token.refresh.ok"))
        let auth = h.makeAuth()
        _ = try await auth.session()
        h.clock.advance(by: 55 * 60 - 1)  // 301 s left: still fine
        _ = try await auth.session()
        #expect(h.transport.tokenRequests.isEmpty)
        h.clock.advance(by: 2)  // 299 s left
        let fresh = try await auth.session()
        #expect(h.transport.tokenRequests.count == 1)
        #expect(fresh.accessToken == Secret(Self.refreshedToken))
        #expect(fresh.expiresAt == h.clock.now().addingTimeInterval(3600))
        // The organization resolved earlier survives the refresh, and the new session is persisted.
        #expect(fresh.organizationID == ZohoHarness.organizationID)
        #expect(try h.tokens.zohoSession()?.accessToken == fresh.accessToken)
        #expect(try h.tokens.refreshAttempts(since: .distantPast) == 1)
    }

    @Test func refreshRequestIsAFormBodyAtTheRegionsAccountsServer() async throws {
        let h = ZohoHarness()
        h.transport.on("POST", "/oauth/v2/token", .fixture("token.refresh.ok"))
        _ = try await h.makeAuth().session()
        let request = try #require(h.transport.tokenRequests.first)
        #expect(request.url.absoluteString == "https://accounts.zoho.com/oauth/v2/token")
        #expect(request.url.query == nil)
        #expect(request.headers["Content-Type"] == "application/x-www-form-urlencoded")
        #expect(request.zohoFormBody == ["refresh_token": ZohoHarness.refreshToken.reveal(), "client_id": "1000.CLIENTID0123456789",
                                     "client_secret": ZohoHarness.clientSecret.reveal(), "grant_type": "refresh_token"])
        let logs = h.logSink.allText
        for secret in [ZohoHarness.refreshToken.reveal(), ZohoHarness.clientSecret.reveal(), Self.refreshedToken] {
            #expect(!logs.contains(secret))
        }
    }

    @Test func missingExpiresInMeansAnHour() async throws {
        var h = ZohoHarness()
        h.allowCustomAPIDomain = false
        let auth = ZohoAuth(credentials: ZohoCredentials(clientID: "id", clientSecret: ZohoHarness.clientSecret,
                                                         refreshToken: ZohoHarness.refreshToken, region: .eu),
                            tokens: h.tokens, transport: h.transport, clock: h.clock)
        h.transport.on("POST", "/oauth/v2/token", .fixture("token.refresh.no-expiry"))
        let s = try await auth.session()
        #expect(s.expiresAt == h.clock.now().addingTimeInterval(3600))
        #expect(s.apiDomain == "https://www.zohoapis.eu")
        #expect(h.transport.tokenRequests.first?.url.host == "accounts.zoho.eu")
    }

    @Test func foreignAPIDomainIsRefusedUnlessAllowed() async throws {
        let h = ZohoHarness()
        h.transport.on("POST", "/oauth/v2/token", .fixture("token.refresh.foreign-domain"))
        await #expect(throws: ZohoConfigurationError.apiDomainRefused("books.attacker.example")) { _ = try await h.makeAuth().session() }
        #expect(try h.tokens.zohoSession() == nil)

        var sandbox = ZohoHarness()
        sandbox.allowCustomAPIDomain = true
        sandbox.transport.on("POST", "/oauth/v2/token", .body(#"{"access_token":"1000.x","api_domain":"http://127.0.0.1:8765","expires_in":3600}"#, status: 200))
        #expect(try await sandbox.makeAuth().session().apiDomain == "http://127.0.0.1:8765")
    }

    @Test func tokenEndpointErrorWithHTTP200NeedsReauthorization() async throws {
        let h = ZohoHarness()
        h.transport.on("POST", "/oauth/v2/token", .fixture("token.error-200", status: 200))
        await expectRemoteError({ _ = try await h.makeAuth().session() }) {
            if case .authorization(.zoho, let m) = $0 { return m.contains("re-authorize with `zbsync auth zoho`") && m.contains("invalid_code") }
            return false
        }
        #expect(try h.tokens.zohoSession() == nil)
    }

    @Test(arguments: ["invalid_token", "invalid_client", "invalid_grant"])
    func refusedCredentialsNeedReauthorization(_ error: String) async throws {
        let h = ZohoHarness()
        h.transport.on("POST", "/oauth/v2/token", .body(#"{"error":"\#(error)"}"#, status: 400))
        await expectRemoteError({ _ = try await h.makeAuth().session() }) {
            if case .authorization(.zoho, let m) = $0 { return m.contains("zbsync auth zoho") }
            return false
        }
    }

    @Test(arguments: [200, 400])
    func throttledRefreshSaysWaitAndStopsAsking(_ status: Int) async throws {
        let h = ZohoHarness()
        h.transport.on("POST", "/oauth/v2/token", .fixture("token.throttled", status: status))
        let auth = h.makeAuth()
        await expectRemoteError({ _ = try await auth.session() }) { $0 == .rateLimited(.zoho, code: nil, retryAfter: 900) }
        // Within the pause this process does not ask again (asking extends Zoho's throttle).
        h.clock.advance(by: 600)
        await expectRemoteError({ _ = try await auth.session() }) {
            if case .rateLimited(.zoho, nil, let after?) = $0 { return after > 0 && after <= 300 }
            return false
        }
        #expect(h.transport.tokenRequests.count == 1)
    }

    @Test func refreshGuardHoldsBackTheSeventhRefreshInTenMinutes() async throws {
        let h = ZohoHarness()
        for minutesAgo in [9.0, 8.0, 6.0, 5.0, 3.0, 1.0] {
            try h.tokens.recordRefreshAttempt(at: h.clock.now().addingTimeInterval(-minutesAgo * 60))
        }
        h.transport.on("POST", "/oauth/v2/token", .fixture("token.refresh.ok"))
        // A pause (exit 75, everything queued), not a refused credential.
        await expectRemoteError({ _ = try await h.makeAuth().session() }) { $0 == .rateLimited(.zoho, code: nil, retryAfter: 600) }
        #expect(h.transport.tokenRequests.isEmpty)
        // Once the oldest attempt leaves the window, a refresh is allowed again.
        h.clock.advance(by: 61)
        _ = try await h.makeAuth().session()
        #expect(h.transport.tokenRequests.count == 1)
    }

    @Test func concurrentCallersShareOneRefresh() async throws {
        let h = ZohoHarness()
        h.transport.on("POST", "/oauth/v2/token", .fixture("token.refresh.ok"))
        let auth = h.makeAuth()
        let tokens = try await withThrowingTaskGroup(of: Secret.self) { group in
            for _ in 0..<8 { group.addTask { try await auth.session().accessToken } }
            var out: [Secret] = []
            for try await t in group { out.append(t) }
            return out
        }
        #expect(Set(tokens.map { $0.reveal() }) == [Self.refreshedToken])
        #expect(h.transport.tokenRequests.count == 1)
    }

    @Test func unauthorizedCallRefreshesOnceAndRetries() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("POST", "/oauth/v2/token", .fixture("token.refresh.ok"))
        h.transport.on("GET", "/books/v3/invoices/982000000567114",
                       .fixture("errors.14", status: 401), .fixture("invoices.get.sent"))
        let invoice = try await h.makeClient().invoice(id: "982000000567114")
        #expect(invoice.status == "sent")
        #expect(h.transport.tokenRequests.count == 1)
        let calls = h.transport.apiRequests
        #expect(calls.count == 2)
        #expect(calls[1].headers["Authorization"] == "Zoho-oauthtoken \(Self.refreshedToken)")
    }

    @Test func concurrentUnauthorizedCallsShareOneRefresh() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("POST", "/oauth/v2/token", .fixture("token.refresh.ok"))
        let auth = h.makeAuth()
        let a = try await auth.refresh(replacing: Secret(ZohoHarness.validToken))
        let b = try await auth.refresh(replacing: Secret(ZohoHarness.validToken))
        #expect(a == b)
        #expect(h.transport.tokenRequests.count == 1)
    }

    @Test func code14WithHTTP200AlsoRefreshes() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("POST", "/oauth/v2/token", .fixture("token.refresh.ok"))
        h.transport.on("GET", "/books/v3/invoices/982000000567114", .fixture("errors.14", status: 200), .fixture("invoices.get.sent"))
        _ = try await h.makeClient().invoice(id: "982000000567114")
        #expect(h.transport.tokenRequests.count == 1)
    }

    @Test func secondUnauthorizedNeedsReauthorization() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("POST", "/oauth/v2/token", .fixture("token.refresh.ok"))
        h.transport.on("GET", "/books/v3/invoices/982000000567114", .fixture("errors.14", status: 401))
        await expectRemoteError({ _ = try await h.makeClient().invoice(id: "982000000567114") }) {
            if case .authorization(.zoho, let m) = $0 { return m.contains("re-authorize") }
            return false
        }
        #expect(h.transport.tokenRequests.count == 1)
        #expect(h.transport.apiRequests.count == 2)
    }

    @Test func code57AfterRefreshPointsAtScopes() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("POST", "/oauth/v2/token", .fixture("token.refresh.ok"))
        h.transport.on("GET", "/books/v3/chartofaccounts", .fixture("errors.57", status: 401))
        await expectRemoteError({ _ = try await h.makeClient().accounts() }) {
            if case .authorization(.zoho, let m) = $0 { return m.contains("scopes") && m.contains("code 57") }
            return false
        }
        #expect(h.transport.tokenRequests.count == 1)
    }

    @Test func grantCodeExchangeReturnsTheRefreshToken() async throws {
        let h = ZohoHarness()
        h.transport.on("POST", "/oauth/v2/token", .fixture("token.grant.ok"))
        let grant = try await ZohoAuth.exchangeGrantCode(code: Secret("1000.grantcode"), clientID: "1000.CLIENT",
                                                         clientSecret: ZohoHarness.clientSecret,
                                                         accountsURL: ZohoRegion.us.accountsURL, region: .us,
                                                         transport: h.transport, clock: h.clock)
        #expect(grant.refreshToken.reveal().hasPrefix("1000.9f8e7d6c"))
        #expect(grant.session.apiDomain == "https://www.zohoapis.com")
        #expect(h.transport.tokenRequests.first?.zohoFormBody["grant_type"] == "authorization_code")
        #expect(h.transport.tokenRequests.first?.zohoFormBody["code"] == "1000.grantcode")
        #expect("\(grant.refreshToken)" == "‹redacted›")

        h.transport.on("POST", "/oauth/v2/token", .fixture("token.error-200"))
        await expectRemoteError({
            _ = try await ZohoAuth.exchangeGrantCode(code: Secret("old"), clientID: "c", clientSecret: ZohoHarness.clientSecret,
                                                     accountsURL: ZohoRegion.us.accountsURL, region: .us,
                                                     transport: h.transport, clock: h.clock)
        }) {
            if case .authorization(.zoho, let m) = $0 { return m.contains("grant code expired") }
            return false
        }
    }
}

@Suite struct ZohoShortLivedTokenTests {
    @Test func shortLivedTokensAreNotRefreshedOnEveryCall() async throws {
        let h = ZohoHarness()
        h.transport.on("POST", "/oauth/v2/token", .body(#"{"access_token":"1000.short-lived-token","api_domain":"https://www.zohoapis.com","expires_in":60}"#, status: 200))
        let auth = h.makeAuth()
        _ = try await auth.session()
        h.clock.advance(by: 50)
        _ = try await auth.session()
        #expect(h.transport.tokenRequests.count == 1)
        h.clock.advance(by: 6)  // 4 s left, under 60 / 12
        _ = try await auth.session()
        #expect(h.transport.tokenRequests.count == 2)
    }
}
