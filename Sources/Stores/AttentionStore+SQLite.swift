import Foundation
import SyncEngine

// MARK: AttentionStore

extension SQLiteStateStore {
    public func raiseAttention(kind: String, entityKey: String, message: String, at: Date) throws {
        try write { db in
            try db.run("""
                INSERT INTO attention (kind, entity_key, message, first_seen, last_seen, resolved_at) VALUES (?, ?, ?, ?, ?, NULL)
                ON CONFLICT (kind, entity_key) DO UPDATE SET
                    message = excluded.message, last_seen = excluded.last_seen, resolved_at = NULL
                """, [kind, entityKey, message, at, at])
        }
    }

    public func resolveAttention(kind: String, entityKey: String, at: Date) throws {
        try write { db in
            try db.run("UPDATE attention SET resolved_at = ? WHERE kind = ? AND entity_key = ? AND resolved_at IS NULL",
                       [at, kind, entityKey])
        }
    }

    public func openAttention(limit: Int) throws -> [AttentionItem] {
        try withDatabase { db in
            try db.query("""
                SELECT kind, entity_key, message, first_seen, last_seen, resolved_at FROM attention
                WHERE resolved_at IS NULL ORDER BY first_seen, kind, entity_key LIMIT ?
                """, [max(0, limit)]) { row in
                AttentionItem(kind: row.string(0), entityKey: row.string(1), message: row.string(2),
                              firstSeen: row.date(3), lastSeen: row.date(4), resolvedAt: row.optionalDate(5))
            }
        }
    }

    public func openAttentionCount() throws -> Int {
        try withDatabase { db in try db.scalarInt("SELECT count(*) FROM attention WHERE resolved_at IS NULL") ?? 0 }
    }
}
