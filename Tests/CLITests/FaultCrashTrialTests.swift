import Foundation
import Testing

extension SandboxEndToEnd.FaultSuites {
    /// Seeded `kill -9` trials against the sandbox (DESIGN.md §5, R2 and R11 at process level).
    @Suite struct FaultCrashTrialTests {
        /// The first seed; `ZBSYNC_FAULT_SEED` replays another series (trial i uses seed + i).
        static var baseSeed: UInt64 {
            ProcessInfo.processInfo.environment["ZBSYNC_FAULT_SEED"].flatMap { UInt64($0) } ?? 20_260_417
        }
        static let trials = 12
        /// Trials killed from outside at a seeded moment (after the crash-hook trials).
        static let outsideTrials = 10
        static let points = ["afterMarkSending", "afterRemoteCreate", "afterComplete"]
        static let kinds = ["invoices", "contacts", "items", "creditnotes", "customerpayments"]

        /// Invariant: each trial changes the store (new orders, sometimes a refund), then runs `zbsync sync`
        /// that kills itself with SIGKILL at a seeded crash point and count (sometimes with a seeded lost
        /// reply on a seeded kind of create as well), then runs `zbsync sync` until it exits 0 (at most 3
        /// runs). After every trial: exactly one Zoho document per BigCommerce entity, totals equal to the
        /// cent, no duplicates, an empty journal. The last trials kill a running sync from outside (`kill -9`
        /// after a seeded delay). A failing trial names its seed.
        @Test func seededKillNineTrialsConverge() throws {
            let started = Date()
            let world = try SandboxWorld(SandboxOptions(seed: 21, orders: 36))
            defer { world.close() }
            let sandbox = world.sandbox
            var tally = FaultTally()
            var figures: [String] = []
            var failures: [String] = []

            for trial in 0..<(Self.trials + Self.outsideTrials) {
                let outside = trial >= Self.trials
                let seed = Self.baseSeed + UInt64(trial)
                var rng = SeededRandom(seed: seed)
                // Source changes, so every trial has creates to crash in.
                let newOrders = Int.random(in: 1...3, using: &rng)
                for _ in 0..<newOrders {
                    let customer = Int.random(in: 0...999, using: &rng)
                    let lines = (0..<Int.random(in: 1...3, using: &rng)).map { _ -> [String: Any] in
                        let sku = "FLT-\(Int.random(in: 1...40, using: &rng))"
                        return ["name": "Fault item \(sku)", "sku": sku, "price": "\(Int.random(in: 3...90, using: &rng)).\(Int.random(in: 10...99, using: &rng))",
                                "quantity": Int.random(in: 1...4, using: &rng)]
                    }
                    try sandbox.createOrder(["lines": lines, "email": "fault-\(customer)@example.com", "status_id": 11, "payment": "purchase",
                                             "billing_address": ["first_name": "Fault", "last_name": "C\(customer)", "email": "fault-\(customer)@example.com"]])
                }
                if Bool.random(using: &rng) {
                    let candidates = try sandbox.bigCommerceOrders().filter { [2, 10, 11].contains($0.statusID) && !$0.isDeleted }
                    if !candidates.isEmpty {
                        let order = candidates[Int.random(in: 0..<candidates.count, using: &rng)]
                        _ = try? sandbox.object("POST", "/_sandbox/bc/refunds", body: ["order_id": order.id, "full": true])
                    }
                }
                try sandbox.advanceClock(seconds: 120)

                var fault = "no fault"
                if Bool.random(using: &rng) {
                    let kind = Self.kinds[Int.random(in: 0..<Self.kinds.count, using: &rng)]
                    let truncate = Bool.random(using: &rng)
                    var rule: [String: Any] = ["match": ["api": "zoho", "method": "POST", "path_regex": "^/books/v3/\(kind)$"],
                                               "action": truncate ? "truncate_after_apply" : "status_after_apply", "times": 1]
                    if !truncate { rule["status"] = 502 }
                    try sandbox.addFaults([rule])
                    fault = "\(rule["action"]!) on POST /\(kind)"
                }

                var killed: SandboxRun
                var crash: String
                if outside {
                    // From outside: kill -9 at a seeded moment, not through the crash hook. Zoho's writes are slowed
                    // down (0.15 s each) so that the moment falls inside the run, among its writes.
                    try sandbox.addFaults([["match": ["api": "zoho", "method": "POST"], "action": "delay", "seconds": 0.15, "times": -1]])
                    let delay = Double.random(in: 0.15...1.0, using: &rng)
                    crash = "kill -9 from outside after \(String(format: "%.2f", delay)) s"
                    let child = try world.launch(["sync"])
                    usleep(UInt32(delay * 1_000_000))
                    if child.isRunning { kill(child.process.processIdentifier, SIGKILL) }
                    killed = child.wait(timeout: 30)
                } else {
                    crash = "\(Self.points[Int.random(in: 0..<Self.points.count, using: &rng)]):\(Int.random(in: 1...4, using: &rng))"
                    killed = try world.run(["sync"], environment: ["ZBSYNC_CRASH_AT": crash], timeout: 120)
                }
                if killed.signaled && killed.exitCode == SIGKILL { tally.add(outside ? "kill -9 from outside" : "ZBSYNC_CRASH_AT \(crash.split(separator: ":")[0])") }
                try tally.collect(sandbox)
                try sandbox.clearFaults()

                let runs = try world.syncUntilClean(maxRuns: 3, timeout: 120)
                let report = try ConvergenceReport.check(sandbox)
                let unfinished = try world.unfinishedOperations()
                let line = "seed \(seed): +\(newOrders) orders, \(crash), \(fault): first run \(killed.signaled ? "killed (signal \(killed.exitCode))" : "exit \(killed.exitCode)"); then \(describeRuns(runs).replacingOccurrences(of: "\n", with: "; "))"
                figures.append(line)
                let converged = runs.last?.exitCode == 0 && runs.last?.signaled == false
                if !converged || !report.problems.isEmpty || unfinished > 0 {
                    let rows = unfinished == 0 ? "" : try world.sqlite("SELECT id, kind, entity_key, state, attempts, last_error FROM journal WHERE state <> 'done'")
                    failures.append("TRIAL FAILED — \(line)\n\(report)\njournal left: \(unfinished)\n\(rows)\(runs.last.map { "\n\($0)" } ?? "")")
                }
            }
            tally.record(suite: "FaultCrashTrialTests")
            let crashes = tally.fired.filter { $0.key.hasPrefix("ZBSYNC_CRASH_AT") || $0.key.hasPrefix("kill") }.values.reduce(0, +)
            let outsideKills = tally.fired["kill -9 from outside"] ?? 0
            print("FAULT kill -9 trials (\(Self.trials + Self.outsideTrials), base seed \(Self.baseSeed)): injected \(tally.total) (\(tally)); failed trials \(failures.count); \(String(format: "%.1f", Date().timeIntervalSince(started))) s\n  " + figures.joined(separator: "\n  "))
            #expect(failures.isEmpty, "\(failures.count) of \(Self.trials + Self.outsideTrials) trials broke the invariant:\n\(failures.joined(separator: "\n\n"))")
            #expect(crashes >= Self.trials / 2, "only \(crashes) runs were really killed: \(tally)\n\(figures.joined(separator: "\n"))")
            #expect(outsideKills >= Self.outsideTrials / 2, "only \(outsideKills) of \(Self.outsideTrials) runs killed from outside were still running: \(figures.suffix(Self.outsideTrials).joined(separator: "\n"))")
            #expect(tally.total > 0, "no fault was injected at all")
        }
    }
}
