import Foundation
import SyncEngine

// MARK: AuditLog

extension SQLiteStateStore {
    static let auditInsertSQL = """
        INSERT INTO audit (time, run_id, entity_key, action, outcome, zoho_id, http_status, zoho_code, message)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    public func appendAudit(_ event: AuditEvent) throws {
        try write { db in try Self.insertAudit(event, db: db) }
    }

    public func audit(_ query: AuditQuery) throws -> [AuditEvent] {
        var conditions: [String] = []
        var arguments: [(any SQLBindable)?] = []
        if let key = query.entityKey {
            conditions.append("entity_key = ?")
            arguments.append(key)
        }
        if let prefix = query.entityPrefix {
            conditions.append("entity_key GLOB ?")
            arguments.append(Self.globPrefix(prefix))
        }
        if query.failedOnly { conditions.append("outcome IN ('fail', 'dead')") }
        if let since = query.since {
            conditions.append("time >= ?")
            arguments.append(since)
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments.append(max(0, query.limit))
        let sql = """
            SELECT time, run_id, entity_key, action, outcome, zoho_id, http_status, zoho_code, message
            FROM audit \(filter) ORDER BY time DESC, id DESC LIMIT ?
            """
        return try withDatabase { db in
            try db.query(sql, arguments) { row in
                AuditEvent(time: row.date(0), runID: row.string(1), entityKey: row.string(2), action: row.string(3),
                           outcome: row.string(4), zohoID: row.optionalString(5), httpStatus: row.optionalInt(6),
                           zohoCode: row.optionalInt(7), message: row.string(8))
            }
        }
    }

    static func insertAudit(_ e: AuditEvent, db: Database) throws {
        try db.run(auditInsertSQL, [e.time, e.runID, e.entityKey, e.action, e.outcome, e.zohoID, e.httpStatus, e.zohoCode, e.message])
    }
}
