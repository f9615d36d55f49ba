import Foundation
import SyncEngine

// MARK: CursorStore

extension SQLiteStateStore {
    static let cursorUpsertSQL = """
        INSERT INTO cursors (stream, ts, id, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (stream) DO UPDATE SET ts = excluded.ts, id = excluded.id, updated_at = excluded.updated_at
        """

    public func cursor(_ stream: String) throws -> StreamCursor? {
        try withDatabase { db in
            try db.queryFirst("SELECT stream, ts, id FROM cursors WHERE stream = ?", [stream], Self.readCursor)
        }
    }

    public func allCursors() throws -> [StreamCursor] {
        try withDatabase { db in
            try db.query("SELECT stream, ts, id FROM cursors ORDER BY stream", [], Self.readCursor)
        }
    }

    public func setCursor(_ cursor: StreamCursor) throws {
        try write { db in try Self.upsertCursor(cursor, at: Date(), db: db) }
    }

    public func deleteCursor(_ stream: String) throws {
        try write { db in try db.run("DELETE FROM cursors WHERE stream = ?", [stream]) }
    }

    static func upsertCursor(_ cursor: StreamCursor, at: Date, db: Database) throws {
        try db.run(cursorUpsertSQL, [cursor.stream, cursor.timestamp, cursor.id, at])
    }

    static func readCursor(_ row: Statement) -> StreamCursor {
        StreamCursor(stream: row.string(0), timestamp: row.date(1), id: row.int64(2))
    }
}
