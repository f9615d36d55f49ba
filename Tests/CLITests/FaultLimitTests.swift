import Foundation
import Testing

extension SandboxEndToEnd.FaultSuites {
    /// Zoho's limits and tokens under stress, as real `zbsync sync` processes against the sandbox (DESIGN.md §6,
    /// R7, R8). Both the sandbox and zbsync use the wall clock here, so each test takes a minute or two: the
    /// per-minute limit can only be checked over minutes.
    @Suite struct FaultLimitTests {
        static let books = "^/books/v3/"

        static func rule(after: Int, times: Int = 1, _ fields: [String: Any]) -> [String: Any] {
            ["match": ["api": "zoho", "path_regex": books], "after": after, "times": times].merging(fields) { $1 }
        }

        /// Invariant: Zoho answers a burst of code 44 (per-minute limit), then 1070 (too many in flight) twice, then
        /// a 401 (token expired) and finally code 45 (daily quota), all injected. zbsync waits for the next minute
        /// after the 44, backs off after the 1070s, refreshes the token once, and on the 45 stops at once: exit 75
        /// with everything not sent still queued in the journal, no further Zoho call, and a second run the same
        /// day sends nothing either. After the day has passed the next run completes: exactly one document per
        /// entity, totals to the cent. Over all runs no 60-second window holds more calls than
        /// `zoho.requests_per_minute` (the sandbox enforces the same limit, so a self-caused 429 would show) and
        /// exactly one token request was made.
        @Test func aStormOf44And1070ThenTheDailyQuotaLeavesEverythingQueued() throws {
            let rpm = 30
            let started = Date()
            let world = try SandboxWorld(SandboxOptions(seed: 31, orders: 4, zohoRPM: rpm))
            defer { world.close() }
            let sandbox = world.sandbox
            let since = try sandbox.lastSeq()
            try sandbox.addFaults([
                Self.rule(after: 2, ["action": "status", "status": 429, "code": 44]),
                Self.rule(after: 4, times: 2, ["action": "status", "status": 429, "code": 1070]),
                Self.rule(after: 7, ["action": "expire_token", "code": 14]),
                Self.rule(after: 11, ["action": "status", "status": 429, "code": 45]),
            ])

            // The storm, ended by the daily quota.
            let stormed = try world.run(["sync"], timeout: 300)
            var tally = FaultTally()
            let silent = try tally.collect(sandbox)
            try sandbox.clearFaults()
            tally.record(suite: "FaultLimitTests")
            let afterStorm = try sandbox.timedRequests(since: since)
            let journal = try world.journalCounts()
            #expect(stormed.exitCode == 75 && !stormed.signaled, "the daily quota must end the run with exit 75:\n\(stormed)")
            #expect(stormed.failureLines.contains { $0.contains("daily") && $0.contains("queued") },
                    "the failure line must say the day's quota is spent and everything is queued:\n\(stormed)")
            #expect(silent.isEmpty, "rules that never fired: \(silent); fired: \(tally)")
            #expect((journal["pending"] ?? 0) > 0, "the run stopped early, so operations must still be queued: \(journal)")
            #expect((journal["dead"] ?? 0) == 0 && (journal["unknown"] ?? 0) == 0, "nothing may be dead or unknown after a quota stop: \(journal)")
            let booksInStorm = afterStorm.filter(\.isZohoBooks)
            #expect(booksInStorm.last?.code == "45", "no Zoho call may follow code 45; the last one was \(booksInStorm.last.map { "\($0.method) \($0.path) → \($0.status) code \($0.code)" } ?? "none")")
            let pause44 = zip(booksInStorm, booksInStorm.dropFirst()).first { $0.0.code == "44" }.map { $0.1.wall - $0.0.wall }
            #expect((pause44 ?? 0) >= 0.5, "after code 44 zbsync must wait for the next minute; it waited \(pause44.map { String(format: "%.2f s", $0) } ?? "-")")

            // The same day: nothing is sent, not even a token request.
            let mark = try sandbox.lastSeq()
            let sameDay = try world.run(["sync"], timeout: 60)
            let sameDayCalls = try sandbox.timedRequests(since: mark).filter { $0.api != "bc" }
            #expect(sameDay.exitCode == 75, "a run on the same day must stop with exit 75 before any call:\n\(sameDay)")
            #expect(sameDayCalls.isEmpty, "a run after code 45 on the same day made Zoho calls: \(sameDayCalls.map { "\($0.method) \($0.path)" })")

            // The next day (a test cannot wait for midnight: the limiter's stored day is moved back instead).
            _ = try world.sqlite("UPDATE limiter SET day = '2000-01-01', blocked_until = NULL")
            let runs = try world.syncUntilClean(maxRuns: 3, timeout: 300)
            let requests = try sandbox.timedRequests(since: since)
            let booksCalls = requests.filter(\.isZohoBooks)
            let busiest = maxCallsInWindow(booksCalls.map(\.wall), window: 60)
            let selfCaused = booksCalls.filter { $0.status == 429 && $0.fault.isEmpty }
            let tokenCalls = requests.filter { $0.api == "accounts" }
            let report = try ConvergenceReport.check(sandbox)
            let unfinished = try world.unfinishedOperations()

