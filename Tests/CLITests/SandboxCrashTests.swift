import Foundation
import Testing

extension SandboxEndToEnd {
    /// `kill -9` at the worst moments of a push (`ZBSYNC_CRASH_AT`, DESIGN.md §5), then a normal run.
    @Suite struct SandboxCrashTests {
        /// Invariant: whatever point a run dies at — after the Zoho create but before the local commit, after
        /// marking the operation as being sent, after completing it — the next normal run converges to
        /// exactly one Zoho document per BigCommerce entity (no duplicate invoice number, credit-note number,
        /// payment reference, contact by email and currency, item by SKU), every sale invoiced with its exact
        /// total, and nothing left in the journal.
        @Test func killedRunsConvergeWithoutDuplicates() throws {
            let world = try SandboxWorld(SandboxOptions(seed: 9, orders: 60))
            defer { world.close() }
            let sandbox = world.sandbox
            let points = ["afterRemoteCreate:1", "afterRemoteCreate:2", "afterRemoteCreate:5", "afterRemoteCreate:10",
                          "afterRemoteCreate:20", "afterMarkSending:3", "afterComplete:3"]
            var figures: [String] = []
            for point in points {
                let seq = try sandbox.lastSeq()
                let run = try world.run(["sync"], environment: ["ZBSYNC_CRASH_AT": point], timeout: 180)
                let log = try sandbox.requests(since: seq)
                figures.append("\(point): \(run.signaled ? "signal \(run.exitCode)" : "exit \(run.exitCode)") after \(log.zohoWrites.count) Zoho writes")
                #expect(run.signaled && run.exitCode == SIGKILL, "ZBSYNC_CRASH_AT=\(point) must end the run by SIGKILL: \(run)")
            }
            let seq = try sandbox.lastSeq()
            let final = try world.run(["sync"], timeout: 300)
            let finalLog = try sandbox.requests(since: seq)
            figures.append("final sync: exit \(final.exitCode), \(finalLog.zohoCalls.count) Zoho calls, \(String(format: "%.1f", final.seconds)) s")
            print("crash runs:\n  " + figures.joined(separator: "\n  "))
            #expect(final.exitCode == 0 && !final.signaled, "\(final)")

            let report = try ConvergenceReport.check(sandbox)
            let journal = try world.journalCounts()
            #expect(report.problems.isEmpty, "\(report)\n\(figures.joined(separator: "\n"))")
            let unfinished = ["pending", "sending", "unknown", "failed", "dead"].reduce(0) { $0 + (journal[$1] ?? 0) }
            #expect(unfinished == 0, "operations left after the final sync: \(journal)")

            // And a further run has nothing left to write.
            let seqAgain = try sandbox.lastSeq()
            let again = try world.run(["sync"], timeout: 120)
            let againLog = try sandbox.requests(since: seqAgain)
            #expect(again.exitCode == 0 && !again.signaled, "\(again)")
            #expect(againLog.zohoWrites.isEmpty, "a run after convergence wrote:\n\(RequestLog.histogram(againLog.zohoWrites))")
            print("crash store: \(report)")
        }
    }
}
