import CSQLite
import Foundation

/// `SQLITE_TRANSIENT`: SQLite copies the bytes before the bind call returns. The C macro does not import.
let SQLITE_TRANSIENT = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// A value SQLite stores: one of its five storage classes.
enum SQLValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)
}

/// A Swift value that binds to a statement parameter. Dates bind as REAL unix seconds.
protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

extension Int64: SQLBindable { var sqlValue: SQLValue { .integer(self) } }
extension Int: SQLBindable { var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Int32: SQLBindable { var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Bool: SQLBindable { var sqlValue: SQLValue { .integer(self ? 1 : 0) } }
extension Double: SQLBindable { var sqlValue: SQLValue { .real(self) } }
extension String: SQLBindable { var sqlValue: SQLValue { .text(self) } }
extension Data: SQLBindable { var sqlValue: SQLValue { .blob(self) } }
extension Date: SQLBindable { var sqlValue: SQLValue { .real(timeIntervalSince1970) } }
extension SQLValue: SQLBindable { var sqlValue: SQLValue { self } }

/// A prepared statement. Prepared in `init`, finalized in `deinit`, so its lifetime is the object's.
///
/// Invariants: belongs to one `Database` and is used under that database's exclusive access; after
/// use it is `reset()` so that a half-read SELECT never keeps a read transaction (and a WAL snapshot)
/// open.
final class Statement {
    let handle: OpaquePointer
    private let db: OpaquePointer
    /// The SQL text, with placeholders only (never values).
    let sql: String

    init(db: OpaquePointer, sql: String, persistent: Bool = false) throws {
        var stmt: OpaquePointer?
        // https://www.sqlite.org/c3ref/prepare.html — PERSISTENT hints that the statement is cached.
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let rc = sqlite3_prepare_v3(db, sql, -1, flags, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else {
            sqlite3_finalize(stmt)
            throw SQLiteError(code: rc, db: db)
        }
        self.handle = stmt
        self.db = db
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// Resets the statement and binds `values` to its parameters, in order (`nil` binds NULL).
    func bind(_ values: [(any SQLBindable)?]) throws {
        reset()
        sqlite3_clear_bindings(handle)
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard expected == values.count else {
            throw SQLiteError(extendedResultCode: SQLITE_RANGE,
                              message: "statement expects \(expected) values, got \(values.count)")
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value?.sqlValue ?? .null {
            case .null: rc = sqlite3_bind_null(handle, index)
            case .integer(let v): rc = sqlite3_bind_int64(handle, index, v)
            case .real(let v): rc = sqlite3_bind_double(handle, index, v)
            case .text(let v): rc = sqlite3_bind_text(handle, index, v, -1, SQLITE_TRANSIENT)
            case .blob(let v):
                rc = v.withUnsafeBytes { raw in
                    // A zero-length blob still needs a non-null pointer or SQLite stores NULL.
                    sqlite3_bind_blob(handle, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), SQLITE_TRANSIENT)
                }
            }
            guard rc == SQLITE_OK else { throw SQLiteError(code: rc, db: db) }
        }
    }

    /// Advances one row. Returns true when a row is available, false when the statement is done.
    @discardableResult
    func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = SQLiteError(code: rc, db: db)
            reset()
            throw error
        }
    }

    /// Rewinds the statement, ending any read it holds open. Bindings are kept.
    func reset() { sqlite3_reset(handle) }

    /// Binds, runs to completion and resets. For statements that return no rows.
    func execute(_ values: [(any SQLBindable)?] = []) throws {
        try bind(values)
        defer { reset() }
        while try step() {}
    }

    /// Binds, collects every row through `read` and resets.
    func rows<T>(_ values: [(any SQLBindable)?] = [], _ read: (Statement) throws -> T) throws -> [T] {
        try bind(values)
        defer { reset() }
        var out: [T] = []
        while try step() { out.append(try read(self)) }
        return out
    }

    /// Binds and reads the first row, if any, then resets.
    func firstRow<T>(_ values: [(any SQLBindable)?] = [], _ read: (Statement) throws -> T) throws -> T? {
        try bind(values)
        defer { reset() }
        return try step() ? try read(self) : nil
    }

    // MARK: Columns (0-based)

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }
    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }
    func optionalInt(_ column: Int32) -> Int? { isNull(column) ? nil : int(column) }

    func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
    func optionalDouble(_ column: Int32) -> Double? { isNull(column) ? nil : double(column) }

    /// A REAL unix-seconds column as a `Date`.
    func date(_ column: Int32) -> Date { Date(timeIntervalSince1970: double(column)) }
    func optionalDate(_ column: Int32) -> Date? { isNull(column) ? nil : date(column) }

    /// A TEXT column; NULL reads as "".
    func string(_ column: Int32) -> String {
        guard let text = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }
    func optionalString(_ column: Int32) -> String? { isNull(column) ? nil : string(column) }

    /// A BLOB column; NULL reads as empty data.
    func data(_ column: Int32) -> Data {
        guard let bytes = sqlite3_column_blob(handle, column) else { return Data() }
        return Data(bytes: bytes, count: Int(sqlite3_column_bytes(handle, column)))
    }
    func optionalData(_ column: Int32) -> Data? { isNull(column) ? nil : data(column) }
}
