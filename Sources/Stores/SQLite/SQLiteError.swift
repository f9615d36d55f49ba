import CSQLite
import SyncEngine

/// A failed SQLite call: the primary and extended result codes and SQLite's message.
///
/// Invariant: never holds a bound value. SQLite's messages name tables, columns and constraints, not
/// the data, and every value reaches SQLite through a placeholder, so nothing here can leak personal
/// data or a secret.
struct SQLiteError: Error, Equatable, CustomStringConvertible {
    /// The primary result code (`SQLITE_BUSY`, `SQLITE_CONSTRAINT`, …).
    var resultCode: Int32
    /// The extended result code (`SQLITE_CONSTRAINT_UNIQUE`, `SQLITE_IOERR_FSYNC`, …).
    var extendedResultCode: Int32
    var message: String

    init(extendedResultCode: Int32, message: String) {
        self.resultCode = extendedResultCode & 0xFF
        self.extendedResultCode = extendedResultCode
        self.message = message
    }

    /// Reads the code and message of the last failure on `db`.
    init(code: Int32, db: OpaquePointer?) {
        let extended = db.map { sqlite3_extended_errcode($0) } ?? code
        let text = db.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code))
        // The connection's error code can be stale when the failing call did not set it; the code the
        // call returned is authoritative for the primary part.
        let chosen = (extended & 0xFF) == (code & 0xFF) ? extended : code
        self.init(extendedResultCode: chosen, message: text)
    }

    var description: String {
        "SQLite error \(resultCode) (extended \(extendedResultCode)): \(message)"
    }

    /// The port-level kind of this failure.
    var kind: StoreError.Kind {
        switch resultCode {
        case SQLITE_BUSY, SQLITE_LOCKED: return .busy
        case SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_FORMAT: return .corrupt
        case SQLITE_CONSTRAINT: return .constraint
        case SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_PROTOCOL, SQLITE_PERM, SQLITE_NOLFS:
            return .io
        case SQLITE_SCHEMA: return .schema
        case SQLITE_NOTFOUND: return .notFound
        default: return .other
        }
    }

    /// The same failure as the ports report it.
    var storeError: StoreError { StoreError(kind, description) }
}
