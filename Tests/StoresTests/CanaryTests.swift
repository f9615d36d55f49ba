import Foundation
import Testing
@testable import Stores

@Suite struct CanaryTests {
    let home = TempHome()

    @Test func secretValuesNeverReachTheDatabaseFiles() throws {
        let canary = "CANARY-5e1f0c2a-secret-value"
        let tokenCanary = "CANARY-access-token-93b7"
        let store = try makeStore(home)
        try store.setSecret(Secret(canary), name: "zoho.refresh_token")
        try store.saveZohoSession(ZohoSession(accessToken: Secret(tokenCanary), expiresAt: t(3600), apiDomain: "https://www.zohoapis.com"))
        try store.appendAudit(AuditEvent(time: t(), runID: "r", entityKey: "order:1", action: "auth.refresh", outcome: "ok"))
        #expect(try store.secret("zoho.refresh_token")?.reveal() == canary)

        for file in ["state.db", "state.db-wal"] {
            guard let bytes = FileManager.default.contents(atPath: home.path(file)) else { continue }
            #expect(bytes.range(of: Data(canary.utf8)) == nil, "\(file) holds the secret in clear")
            #expect(bytes.range(of: Data(tokenCanary.utf8)) == nil, "\(file) holds the access token in clear")
        }
        // The key is not in the database either.
        let key = try MasterKey.create(home: home.url)
        let keyStore = try makeStore(home, key: key)
        try keyStore.setSecret(Secret(canary), name: "x")
        let keyText = try String(contentsOfFile: MasterKey.keyFileURL(home: home.url).path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        for file in ["state.db", "state.db-wal"] {
            guard let bytes = FileManager.default.contents(atPath: home.path(file)) else { continue }
            #expect(bytes.range(of: Data(keyText.utf8)) == nil)
            #expect(bytes.range(of: Data(canary.utf8)) == nil)
        }
        #expect("\(Secret(canary))" == "‹redacted›")
    }
}
