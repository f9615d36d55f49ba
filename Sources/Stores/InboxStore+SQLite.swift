import Foundation
import SyncEngine

// MARK: InboxStore

extension SQLiteStateStore {
    public func insertDelivery(_ delivery: InboxDelivery) throws -> Bool {
        try write { db in
            // DO NOTHING only on a duplicate id; any other constraint failure still throws.
            try db.run("""
                INSERT INTO inbox (delivery_id, scope, entity_id, received_at, processed_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (delivery_id) DO NOTHING
                """, [delivery.deliveryID, delivery.scope, delivery.entityID, delivery.receivedAt, delivery.processedAt])
            return db.changes == 1
        }
    }

    public func unprocessedDeliveries(limit: Int) throws -> [InboxDelivery] {
        try withDatabase { db in
            try db.query("""
                SELECT delivery_id, scope, entity_id, received_at, processed_at FROM inbox
                WHERE processed_at IS NULL ORDER BY received_at, rowid LIMIT ?
                """, [max(0, limit)]) { row in
                InboxDelivery(deliveryID: row.string(0), scope: row.string(1), entityID: row.int64(2),
                              receivedAt: row.date(3), processedAt: row.optionalDate(4))
            }
        }
    }

    public func markProcessed(deliveryIDs: [String], at: Date) throws {
        let ids = Array(Set(deliveryIDs)).sorted()
        guard !ids.isEmpty else { return }
        try write { db in
            for chunk in Self.chunks(ids, size: 500) {
                let statement = try db.prepare("""
                    UPDATE inbox SET processed_at = ? WHERE processed_at IS NULL AND delivery_id IN (\(Self.placeholders(chunk.count)))
                    """)
                try statement.execute([at] + chunk.map { $0 as (any SQLBindable)? })
            }
        }
    }

    public func inboxCount(processed: Bool) throws -> Int {
        try withDatabase { db in
            try db.scalarInt(processed
                ? "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL"
                : "SELECT count(*) FROM inbox WHERE processed_at IS NULL") ?? 0
        }
    }
}
