import Foundation
import SyncEngine

// MARK: JournalStore

extension SQLiteStateStore {
    static let journalColumns = """
        id, kind, entity_key, zoho_key, payload, fingerprint, state, attempts, next_attempt_at, last_error, created_at, updated_at
        """

    public func commitPlan(_ operations: [PlannedOperation], cursors: [StreamCursor], at: Date) throws -> [Int64] {
        try write { db in
            // Prepared once and reused for every operation: this is what keeps a 10,000-row plan fast.
            let existing = try db.cachedStatement("""
                SELECT 1 FROM journal WHERE entity_key = ? AND kind = ? AND fingerprint = ? AND state <> 'done' LIMIT 1
                """)
            let insert = try db.cachedStatement("""
                INSERT INTO journal (kind, entity_key, zoho_key, payload, fingerprint, state, attempts,
                                     next_attempt_at, last_error, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, NULL, ?, ?)
                """)
            var ids: [Int64] = []
            ids.reserveCapacity(operations.count)
            for op in operations {
                // Also catches a duplicate earlier in this same plan: it is already inserted.
                if try existing.firstRow([op.entityKey, op.kind, op.fingerprint], { _ in true }) != nil { continue }
                try insert.execute([op.kind, op.entityKey, op.zohoKey, op.payload.serializedString(), op.fingerprint, at, at, at])
                ids.append(db.lastInsertRowID)
            }
            for cursor in cursors {
                try Self.upsertCursor(cursor, at: at, db: db)
            }
            return ids
        }
    }

    public func runnable(now: Date, afterID: Int64, limit: Int) throws -> [JournalEntry] {
        try withDatabase { db in
            try db.query("""
                SELECT \(Self.journalColumns) FROM journal
                WHERE state IN ('pending', 'unknown', 'failed') AND next_attempt_at <= ? AND id > ?
                ORDER BY id LIMIT ?
                """, [now, afterID, max(0, limit)], Self.readEntry)
        }
    }

    public func entry(id: Int64) throws -> JournalEntry? {
        try withDatabase { db in
            try db.queryFirst("SELECT \(Self.journalColumns) FROM journal WHERE id = ?", [id], Self.readEntry)
        }
    }

    public func entries(entityKey: String) throws -> [JournalEntry] {
        try withDatabase { db in
            try db.query("SELECT \(Self.journalColumns) FROM journal WHERE entity_key = ? ORDER BY id", [entityKey], Self.readEntry)
        }
    }

    public func unfinished(kind: String, orderID: Int64) throws -> [JournalEntry] {
        try withDatabase { db in
            try db.query("""
                SELECT \(Self.journalColumns) FROM journal
                WHERE state IN ('pending', 'sending', 'unknown', 'failed', 'dead') AND kind = ?
                  AND json_extract(payload, '$.spec.order_id') = ?
                ORDER BY id
                """, [kind, orderID], Self.readEntry)
        }
    }

    public func entries(states: [JournalState], limit: Int) throws -> [JournalEntry] {
        let names = Array(Set(states.map(\.rawValue))).sorted()
        guard !names.isEmpty else { return [] }
        return try withDatabase { db in
            try db.query("""
                SELECT \(Self.journalColumns) FROM journal WHERE state IN (\(Self.placeholders(names.count)))
                ORDER BY id LIMIT ?
                """, names.map { $0 as (any SQLBindable)? } + [max(0, limit)], Self.readEntry)
        }
    }

    public func markSending(id: Int64, at: Date) throws {
        try write { db in
            try db.run("UPDATE journal SET state = 'sending', attempts = attempts + 1, updated_at = ? WHERE id = ?", [at, id])
            try Self.requireChanged(db, id: id)
        }
    }

    public func markState(id: Int64, _ state: JournalState, error: String?, nextAttemptAt: Date, at: Date) throws {
        try write { db in
            try db.run("UPDATE journal SET state = ?, last_error = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?",
                       [state.rawValue, error, nextAttemptAt, at, id])
            try Self.requireChanged(db, id: id)
        }
    }

