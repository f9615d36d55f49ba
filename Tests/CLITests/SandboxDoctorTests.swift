import Foundation
import Testing

extension SandboxEndToEnd {
    /// `zbsync doctor` and credential failures against the sandbox (DESIGN.md §2, §6).
    @Suite struct SandboxDoctorTests {
        /// Invariant: with good credentials every check line starts with `ok` and doctor exits 0.
        @Test func doctorOnAGoodSandboxIsAllOk() throws {
            let world = try SandboxWorld(SandboxOptions(orders: 36))
            defer { world.close() }
            let run = try world.run(["doctor"], timeout: 60)
            #expect(run.exitCode == 0 && !run.signaled, "\(run)")
            let lines = run.stdout.split(separator: "\n").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            #expect(!lines.isEmpty, "\(run)")
            #expect(lines.allSatisfy { $0.hasPrefix("ok") }, "every line starts with ok:\n\(run.stdout)")
            #expect(world.leakedSecrets(in: run).isEmpty, "secrets printed: \(world.leakedSecrets(in: run))")
        }

        /// Invariant: a BigCommerce token the store refuses makes a failing line and exit 77, without printing
        /// either token.
        @Test func doctorWithAWrongBigCommerceTokenExits77() throws {
            let world = try SandboxWorld(SandboxOptions(orders: 36))
            defer { world.close() }
            let wrong = "bc-wrong-token-5f2e"
            let stored = try world.authBigCommerce(token: wrong)
            try #require(stored.exitCode == 0, "\(stored)")
            let run = try world.run(["doctor"], timeout: 60)
            #expect(run.exitCode == 77 && !run.signaled, "\(run)")
            let failing = run.stdout.split(separator: "\n").filter { !$0.hasPrefix("ok") && !$0.isEmpty }
            #expect(failing.contains { $0.localizedCaseInsensitiveContains("bigcommerce") }, "a failing BigCommerce line:\n\(run)")
            #expect(run.stdout.split(separator: "\n").contains { $0.hasPrefix("ok") && $0.contains("zoho") }, "Zoho is still checked:\n\(run)")
            #expect(run.failureLines.count == 1, "\(run)")
            let leaked = world.leakedSecrets(in: run, extra: [wrong])
            #expect(leaked.isEmpty, "secrets printed: \(leaked)\n\(run)")
        }

        /// Invariant: a revoked Zoho refresh token makes doctor exit 77 and say to re-authorize, without
        /// printing any credential.
        @Test func doctorWithARevokedRefreshTokenExits77AndSaysReauthorize() throws {
            let world = try SandboxWorld(SandboxOptions(orders: 36), authorize: false)
            defer { world.close() }
            try #require(try world.authBigCommerce().exitCode == 0)
            // The refresh token is given directly (no access token is cached yet), then revoked in Zoho.
            let stored = try world.authZoho(refreshToken: SandboxSecrets.zohoRefreshToken)
            try #require(stored.exitCode == 0, "\(stored)")
            try world.sandbox.revokeRefreshToken()
            let run = try world.run(["doctor"], timeout: 60)
            #expect(run.exitCode == 77 && !run.signaled, "\(run)")
            #expect(run.output.contains("re-authorize"), "\(run)")
            #expect(run.output.contains("zbsync auth zoho"), "\(run)")
            let leaked = world.leakedSecrets(in: run)
            #expect(leaked.isEmpty, "secrets printed: \(leaked)\n\(run)")
        }

        /// Invariant (DESIGN.md §1, §6): an `api_domain` outside Zoho's region table is refused unless
        /// `zoho.allow_custom_api_domain = true`; the refusal exits 78 (or 77) and names the fix.
        @Test func doctorRefusesTheSandboxAPIDomainWhenCustomDomainsAreNotAllowed() throws {
            let world = try SandboxWorld(SandboxOptions(orders: 36))
            defer { world.close() }
            let seq = try world.sandbox.lastSeq()
            let run = try world.run(["doctor"], environment: ["ZBSYNC_ZOHO_ALLOW_CUSTOM_API_DOMAIN": "false"], timeout: 60)
            let log = try world.sandbox.requests(since: seq)
            #expect([77, 78].contains(run.exitCode) && !run.signaled, "\(run)")
            #expect(run.output.contains("allow_custom_api_domain") || run.output.contains("zoho.region"),
                    "the message names the setting to fix:\n\(run)")
            #expect(log.zohoCalls.isEmpty, "no Zoho Books call goes to a refused api_domain:\n\(log.zohoCalls.map(\.description).joined(separator: "\n"))")
            #expect(world.leakedSecrets(in: run).isEmpty, "secrets printed: \(world.leakedSecrets(in: run))")
        }

        /// Invariant (DESIGN.md §6): with two Zoho organizations and no `zoho.organization_id`, doctor exits 78,
        /// lists the organizations and says to set `zoho.organization_id`.
        @Test func doctorWithTwoOrganizationsAndNoneConfiguredExits78() throws {
            let world = try SandboxWorld(SandboxOptions(orders: 36, zohoOrgs: 2))
            defer { world.close() }
            let run = try world.run(["doctor"], timeout: 60)
            #expect(run.exitCode == 78 && !run.signaled, "\(run)")
            #expect(run.output.contains("10234695") && run.output.contains("10235806"), "both organizations are listed:\n\(run)")
            #expect(run.output.contains("zoho.organization_id"), "\(run)")
            #expect(world.leakedSecrets(in: run).isEmpty, "secrets printed: \(world.leakedSecrets(in: run))")
        }

        /// Invariant (DESIGN.md §6): `invalid_grant` during `sync` (the refresh token was revoked and the cached
        /// access token has expired) exits 77 with one line that says to re-authorize with `zbsync auth zoho`,
        /// prints no credential, and the failed run is recorded for `status`.
        @Test func syncWithARevokedRefreshTokenExits77WithOneLine() throws {
            let world = try SandboxWorld(SandboxOptions(orders: 36))
            defer { world.close() }
            try world.sandbox.revokeRefreshToken()
            // The access token cached by `auth zoho --code` expires (sandbox time), so the run must refresh.
            try world.sandbox.advanceClock(seconds: 2 * 3600)
            let seq = try world.sandbox.lastSeq()
            let run = try world.run(["sync"], timeout: 120)
            let log = try world.sandbox.requests(since: seq)
            #expect(run.exitCode == 77 && !run.signaled, "\(run)")
            #expect(run.failureLines.count == 1, "exactly one failure line:\n\(run)")
            let line = run.failureLines.first ?? ""
            #expect(line.contains("re-authorize") && line.contains("zbsync auth zoho"), "the line says what to do: \(line)")
            let leaked = world.leakedSecrets(in: run)
            #expect(leaked.isEmpty, "secrets printed: \(leaked)\n\(run)")
            #expect(log.accountsCalls.count <= 2, "no refresh loop: \(log.accountsCalls.map(\.description))")
            let applied = log.zohoWrites.filter { (200..<300).contains($0.status) }
            #expect(applied.isEmpty, "nothing was written without a valid token: \(applied.map(\.description))")
            // DESIGN.md §3: every run is a `runs` row with its exit code, so `status` can tell cron's user.
            let runs = try world.statusJSON()["runs"] as? [[String: Any]] ?? []
            #expect(runs.contains { ($0["command"] as? String) == "sync" && intValue($0["exit_code"]) == 77 },
                    "status records the failed sync (exit 77); runs: \(runs)")
        }
    }
}
