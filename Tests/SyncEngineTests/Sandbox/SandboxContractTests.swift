import Foundation
import Testing
@testable import SyncEngine
import Stores

/// The shared source and sink contracts, run through the real clients against the sandbox process, so the
/// in-memory fakes and the clients are held to the same behaviour.
@Suite(.timeLimit(.minutes(2)))
struct SandboxContractTests {
    @Test func bigCommerceClientKeepsTheSourceContract() async throws {
        let sandbox = try await SandboxProcess.start()
        defer { sandbox.stop() }
        let client = sandbox.bigCommerceClient()
        try await BigCommerceSourceContract.run(source: client, seeder: sandbox.bigCommerceSeeder())
    }

    /// Every check of the sink contract, one after another on one sandbox (each check works under its own
    /// tag). The limits are raised so the checks are not slowed by the per-minute budget; the limiter has its
    /// own test at Zoho's real limit.
    @Test func zohoBooksClientKeepsTheSinkContract() async throws {
        let sandbox = try await SandboxProcess.start(["--zoho-rpm", "6000", "--zoho-daily", "100000"])
        defer { sandbox.stop() }
        let home = try SandboxHome()
        defer { home.remove() }
        let zoho = try SandboxZoho.make(sandbox, home: home, clock: SystemClock(), requestsPerMinute: 6000)
        var failed: [String] = []
        for name in ZohoBooksSinkContract.checks.keys.sorted() {
            let check = try #require(ZohoBooksSinkContract.checks[name])
            do {
                try await check(ZohoBooksSinkContract(sink: zoho.client))
            } catch {
                failed.append(name)
                Issue.record("contract check \(name) threw \(error)")
            }
        }
        let calls = try await sandbox.requests(api: "zoho")
        print("Zoho sink contract against the sandbox: \(ZohoBooksSinkContract.checks.count) checks, \(calls.count) Zoho calls, "
            + "threw: \(failed)")
    }
}
