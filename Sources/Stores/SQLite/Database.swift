import CSQLite
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a transaction takes its locks. https://www.sqlite.org/lang_transaction.html
enum TransactionKind: String, Sendable {
    case deferred = "DEFERRED"
    /// Takes the write lock at BEGIN, so a write never fails half-way with an unfixable `SQLITE_BUSY`.
    case immediate = "IMMEDIATE"
    case exclusive = "EXCLUSIVE"
}

/// One SQLite connection, configured for durability.
///
/// Invariants after `init`: extended result codes on, `journal_mode=WAL` (checked), `synchronous=FULL`,
/// `foreign_keys=ON`, a busy timeout, and the database file (and its -wal/-shm files) at mode 0600.
/// A `Database` is not thread-safe: use it from one thread at a time (the owner serializes access).
final class Database {
    let handle: OpaquePointer
    /// The database file's path.
    let path: String
    private var statementCache: [String: Statement] = [:]

    /// Opens (creating if needed) the database at `path`.
    init(path: String, busyTimeoutMs: Int32 = 5000) throws {
        self.path = path
        try Database.createPrivateFile(path)

        var db: OpaquePointer?
        // NOMUTEX: the owner serializes access, so SQLite's own per-connection mutex is redundant.
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let error = SQLiteError(code: rc, db: db)
            // https://www.sqlite.org/c3ref/open.html — a handle is usually returned even on failure,
            // and must be closed to release its memory.
            sqlite3_close_v2(db)
            throw error
        }
        self.handle = db

        do {
            try setUp(busyTimeoutMs: busyTimeoutMs)
        } catch {
            sqlite3_close_v2(db)
            throw error
        }
    }

    deinit {
        // Finalize cached statements first so the close below is not deferred.
        statementCache.removeAll()
        sqlite3_close_v2(handle)
    }

    private func setUp(busyTimeoutMs: Int32) throws {
        // https://www.sqlite.org/c3ref/extended_result_codes.html
        sqlite3_extended_result_codes(handle, 1)
        // https://www.sqlite.org/c3ref/busy_timeout.html — set first: switching to WAL needs a lock.
        sqlite3_busy_timeout(handle, busyTimeoutMs)
        // https://www.sqlite.org/wal.html — the answer is the mode actually in force.
        let mode = try scalarString("PRAGMA journal_mode = WAL")
        guard mode?.lowercased() == "wal" else {
            throw SQLiteError(extendedResultCode: SQLITE_ERROR,
                              message: "journal_mode=WAL was refused (mode is \(mode ?? "unknown"))")
        }
        // https://www.sqlite.org/pragma.html#pragma_synchronous — FULL, not NORMAL: in WAL mode NORMAL
        // can lose the last commits on power loss, and Zoho is a second database we cannot roll back.
        try execute("PRAGMA synchronous = FULL")
        // https://www.sqlite.org/foreignkeys.html — off by default, per connection.
        try execute("PRAGMA foreign_keys = ON")
        // Reading the schema touches the file and creates -wal/-shm, which should be private too.
        _ = try scalarInt("PRAGMA schema_version")
        Database.restrictSidecars(path)
    }

    // MARK: Files

    /// Creates the file with mode 0600 before SQLite does (SQLite would use the umask), and narrows an
    /// existing file's mode to 0600.
    static func createPrivateFile(_ path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let code = errno
            throw SQLiteError(extendedResultCode: SQLITE_CANTOPEN,
                              message: "cannot create \(path): \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        // The umask may have narrowed the mode further but never widened it; fchmod states it exactly.
        _ = fchmod(fd, 0o600)
    }

    /// SQLite gives -wal and -shm the main file's mode; this states it for files created earlier.
    static func restrictSidecars(_ path: String) {
        for suffix in ["-wal", "-shm", "-journal"] where FileManager.default.fileExists(atPath: path + suffix) {
            _ = chmod(path + suffix, 0o600)
        }
    }

    // MARK: Running SQL

    /// Runs one or more statements that take no parameters (schema, PRAGMAs, BEGIN/COMMIT).
    func execute(_ sql: String) throws {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw SQLiteError(code: rc, db: handle) }
    }

    /// A new statement, finalized when released.
    func prepare(_ sql: String) throws -> Statement {
        try Statement(db: handle, sql: sql)
    }

    /// A statement kept for the connection's lifetime and reused on every call with the same SQL.
    /// The caller must finish with it (`execute`, `rows` and `firstRow` reset it) before asking for it again.
    func cachedStatement(_ sql: String) throws -> Statement {
        if let cached = statementCache[sql] { return cached }
        let statement = try Statement(db: handle, sql: sql, persistent: true)
        statementCache[sql] = statement
        return statement
    }

    /// Runs a statement that returns no rows, with `values` bound to its placeholders.
    func run(_ sql: String, _ values: [(any SQLBindable)?] = []) throws {
        try cachedStatement(sql).execute(values)
    }

    /// Every row of a query, read through `read`.
    func query<T>(_ sql: String, _ values: [(any SQLBindable)?] = [], _ read: (Statement) throws -> T) throws -> [T] {
        try cachedStatement(sql).rows(values, read)
    }

    /// The first row of a query, if any.
    func queryFirst<T>(_ sql: String, _ values: [(any SQLBindable)?] = [], _ read: (Statement) throws -> T) throws -> T? {
        try cachedStatement(sql).firstRow(values, read)
    }

    func scalarInt(_ sql: String, _ values: [(any SQLBindable)?] = []) throws -> Int? {
        try queryFirst(sql, values) { $0.optionalInt(0) } ?? nil
    }

    func scalarString(_ sql: String, _ values: [(any SQLBindable)?] = []) throws -> String? {
        try queryFirst(sql, values) { $0.optionalString(0) } ?? nil
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes64(handle)) }

    /// The rowid of the last successful INSERT.
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// True outside a transaction.
    var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }

    // MARK: Transactions

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it (or the COMMIT) throws.
    /// Writes use `.immediate` so the write lock is taken up front.
    func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        try execute("BEGIN \(kind.rawValue) TRANSACTION")
        do {
            let result = try body()
            try execute("COMMIT TRANSACTION")
            return result
        } catch {
            // SQLite may already have rolled back on its own (for example after SQLITE_FULL).
            if !isAutocommit { try? execute("ROLLBACK TRANSACTION") }
            throw error
        }
    }
}
