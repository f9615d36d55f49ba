import CSQLite
import Foundation

/// The state database's schema, as numbered migrations on `PRAGMA user_version`.
///
/// Invariants: migration N runs once, in its own IMMEDIATE transaction together with the bump of
/// `user_version` to N, so a crash leaves the database at N-1 or N, never in between. Running `migrate`
/// again is a no-op. A database newer than this program is refused rather than touched.
/// Dates are REAL unix seconds; JSON columns are TEXT.
enum Schema {
    /// `PRAGMA application_id`: "ZBSY" in ASCII, so `file` and other tools can tell the database apart.
    static let applicationID: Int32 = 0x5A42_5359

    /// Migrations in order; index + 1 is the version each produces. Append only: never edit one that shipped.
    static let migrations: [String] = [
        // 1: the initial schema.
        """
        CREATE TABLE cursors (
            stream      TEXT PRIMARY KEY NOT NULL CHECK (stream <> ''),
            ts          REAL NOT NULL,
            id          INTEGER NOT NULL DEFAULT 0,
            updated_at  REAL NOT NULL
        );

        CREATE TABLE journal (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            kind            TEXT NOT NULL,
            entity_key      TEXT NOT NULL,
            zoho_key        TEXT NOT NULL,
            payload         TEXT NOT NULL,
            fingerprint     TEXT NOT NULL,
            state           TEXT NOT NULL
                            CHECK (state IN ('pending','sending','unknown','done','failed','dead')),
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            last_error      TEXT,
            created_at      REAL NOT NULL,
            updated_at      REAL NOT NULL,
            -- An empty kind or key is a planner bug; refusing it rolls the whole plan back.
            CHECK (kind <> '' AND entity_key <> '')
        );
        CREATE INDEX journal_state_next ON journal(state, next_attempt_at);
        CREATE INDEX journal_entity ON journal(entity_key);

        CREATE TABLE mappings (
            entity_key  TEXT PRIMARY KEY NOT NULL,
            zoho_id     TEXT NOT NULL,
            zoho_number TEXT,
            fingerprint TEXT NOT NULL,
            zoho_status TEXT NOT NULL,
            extra       TEXT,
            updated_at  REAL NOT NULL
        );

        CREATE TABLE audit (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            time        REAL NOT NULL,
            run_id      TEXT NOT NULL,
            entity_key  TEXT NOT NULL,
            action      TEXT NOT NULL,
            outcome     TEXT NOT NULL,
            zoho_id     TEXT,
            http_status INTEGER,
            zoho_code   INTEGER,
            message     TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX audit_entity ON audit(entity_key, time);
        CREATE INDEX audit_time ON audit(time);

        CREATE TABLE inbox (
            delivery_id  TEXT PRIMARY KEY NOT NULL,
            scope        TEXT NOT NULL,
            entity_id    INTEGER NOT NULL,
            received_at  REAL NOT NULL,
            processed_at REAL
        );
        CREATE INDEX inbox_unprocessed ON inbox(received_at) WHERE processed_at IS NULL;

        CREATE TABLE limiter (
            id            INTEGER PRIMARY KEY CHECK (id = 1),
            tokens        REAL NOT NULL,
            updated_at    REAL NOT NULL,
            day           TEXT NOT NULL,
            day_count     INTEGER NOT NULL,
            blocked_until REAL,
            recent        TEXT NOT NULL DEFAULT '[]'
        );

        CREATE TABLE secrets (
            name       TEXT PRIMARY KEY NOT NULL,
            key_id     TEXT NOT NULL,
            blob       BLOB NOT NULL,
            updated_at REAL NOT NULL
        );

        CREATE TABLE tokens (
            id              INTEGER PRIMARY KEY CHECK (id = 1),
            key_id          TEXT NOT NULL,
            access_blob     BLOB NOT NULL,
            expires_at      REAL NOT NULL,
            api_domain      TEXT NOT NULL,
            organization_id TEXT,
            org_settings    TEXT
        );

        CREATE TABLE token_refreshes (
            at REAL NOT NULL
        );
        CREATE INDEX token_refreshes_at ON token_refreshes(at);

        CREATE TABLE runs (
            id         TEXT PRIMARY KEY NOT NULL,
            command    TEXT NOT NULL,
            started_at REAL NOT NULL,
            ended_at   REAL,
            counts     TEXT NOT NULL DEFAULT '{}',
            exit_code  INTEGER,
            summary    TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX runs_started ON runs(started_at);

        CREATE TABLE attention (
            kind        TEXT NOT NULL,
            entity_key  TEXT NOT NULL,
            message     TEXT NOT NULL,
            first_seen  REAL NOT NULL,
            last_seen   REAL NOT NULL,
            resolved_at REAL,
            PRIMARY KEY (kind, entity_key)
        );
        """,
        // 2: Zoho's refresh throttle, kept across runs (it clears only after 15–30 minutes without attempts).
        """
        CREATE TABLE token_throttle (
            id    INTEGER PRIMARY KEY CHECK (id = 1),
            until REAL NOT NULL
        );
        """,
    ]

    /// The version this program's schema reaches.
    static var currentVersion: Int { migrations.count }

    /// Brings the database up to `currentVersion`. Safe to call on every open.
    static func migrate(_ db: Database) throws {
        try checkApplicationID(db)
        // A current schema needs no write lock: `status` and the webhook open the store while a sync writes.
        if try userVersion(db) >= migrations.count {
            let found = try userVersion(db)
            if found > currentVersion {
                throw SQLiteError(extendedResultCode: SQLITE_ERROR,
                                  message: "the state database has schema version \(found); this zbsync knows up to \(currentVersion). Use a newer zbsync")
            }
            return
        }
        for (offset, sql) in migrations.enumerated() {
            let version = offset + 1
            try db.transaction(.immediate) {
                // Read inside the write transaction: another process may have migrated meanwhile.
                let found = try userVersion(db)
                guard found < version else { return }
                try db.execute(sql)
                // PRAGMA takes no placeholders; `version` is our own integer.
                try db.execute("PRAGMA user_version = \(version)")
            }
        }
        let found = try userVersion(db)
        if found > currentVersion {
            throw SQLiteError(extendedResultCode: SQLITE_ERROR,
                              message: "the state database has schema version \(found); this zbsync knows up to \(currentVersion). Use a newer zbsync")
        }
    }

    /// `PRAGMA user_version`.
    static func userVersion(_ db: Database) throws -> Int {
        try db.scalarInt("PRAGMA user_version") ?? 0
    }

    private static func checkApplicationID(_ db: Database) throws {
        let found = Int32(truncatingIfNeeded: try db.scalarInt("PRAGMA application_id") ?? 0)
        if found == applicationID { return }
        if found != 0 {
            throw SQLiteError(extendedResultCode: SQLITE_NOTADB, message: "the file is an SQLite database of another program")
        }
        let tables = try db.scalarInt("SELECT count(*) FROM sqlite_schema WHERE type = 'table'") ?? 0
        if try tables > 0 && userVersion(db) == 0 {
            throw SQLiteError(extendedResultCode: SQLITE_NOTADB, message: "the file is an SQLite database of another program")
        }
        try db.execute("PRAGMA application_id = \(applicationID)")
    }
}
