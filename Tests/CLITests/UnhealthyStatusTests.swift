import Foundation
import Testing

/// `status` on a home with history: runs, cursors, a dead operation and a quarantined record.
///
/// The CLI tests cannot link the store, so the rows are written with the sqlite3 shell into the schema
/// `Stores` creates (table and column names of `Schema.swift`, times as unix seconds).
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3"), "needs /usr/bin/sqlite3"))
struct UnhealthyStatusTests {
    private func seed(_ scratch: Scratch) throws {
        let now = Date().timeIntervalSince1970
        let sql = """
        INSERT INTO runs (id, command, started_at, ended_at, counts, exit_code, summary)
            VALUES ('run-1', 'sync', \(now - 600), \(now - 590), '{"invoices_created":2}', 1, '2 invoices, 1 failed');
        INSERT INTO cursors (stream, ts, id, updated_at) VALUES ('orders', \(now - 900), 123, \(now - 590));
        INSERT INTO journal (kind, entity_key, zoho_key, payload, fingerprint, state, attempts, next_attempt_at,
                             last_error, created_at, updated_at)
            VALUES ('invoice.create', 'order:123', 'BC-123', '{}', 'f1', 'dead', 8, \(now), 'zoho rejected the request',
                    \(now - 3600), \(now - 600)),
                   ('invoice.create', 'order:124', 'BC-124', '{}', 'f2', 'pending', 0, \(now), NULL, \(now - 60), \(now - 60));
        INSERT INTO attention (kind, entity_key, message, first_seen, last_seen)
            VALUES ('quarantine', 'order:777', 'order total is not a number', \(now - 300), \(now - 300));
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [scratch.home.appendingPathComponent("state.db").path, sql]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "seeding state.db failed")
    }

    @Test func deadOperationsAndAttentionItemsExit1WithOneLine() throws {
        let scratch = try Scratch()
        try scratch.initialize()
        try seed(scratch)

        let text = try scratch.run(["status"])
        #expect(text.exitCode == 1, "\(text)")
        for fact in ["sync", "orders", "id 123", "dead     1", "oldest #1 invoice.create order:123", "pending  1",
                     "quarantine  order:777  order total is not a number", "Needs attention: 1"] {
            #expect(text.stdout.contains(fact), "missing '\(fact)' in\n\(text.stdout)")
        }
        #expect(text.failureLines.count == 1)
        #expect(text.failureLines.first?.hasPrefix("zbsync: not healthy: 1 dead operation") == true, "\(text)")
        #expect(text.stderr.contains("zbsync retry --all"))

        let json = try scratch.run(["status", "--json"])
        #expect(json.exitCode == 1)
        let object = try jsonObject(json.stdout)
        #expect(object["healthy"] as? Bool == false)
        #expect(object["fresh"] as? Bool == false)
        let attention = try #require(object["attention"] as? [String: Any])
        let items = try #require(attention["items"] as? [[String: Any]])
        #expect(items.first?["entity"] as? String == "order:777")
    }
}
