import Foundation
import Testing
@testable import SyncEngine
import Stores

/// Zoho access tokens against the sandbox's accounts server: kept across processes, refreshed once when the
/// server expires one, and a revoked refresh token ends in a re-authorization error that leaks no secret.
@Suite(.timeLimit(.minutes(2)))
struct SandboxZohoTokenTests {
    /// A few ordinary calls, as one short run would make.
    static func work(_ client: ZohoBooksClient, _ tag: String) async throws {
        _ = try await client.organization()
        _ = try await client.items(sku: "TOKEN-\(tag)")
        _ = try await client.invoices(number: "BC-\(tag)")
        _ = try await client.taxes()
    }

    static func tokenRequests(_ sandbox: SandboxProcess) async throws -> [SandboxRequest] {
        try await sandbox.requests(api: "accounts").filter(\.isTokenRequest)
    }

    @Test func threeProcessesWithinOneHourRefreshOnce() async throws {
        let sandbox = try await SandboxProcess.start()
        defer { sandbox.stop() }
        let home = try SandboxHome()
        defer { home.remove() }
        let clock = ScaledClock(start: Date(timeIntervalSince1970: try await sandbox.now()), scale: 1)

        var perProcess: [Int] = []
        // Processes start at 0, 25 and 50 minutes: all within the token's hour, each more than five
        // minutes before its expiry.
        for n in 0..<3 {
            if n > 0 {
                try await sandbox.advance(25 * 60)
                clock.advance(by: 25 * 60)
            }
            // A new process: a new store object on the same file, a new auth, limiter and client.
            let zoho = try SandboxZoho.make(sandbox, home: home, clock: clock, requestsPerMinute: 100)
            try await Self.work(zoho.client, "P\(n)")
            perProcess.append(try await Self.tokenRequests(sandbox).count)
        }
        let zohoCalls = try await sandbox.requests(api: "zoho")
        let refused = zohoCalls.filter { $0.status != 200 }
        let figures = "token requests after each process: \(perProcess); Zoho calls \(zohoCalls.count), not 200: \(refused)"
        print("token refresh across processes: \(figures)")
        #expect(perProcess == [1, 1, 1], "three processes within one simulated hour refresh once in total: \(figures)")
        #expect(refused.isEmpty, "\(figures)")
    }

    @Test func aTokenExpiredMidRunIsRefreshedOnceAndTheCallSucceeds() async throws {
        let sandbox = try await SandboxProcess.start()
        defer { sandbox.stop() }
        let home = try SandboxHome()
        defer { home.remove() }
        let zoho = try SandboxZoho.make(sandbox, home: home, clock: SystemClock(), requestsPerMinute: 100)
        try await Self.work(zoho.client, "A")
        let before = try await Self.tokenRequests(sandbox).count
        let oldToken = try #require(try zoho.store.zohoSession()).accessToken

        try await sandbox.addFault(["match": ["api": "zoho", "method": "GET", "path_regex": "^/books/v3/items$"],
                                    "action": "expire_token", "times": 1])
        let items = try await zoho.client.items(sku: "AFTER-EXPIRY")
        #expect(items.isEmpty)
        try await Self.work(zoho.client, "B")
        let after = try await Self.tokenRequests(sandbox).count
        let newToken = try #require(try zoho.store.zohoSession()).accessToken
        let log = try await sandbox.requests(api: "zoho")
        let unauthorized = log.filter { $0.status == 401 }
        let figures = "token requests before the fault \(before), after \(after); 401 replies: \(unauthorized)"
        print("expired token mid-run: \(figures)")
        #expect(before == 1, "\(figures)")
        #expect(after == 2, "exactly one more refresh: \(figures)")
        #expect(unauthorized.count == 1 && unauthorized.first?.fault == "expire_token", "\(figures)")
        #expect(newToken != oldToken, "the new token is stored for the next process")
        let itemsCalls = log.filter { $0.path == "/books/v3/items" }
        #expect(itemsCalls.last?.status == 200)
    }

    @Test func aRevokedRefreshTokenAsksForReauthorizationWithoutLeakingSecrets() async throws {
        let sandbox = try await SandboxProcess.start()
        defer { sandbox.stop() }
        let home = try SandboxHome()
        defer { home.remove() }
        let zoho = try SandboxZoho.make(sandbox, home: home, clock: SystemClock(), requestsPerMinute: 100)
        try await Self.work(zoho.client, "R")
        let accessToken = try #require(try zoho.store.zohoSession()).accessToken.reveal()

        try await sandbox.control("/_sandbox/zoho/revoke", [:])
        try await sandbox.addFault(["match": ["api": "zoho", "path_regex": "^/books/v3/"], "action": "expire_token", "times": 1])
        var caught: RemoteError?
        do {
            _ = try await zoho.client.items(sku: "AFTER-REVOKE")
            Issue.record("a call after the refresh token was revoked succeeded")
        } catch let error as RemoteError {
            caught = error
        }
        let error = try #require(caught)
        let text = "\(error)"
        guard case .authorization(.zoho, _) = error else {
            Issue.record("expected .authorization(.zoho, …), got \(text)")
            return
        }
        #expect(text.contains("re-authorize"), "the message says what to do: \(text)")
        let tokenRequests = try await Self.tokenRequests(sandbox)
        #expect(tokenRequests.count == 2, "one refresh, one refused refresh attempt, no loop: \(tokenRequests)")
        #expect(tokenRequests.last?.code == "invalid_code", "\(tokenRequests)")

        let secrets = SandboxZoho.credentialValues + [accessToken]
        let logText = zoho.logs.allText
        for secret in secrets {
            #expect(!text.contains(secret), "the error description must not contain a secret")
            #expect(!logText.contains(secret), "the logs must not contain a secret")
        }
        #expect(!logText.isEmpty, "the run was logged (at debug level)")
        print("revoked refresh token: \(text); token requests \(tokenRequests.map(\.description)); \(zoho.logs.records.count) log records checked")
    }
}
