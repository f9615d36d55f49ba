import CSQLite
import Foundation
import Testing
@testable import Stores

@Suite struct DatabaseTests {
    let home = TempHome()

    @Test func pragmasAreSetForDurability() throws {
        let store = try makeStore(home)
        let pragmas = try store.withDatabase { db in
            (journalMode: try db.scalarString("PRAGMA journal_mode"),
             synchronous: try db.scalarInt("PRAGMA synchronous"),
             foreignKeys: try db.scalarInt("PRAGMA foreign_keys"),
             busyTimeout: try db.scalarInt("PRAGMA busy_timeout") ?? 0,
             applicationID: try db.scalarInt("PRAGMA application_id"))
        }
        #expect(pragmas.journalMode == "wal")
        #expect(pragmas.synchronous == 2, "FULL")
        #expect(pragmas.foreignKeys == 1)
        #expect(pragmas.busyTimeout > 0)
        #expect(pragmas.applicationID == Int(Schema.applicationID))
    }

    @Test func migrationsRunTwiceSafely() throws {
        let store = try makeStore(home)
        #expect(try store.schemaVersion() == Schema.currentVersion)
        try store.setCursor(StreamCursor(stream: "orders", timestamp: t(), id: 7))
        try store.migrate()
        try store.migrate()
        #expect(try store.schemaVersion() == Schema.currentVersion)

        // A second connection to the same file migrates again (a no-op) and sees the data.
        let again = try makeStore(home, key: MasterKey.generate())
        #expect(try again.schemaVersion() == Schema.currentVersion)
        #expect(try again.cursor("orders") == StreamCursor(stream: "orders", timestamp: t(), id: 7))
    }

    @Test func newerSchemaIsRefused() throws {
        let path = home.path("state.db")
        _ = try makeStore(home)
        do {
            let db = try Database(path: path)
            try db.execute("PRAGMA user_version = 99")
        }
        #expect(throws: StoreError.self) { try makeStore(home) }
    }

    @Test func otherProgramsDatabaseIsRefused() throws {
        let path = home.path("state.db")
        do {
            let db = try Database(path: path)
            try db.execute("CREATE TABLE notes (body TEXT)")
        }
        let error = #expect(throws: StoreError.self) { try makeStore(home) }
        #expect(error?.kind == .corrupt)
    }

    @Test func filesArePrivate() throws {
        let store = try makeStore(home)
        try store.setCursor(StreamCursor(stream: "orders", timestamp: t()))
        #expect(fileMode(home.path("state.db")) == 0o600)
        for sidecar in ["state.db-wal", "state.db-shm"] where FileManager.default.fileExists(atPath: home.path(sidecar)) {
            #expect(fileMode(home.path(sidecar)) == 0o600)
        }
    }

    @Test func existingFileIsNarrowedTo0600() throws {
        let path = home.path("state.db")
        _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644])
        _ = try makeStore(home)
        #expect(fileMode(path) == 0o600)
    }

    @Test func errorsNeverCarryBoundValues() throws {
        let db = try Database(path: home.path("plain.db"))
        try db.execute("CREATE TABLE t (name TEXT PRIMARY KEY)")
        let value = "personal-data-4711@example.com"
        try db.run("INSERT INTO t (name) VALUES (?)", [value])
        let error = #expect(throws: SQLiteError.self) { try db.run("INSERT INTO t (name) VALUES (?)", [value]) }
        #expect(error?.resultCode == SQLITE_CONSTRAINT)
        #expect(error?.extendedResultCode == SQLITE_CONSTRAINT | (6 << 8), "SQLITE_CONSTRAINT_PRIMARYKEY")
        #expect(error?.kind == .constraint)
        #expect(error.map { !$0.description.contains(value) } == true)
        #expect(error.map { !$0.storeError.description.contains(value) } == true)
    }

    @Test func transactionRollsBackWhenBodyThrows() throws {
        struct Boom: Error {}
        let db = try Database(path: home.path("plain.db"))
        try db.execute("CREATE TABLE t (n INTEGER)")
        #expect(throws: Boom.self) {
            try db.transaction(.immediate) {
                try db.run("INSERT INTO t (n) VALUES (?)", [1])
                throw Boom()
            }
        }
        #expect(db.isAutocommit)
        #expect(try db.scalarInt("SELECT count(*) FROM t") == 0)
        try db.transaction { try db.run("INSERT INTO t (n) VALUES (?)", [2]) }
        #expect(try db.scalarInt("SELECT n FROM t") == 2)
    }

    @Test func valuesRoundTrip() throws {
        let db = try Database(path: home.path("plain.db"))
        try db.execute("CREATE TABLE v (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)")
        let blob = Data([0, 1, 2, 255])
        try db.run("INSERT INTO v VALUES (?, ?, ?, ?, ?)", [Int64.max, 0.125, "héllo ✓", blob, nil])
        try db.run("INSERT INTO v VALUES (?, ?, ?, ?, ?)", [0, 0.0, "", Data(), nil])
        let rows = try db.query("SELECT i, r, s, b, n FROM v ORDER BY rowid") {
            ($0.int64(0), $0.double(1), $0.string(2), $0.optionalData(3), $0.optionalString(4))
        }
        #expect(rows.count == 2)
        #expect(rows[0].0 == Int64.max && rows[0].1 == 0.125 && rows[0].2 == "héllo ✓" && rows[0].3 == blob && rows[0].4 == nil)
        // An empty blob stays an empty blob, not NULL.
        #expect(rows[1].3 == Data())
    }
}
