import Foundation
import SyncEngine

/// Every persistence port of the engine on one SQLite file (`HOME/state.db`).
///
/// Invariants:
/// - The database is opened with WAL, `synchronous=FULL`, `foreign_keys=ON` and a busy timeout, and is
///   migrated to the current schema before `init` returns.
/// - Every method runs under one lock, so the store may be shared by several tasks; calls are
///   serialized, and a closure passed in (`updateLimiterState`) must not call back into the store.
/// - Every write runs in an IMMEDIATE transaction; multi-row changes are all-or-nothing.
/// - Failures are `StoreError`s whose messages never hold bound values; decrypting a secret can also
///   throw `VaultError`.
/// - Secrets and the Zoho access token are stored only as AES-256-GCM blobs from the vault.
public final class SQLiteStateStore: StateStore, @unchecked Sendable {
    /// The database file's name inside the home folder.
    public static let fileName = "state.db"
    /// The name the access token is encrypted under (its AAD), like any named secret.
    public static let accessTokenSecretName = "zoho.access_token"

    /// The database file.
    public let path: URL
    // `db` and `vault` are only touched while `lock` is held; that is what makes the class Sendable.
    private let db: Database
    private var vault: SecretsVault
    private let lock = NSLock()

    /// Opens (creating and migrating if needed) the state database at `path`, with `vault` for secrets.
    public init(path: URL, vault: SecretsVault, busyTimeoutMs: Int32 = 5000) throws {
        self.path = path
        self.vault = vault
        do {
            db = try Database(path: path.path, busyTimeoutMs: busyTimeoutMs)
            try Schema.migrate(db)
            Database.restrictSidecars(path.path)
        } catch let error as SQLiteError {
            throw error.storeError
        }
    }

    /// Opens `home/state.db`.
    public static func open(home: URL, vault: SecretsVault) throws -> SQLiteStateStore {
        try SQLiteStateStore(path: home.appendingPathComponent(fileName), vault: vault)
    }

    /// The id of the master key new secrets are encrypted with.
    public var activeKeyID: String { lock.withLock { vault.keyID } }

    /// The schema version this program creates and understands.
    public static var currentSchemaVersion: Int { Schema.currentVersion }

    /// The schema version of the open database (`PRAGMA user_version`).
    public func schemaVersion() throws -> Int { try withDatabase { try Schema.userVersion($0) } }

    /// Runs the migrations again (a no-op when the schema is current).
    public func migrate() throws { try withDatabase { try Schema.migrate($0) } }

    // MARK: Access

    /// Runs `body` with exclusive use of the connection, turning SQLite failures into `StoreError`s.
    func withDatabase<T>(_ body: (Database) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        do {
            return try body(db)
        } catch let error as SQLiteError {
            throw error.storeError
        }
    }

    /// Runs `body` in one IMMEDIATE transaction.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try withDatabase { db in try db.transaction(.immediate) { try body(db) } }
    }

    /// Runs several reads against one snapshot.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try withDatabase { db in try db.transaction(.deferred) { try body(db) } }
    }

    /// The vault, for use while the lock is held.
    func currentVault() -> SecretsVault { vault }

    // MARK: Key rotation

    /// Re-encrypts every secret and the access token under `newKey` in one transaction, then uses
    /// `newKey` for everything after. Returns how many rows were re-encrypted.
    ///
    /// The caller then replaces the key file (`MasterKey.replaceFile(home:with:)`). Until it does, the
    /// stored secrets are readable only with `newKey`, so keep `newKey` until the file is replaced.
    /// Fails, changing nothing, if any row cannot be decrypted with the current key.
    @discardableResult
    public func rotateKey(to newKey: MasterKey) throws -> Int {
        try withDatabase { db in
            let newVault = SecretsVault(key: newKey)
            let count = try db.transaction(.immediate) { () throws -> Int in
                var count = 0
                let rows = try db.query("SELECT name, key_id, blob FROM secrets ORDER BY name") {
                    (name: $0.string(0), keyID: $0.string(1), blob: $0.data(2))
                }
                for row in rows {
                    let secret = try vault.decrypt(blob: row.blob, name: row.name, keyID: row.keyID)
                    let sealed = try newVault.encrypt(secret, name: row.name)
                    try db.run("UPDATE secrets SET key_id = ?, blob = ?, updated_at = ? WHERE name = ?",
                               [sealed.keyID, sealed.blob, Date(), row.name])
                    count += 1
                }
                if let token = try db.queryFirst("SELECT key_id, access_blob FROM tokens WHERE id = 1", [], {
                    (keyID: $0.string(0), blob: $0.data(1))
                }) {
                    let name = Self.accessTokenSecretName
                    let secret = try vault.decrypt(blob: token.blob, name: name, keyID: token.keyID)
                    let sealed = try newVault.encrypt(secret, name: name)
                    try db.run("UPDATE tokens SET key_id = ?, access_blob = ? WHERE id = 1", [sealed.keyID, sealed.blob])
                    count += 1
                }
                return count
            }
            vault = newVault
            return count
        }
    }
}

// MARK: SQL text and JSON columns

extension SQLiteStateStore {
    /// `?, ?, …` for an IN list of `count` values. Placeholders only: values are always bound.
    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// Parses a JSON column; NULL reads as `.null`.
    static func json(_ text: String?, column: String) throws -> JSON {
        guard let text else { return .null }
        do {
            return try JSON.parse(text)
        } catch {
            throw StoreError(.corrupt, "column \(column) does not hold valid JSON")
        }
    }

    /// A JSON value for a TEXT column; `.null` is stored as NULL.
    static func jsonText(_ value: JSON) -> String? {
        value.isNull ? nil : value.serializedString()
    }
}