            #expect(runs.last?.exitCode == 0, "the next day's run must complete:\n\(describeRuns(runs))\n\(runs.last.map(String.init(describing:)) ?? "")")
            #expect(report.problems.isEmpty && report.invoices > 0, "\(report)")
            let journalAfter = try world.journalCounts()
            #expect(unfinished == 0, "operations left in the journal: \(journalAfter)")
            #expect(busiest.count <= rpm, "\(busiest.count) Zoho calls in the 60 s from wall \(busiest.start), above the configured \(rpm)")
            #expect(booksCalls.count > rpm, "the runs made only \(booksCalls.count) Zoho calls, too few to test a \(rpm)/min window")
            #expect(selfCaused.isEmpty, "429s not injected by the test (zbsync went over Zoho's limit): \(selfCaused.map { "#\($0.seq) code \($0.code)" })")
            #expect(tokenCalls.count == 1, "exactly one token refresh is needed (after the injected 401); made \(tokenCalls.count)")
            print("FAULT limits: injected \(tally.total) (\(tally)); storm run exit \(stormed.exitCode) after \(String(format: "%.1f", stormed.seconds)) s with \(journal["pending"] ?? 0) queued; same-day run \(sameDayCalls.count) calls; then \(describeRuns(runs).replacingOccurrences(of: "\n", with: "; ")); \(booksCalls.count) Zoho calls, busiest 60 s \(busiest.count)/\(rpm), self-caused 429s \(selfCaused.count), token requests \(tokenCalls.count), pause after 44 \(pause44.map { String(format: "%.1f s", $0) } ?? "-"); \(report); \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        }

        /// Invariant: access tokens that live only 30 seconds expire several times during one run. zbsync refreshes
        /// each shortly before it expires (so no call fails with 401), never more often than needed — at most one
        /// refresh per token lifetime plus one at the start — and the run completes with one document per entity.
        @Test func tokensThatExpireDuringALongRunAreRefreshedAheadAndNoMore() throws {
            let ttl = 30.0
            let started = Date()
            let world = try SandboxWorld(SandboxOptions(seed: 33, orders: 5, zohoRPM: 60, extra: ["--zoho-token-ttl", "\(Int(ttl))"]))
            defer { world.close() }
            let sandbox = world.sandbox
            let since = try sandbox.lastSeq()
            let run = try world.run(["sync"], timeout: 300)
            let requests = try sandbox.timedRequests(since: since)
            let booksCalls = requests.filter(\.isZohoBooks)
            let unauthorized = booksCalls.filter { $0.status == 401 }
            let tokenCalls = requests.filter { $0.api == "accounts" }
            let span = (booksCalls.last?.wall ?? 0) - (booksCalls.first?.wall ?? 0)
            // One at the start (the stored token has less than the 5-minute margin left), then one per lifetime
            // minus the margin (a twelfth of the lifetime for a short-lived token).
            let allowed = 1 + Int((span / (ttl * 11 / 12)).rounded(.up))
            let report = try ConvergenceReport.check(sandbox)
            var tally = FaultTally()
            tally.add("token expired during the run (lifetime \(Int(ttl)) s)", max(0, tokenCalls.count - 1))
            tally.record(suite: "FaultLimitTests")

            #expect(run.exitCode == 0 && !run.signaled, "\(run)")
            #expect(span > ttl * 1.2, "the run lasted \(String(format: "%.1f", span)) s, too short for a token of \(ttl) s to expire in it")
            #expect(tokenCalls.count >= 2 && tokenCalls.count <= allowed,
                    "\(tokenCalls.count) token requests over \(String(format: "%.1f", span)) s with \(Int(ttl))-s tokens; expected 2…\(allowed)")
            #expect(unauthorized.isEmpty, "calls refused with 401 (the token was not refreshed ahead): \(unauthorized.map { "#\($0.seq) \($0.method) \($0.path)" })")
            #expect(report.problems.isEmpty && report.invoices > 0, "\(report)")
            print("FAULT token expiry: \(booksCalls.count) Zoho calls over \(String(format: "%.1f", span)) s with \(Int(ttl))-s tokens: \(tokenCalls.count) token requests (allowed \(allowed)), \(unauthorized.count) × 401; \(report); \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        }

        /// Invariant: when Zoho throttles the token endpoint ("Access Denied … too many requests"), zbsync makes
        /// exactly one token request, exits 75 with a line saying when to try again, and the runs that follow
        /// within the pause (cron) make no token request at all, so Zoho's throttle can clear. No secret is printed.
        @Test func aThrottledRefreshIsNotRetriedByLaterRuns() throws {
            let world = try SandboxWorld(SandboxOptions(seed: 35, orders: 4))
            defer { world.close() }
            let sandbox = world.sandbox
            _ = try sandbox.object("POST", "/_sandbox/config", body: ["zoho_refresh_limit": 0])
            // The stored token is rejected once, so zbsync must refresh.
            try sandbox.addFaults([Self.rule(after: 0, ["action": "expire_token", "code": 14])])
            let since = try sandbox.lastSeq()
            let first = try world.run(["sync"], timeout: 120)
            var tally = FaultTally()
            try tally.collect(sandbox)
            try sandbox.clearFaults()
            let later = try world.run(["sync"], timeout: 120)
            let requests = try sandbox.timedRequests(since: since)
            let tokenCalls = requests.filter { $0.api == "accounts" }
            tally.add("token refresh throttled by Zoho", tokenCalls.filter { $0.status == 400 }.count)
            tally.record(suite: "FaultLimitTests")

            #expect(first.exitCode == 75, "a throttled refresh is a temporary failure (exit 75):\n\(first)")
            #expect(first.failureLines.contains { $0.contains("retry after") || $0.contains("try again") }, "the line must say when to try again:\n\(first)")
            #expect(later.exitCode == 75, "a run within the pause must stop as well:\n\(later)")
            #expect(tokenCalls.count == 1, "exactly one token request across both runs; made \(tokenCalls.count)")
            #expect(world.leakedSecrets(in: first).isEmpty && world.leakedSecrets(in: later).isEmpty, "secrets in the output")
            print("FAULT refresh throttle: injected \(tally.total) (\(tally)); runs exit \(first.exitCode), \(later.exitCode); token requests \(tokenCalls.count)")
        }
    }
}