    public func complete(id: Int64, mapping: MappingRecord?, audit: AuditEvent) throws {
        try write { db in
            try db.run("UPDATE journal SET state = 'done', last_error = NULL, updated_at = ? WHERE id = ?", [audit.time, id])
            try Self.requireChanged(db, id: id)
            if let mapping { try Self.upsertMapping(mapping, db: db) }
            try Self.insertAudit(audit, db: db)
        }
    }

    public func updatePayload(id: Int64, payload: JSON, at: Date) throws {
        try write { db in
            try db.run("UPDATE journal SET payload = ?, updated_at = ? WHERE id = ? AND state <> 'done'",
                       [payload.serializedString(), at, id])
            if db.changes == 0 {
                guard try db.scalarInt("SELECT 1 FROM journal WHERE id = ?", [id]) != nil else {
                    throw StoreError(.notFound, "journal entry \(id) does not exist")
                }
                throw StoreError(.constraint, "journal entry \(id) is done; its payload cannot change")
            }
        }
    }

    public func recoverInterrupted(at: Date) throws -> Int {
        try write { db in
            try db.run("UPDATE journal SET state = 'unknown', updated_at = ? WHERE state = 'sending'", [at])
            return db.changes
        }
    }

    public func requeue(ids: [Int64]?, includeFailed: Bool, at: Date) throws -> Int {
        let states = includeFailed ? "'dead', 'failed'" : "'dead'"
        let update = """
            UPDATE journal SET state = 'pending', attempts = MIN(attempts, 1), next_attempt_at = ?, updated_at = ?
            WHERE state IN (\(states))
            """
        return try write { db in
            guard let ids else {
                try db.run(update, [at, at])
                return db.changes
            }
            var total = 0
            for chunk in Self.chunks(Array(Set(ids)).sorted(), size: 500) {
                let statement = try db.prepare(update + " AND id IN (\(Self.placeholders(chunk.count)))")
                try statement.execute([at, at] + chunk.map { $0 as (any SQLBindable)? })
                total += db.changes
            }
            return total
        }
    }

    public func counts() throws -> [JournalState: Int] {
        try withDatabase { db in
            var result: [JournalState: Int] = [:]
            for (name, count) in try db.query("SELECT state, count(*) FROM journal GROUP BY state", [], { ($0.string(0), $0.int(1)) }) {
                guard let state = JournalState(rawValue: name) else {
                    throw StoreError(.corrupt, "journal holds an unknown state")
                }
                result[state] = count
            }
            return result
        }
    }

    public func oldest(_ state: JournalState) throws -> JournalEntry? {
        try withDatabase { db in
            try db.queryFirst("SELECT \(Self.journalColumns) FROM journal WHERE state = ? ORDER BY id LIMIT 1",
                              [state.rawValue], Self.readEntry)
        }
    }

    // MARK: Rows

    static func readEntry(_ row: Statement) throws -> JournalEntry {
        let id = row.int64(0)
        guard let state = JournalState(rawValue: row.string(6)) else {
            throw StoreError(.corrupt, "journal entry \(id) has an unknown state")
        }
        let operation = PlannedOperation(kind: row.string(1), entityKey: row.string(2), zohoKey: row.string(3),
                                         payload: try json(row.string(4), column: "journal.payload"),
                                         fingerprint: row.string(5))
        return JournalEntry(id: id, operation: operation, state: state, attempts: row.int(7),
                            nextAttemptAt: row.date(8), lastError: row.optionalString(9),
                            createdAt: row.date(10), updatedAt: row.date(11))
    }

    static func requireChanged(_ db: Database, id: Int64) throws {
        if db.changes == 0 { throw StoreError(.notFound, "journal entry \(id) does not exist") }
    }

    static func chunks<T>(_ values: [T], size: Int) -> [ArraySlice<T>] {
        stride(from: 0, to: values.count, by: size).map { values[$0..<min($0 + size, values.count)] }
    }
}
