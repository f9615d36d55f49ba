import Foundation
import Testing

extension SandboxEndToEnd.FaultSuites {
    /// Secrets hygiene end to end (DESIGN.md §3, §6): canary credentials through every path that touches them.
    @Suite struct FaultSecretsTests {
        /// Distinctive values the sandbox accepts in place of its defaults; none may appear anywhere zbsync writes
        /// in plain text.
        enum Canary {
            static let bigCommerceToken = "CANARYbcTok7Q2x9"
            static let bigCommerceClientSecret = "CANARYbcApp4K8w"
            static let webhookHeaderSecret = "CANARYhdr3M6v"
            static let zohoClientSecret = "CANARYzcs5N1p"
            static let zohoRefreshToken = "CANARYzrt8B2k"
            static let zohoGrantCode = "CANARYzgc6T9d"
            /// Given where a real one is expected, refused.
            static let wrongBigCommerceToken = "CANARYwrongBc2F"
            static let wrongZohoGrantCode = "CANARYwrongZg5H"

            static let all = [bigCommerceToken, bigCommerceClientSecret, webhookHeaderSecret, zohoClientSecret, zohoRefreshToken,
                              zohoGrantCode, wrongBigCommerceToken, wrongZohoGrantCode]
        }

        /// Invariant: with canary secrets, a failing `auth zoho` (a wrong grant code), a `doctor` with a wrong
        /// BigCommerce token, the real authorizations, a full `sync -v` (debug logging) with a lost reply and an
        /// expired access token (so the refresh sends the client secret and the refresh token), webhook deliveries
        /// (signed, forged and header-only), a revoked refresh token (exit 77), `status`, `status --json`, `audit`,
        /// `audit --json` and `doctor`: no canary, no master key and no access token appears in any stdout or
        /// stderr, and no canary or access token appears in the bytes of any file in the home folder (state
        /// database with its WAL, config, logs), the master key file aside.
        @Test func canarySecretsNeverAppearInOutputAuditStatusOrState() throws {
            let started = Date()
            let options = SandboxOptions(seed: 41, orders: 10, extra: [
                "--bc-token", Canary.bigCommerceToken, "--zoho-client-secret", Canary.zohoClientSecret,
                "--zoho-refresh-token", Canary.zohoRefreshToken, "--zoho-grant-code", Canary.zohoGrantCode,
            ])
            let world = try SandboxWorld(options, authorize: false)
            defer { world.close() }
            let sandbox = world.sandbox
            var runs: [SandboxRun] = []
            func run(_ arguments: [String], environment: [String: String] = [:]) throws -> SandboxRun {
                let r = try world.run(arguments, environment: environment, timeout: 180)
                runs.append(r)
                return r
            }
            let zohoAuth = ["auth", "zoho", "--region", "us", "--client-id", SandboxSecrets.zohoClientID]

            // Failing authorizations first.
            let badCode = try run(zohoAuth + ["--code", Canary.wrongZohoGrantCode], environment: ["ZBSYNC_ZOHO_CLIENT_SECRET": Canary.zohoClientSecret])
            #expect(badCode.exitCode != 0, "a wrong grant code must fail: \(badCode)")
            _ = try run(["auth", "bigcommerce", "--store-hash", SandboxSecrets.storeHash], environment: ["ZBSYNC_BIGCOMMERCE_TOKEN": Canary.wrongBigCommerceToken])
            let badDoctor = try run(["doctor"])
            #expect(badDoctor.exitCode != 0, "doctor with a wrong BigCommerce token must fail: \(badDoctor)")

            // The real ones.
            let bc = try run(["auth", "bigcommerce", "--store-hash", SandboxSecrets.storeHash],
                             environment: ["ZBSYNC_BIGCOMMERCE_TOKEN": Canary.bigCommerceToken,
                                           "ZBSYNC_BIGCOMMERCE_CLIENT_SECRET": Canary.bigCommerceClientSecret,
                                           "ZBSYNC_WEBHOOK_HEADER_SECRET": Canary.webhookHeaderSecret])
            let zoho = try run(zohoAuth + ["--code", Canary.zohoGrantCode], environment: ["ZBSYNC_ZOHO_CLIENT_SECRET": Canary.zohoClientSecret])
            try #require(bc.exitCode == 0 && zoho.exitCode == 0, "authorization failed:\n\(bc)\n\(zoho)")

            // A full sync with debug logs, a lost reply and a token Zoho rejects (so a refresh is made).
            try sandbox.addFaults([
                ["match": ["api": "zoho", "path_regex": "^/books/v3/"], "action": "expire_token", "code": 14, "times": 1, "after": 3],
                ["match": ["api": "zoho", "method": "POST", "path_regex": "^/books/v3/invoices$"], "action": "status_after_apply", "status": 502, "times": 1],
            ])
            let sync = try run(["sync", "-v"])
            var tally = FaultTally()
            try tally.collect(sandbox)
            try sandbox.clearFaults()
            let again = try run(["sync", "-v"])
            #expect([0, 1].contains(sync.exitCode) && again.exitCode == 0, "the sync runs must finish:\n\(sync)\n\(again)")
            let refreshes = try sandbox.timedRequests(since: 0).filter { $0.api == "accounts" }.count
            #expect(refreshes >= 2, "the client secret and refresh token must have been used (grant exchange and a refresh); token requests: \(refreshes)")

            // Webhook deliveries: signed, forged, header secret only, unreadable.
            let body = WebhookSender.payload(id: 101)
            var deliveries: [CGIReply] = []
            deliveries.append(try runWebhookCGI(home: world.home, scratch: world.scratch, body: body,
                                                headers: try WebhookSender.signedHeaders(secret: Canary.bigCommerceClientSecret, id: "msg_canary_1", body: body),
                                                extraEnvironment: ["ZBSYNC_WEBHOOK_HEADER_SECRET": Canary.webhookHeaderSecret]))
            deliveries.append(try runWebhookCGI(home: world.home, scratch: world.scratch, body: body,
                                                headers: try WebhookSender.signedHeaders(secret: "not-the-secret", id: "msg_canary_2", body: body),
                                                extraEnvironment: ["ZBSYNC_WEBHOOK_HEADER_SECRET": Canary.webhookHeaderSecret]))
            deliveries.append(try runWebhookCGI(home: world.home, scratch: world.scratch, body: Data("{".utf8),
                                                headers: ["X-Zbsync-Token": Canary.webhookHeaderSecret],
                                                extraEnvironment: ["ZBSYNC_WEBHOOK_HEADER_SECRET": Canary.webhookHeaderSecret]))
            #expect(deliveries[0].status == 200 && deliveries[1].status == 401, "signed → 200, forged → 401: \(deliveries.map(\.description))")

            // A revoked refresh token: the next refresh fails with exit 77.
            try sandbox.revokeRefreshToken()
            try sandbox.addFaults([["match": ["api": "zoho", "path_regex": "^/books/v3/"], "action": "expire_token", "code": 14, "times": 1]])
            _ = try sandbox.createOrder(["lines": [["name": "Canary item", "sku": "CAN-1", "price": "5.00", "quantity": 1]], "status_id": 11, "payment": "purchase"])
            try sandbox.advanceClock(seconds: 120)
            let revoked = try run(["sync"])
            try tally.collect(sandbox)
            try sandbox.clearFaults()
            tally.record(suite: "FaultSecretsTests")
            #expect(revoked.exitCode == 77, "a revoked refresh token must end the run with exit 77: \(revoked)")

            for arguments in [["status"], ["status", "--json"], ["audit"], ["audit", "--json"], ["audit", "--failed", "--json"], ["doctor"]] {
                _ = try run(arguments)
            }

            // stdout and stderr of every run and delivery.
            let key = (try? String(contentsOf: world.scratch.keyURL, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            var leaks: [String] = []
            let outputs = runs.map { ("zbsync " + $0.arguments.prefix(3).joined(separator: " "), $0.output) }
                + deliveries.enumerated().map { ("webhook delivery \($0.offset + 1)", $0.element.stdout + $0.element.stderr) }
            for (label, text) in outputs {
                for canary in Canary.all + [key] where !canary.isEmpty && text.contains(canary) { leaks.append("\(label): \(canary == key ? "the master key" : canary)") }
                if text.range(of: #"1000\.[0-9a-f]{32}"#, options: .regularExpression) != nil { leaks.append("\(label): an access token") }
            }
            // Every file in the home folder, as bytes (the state database with its WAL included), the key aside.
            var filesChecked = 0
            let home = world.home
            if let walker = FileManager.default.enumerator(at: home, includingPropertiesForKeys: [.isRegularFileKey]) {
                for case let url as URL in walker where url.lastPathComponent != world.scratch.keyURL.lastPathComponent {
                    guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                          let data = try? Data(contentsOf: url) else { continue }
                    filesChecked += 1
                    for canary in Canary.all where data.range(of: Data(canary.utf8)) != nil { leaks.append("\(url.lastPathComponent): \(canary)") }
                    if let text = String(data: data, encoding: .isoLatin1), text.range(of: #"1000\.[0-9a-f]{32}"#, options: .regularExpression) != nil {
                        leaks.append("\(url.lastPathComponent): an access token")
                    }
                }
            }
            let stateBytes = world.stateDatabaseBytes().count
            #expect(filesChecked >= 2 && stateBytes > 0, "the home folder must hold the state database and the config (checked \(filesChecked) files)")
            #expect(leaks.isEmpty, "secrets found:\n\(leaks.joined(separator: "\n"))")
            print("FAULT secrets: \(runs.count) runs, \(deliveries.count) webhook deliveries, \(filesChecked) files (\(stateBytes) bytes of state database) searched for \(Canary.all.count) canaries, the master key and access tokens: \(leaks.count) found; faults injected \(tally.total) (\(tally)); \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        }
    }
}
