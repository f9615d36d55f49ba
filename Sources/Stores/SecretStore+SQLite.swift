import Foundation
import SyncEngine

// MARK: SecretStore

extension SQLiteStateStore {
    public func secret(_ name: String) throws -> Secret? {
        try withDatabase { db in
            guard let row = try db.queryFirst("SELECT key_id, blob FROM secrets WHERE name = ?", [name], {
                (keyID: $0.string(0), blob: $0.data(1))
            }) else { return nil }
            return try currentVault().decrypt(blob: row.blob, name: name, keyID: row.keyID)
        }
    }

    public func setSecret(_ value: Secret, name: String) throws {
        try write { db in
            let sealed = try currentVault().encrypt(value, name: name)
            try db.run("""
                INSERT INTO secrets (name, key_id, blob, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET key_id = excluded.key_id, blob = excluded.blob, updated_at = excluded.updated_at
                """, [name, sealed.keyID, sealed.blob, Date()])
        }
    }

    public func deleteSecret(_ name: String) throws {
        try write { db in try db.run("DELETE FROM secrets WHERE name = ?", [name]) }
    }

    public func secretNames() throws -> [String] {
        try withDatabase { db in try db.query("SELECT name FROM secrets ORDER BY name") { $0.string(0) } }
    }
}
