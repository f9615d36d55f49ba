import Foundation
import SyncEngine

// MARK: RunStore

extension SQLiteStateStore {
    public func beginRun(_ run: RunRecord) throws {
        try write { db in
            try db.run("""
                INSERT INTO runs (id, command, started_at, ended_at, counts, exit_code, summary) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [run.id, run.command, run.startedAt, run.endedAt, Self.countsText(run.counts), run.exitCode, run.summary])
        }
    }

    public func finishRun(id: String, endedAt: Date, counts: [String: Int], exitCode: Int32, summary: String) throws {
        try write { db in
            try db.run("UPDATE runs SET ended_at = ?, counts = ?, exit_code = ?, summary = ? WHERE id = ?",
                       [endedAt, Self.countsText(counts), exitCode, summary, id])
            if db.changes == 0 { throw StoreError(.notFound, "run \(id) was never begun") }
        }
    }

    public func recentRuns(limit: Int) throws -> [RunRecord] {
        try withDatabase { db in
            try db.query("""
                SELECT id, command, started_at, ended_at, counts, exit_code, summary FROM runs
                ORDER BY started_at DESC, rowid DESC LIMIT ?
                """, [max(0, limit)]) { row in
                RunRecord(id: row.string(0), command: row.string(1), startedAt: row.date(2), endedAt: row.optionalDate(3),
                          counts: try Self.counts(row.string(4)), exitCode: row.optionalInt64(5).map { Int32(truncatingIfNeeded: $0) },
                          summary: row.string(6))
            }
        }
    }

    static func countsText(_ counts: [String: Int]) -> String {
        JSON.object(JSONObject(counts.map { ($0.key, JSON.int($0.value)) })).serializedString(sortedKeys: true)
    }

    static func counts(_ text: String) throws -> [String: Int] {
        guard let object = try json(text, column: "runs.counts").object else {
            throw StoreError(.corrupt, "column runs.counts is not a JSON object")
        }
        var result: [String: Int] = [:]
        for (key, value) in object.pairs {
            guard let n = value.int else { throw StoreError(.corrupt, "column runs.counts holds a non-integer") }
            result[key] = n
        }
        return result
    }
}
