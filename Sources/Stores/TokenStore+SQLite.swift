import Foundation
import SyncEngine

// MARK: TokenStore

extension SQLiteStateStore {
    /// Refresh attempts older than this are pruned when a new one is recorded.
    static let refreshHistory: TimeInterval = 7 * 24 * 3600

    public func zohoSession() throws -> ZohoSession? {
        try withDatabase { db in
            guard let row = try db.queryFirst("""
                SELECT key_id, access_blob, expires_at, api_domain, organization_id, org_settings FROM tokens WHERE id = 1
                """, [], { row in
                    (keyID: row.string(0), blob: row.data(1), expiresAt: row.date(2), apiDomain: row.string(3),
                     organizationID: row.optionalString(4), orgSettings: try Self.json(row.optionalString(5), column: "tokens.org_settings"))
                }) else { return nil }
            let token = try currentVault().decrypt(blob: row.blob, name: Self.accessTokenSecretName, keyID: row.keyID)
            return ZohoSession(accessToken: token, expiresAt: row.expiresAt, apiDomain: row.apiDomain,
                               organizationID: row.organizationID, orgSettings: row.orgSettings)
        }
    }

    public func saveZohoSession(_ session: ZohoSession) throws {
        try write { db in
            let sealed = try currentVault().encrypt(session.accessToken, name: Self.accessTokenSecretName)
            try db.run("""
                INSERT INTO tokens (id, key_id, access_blob, expires_at, api_domain, organization_id, org_settings)
                VALUES (1, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET key_id = excluded.key_id, access_blob = excluded.access_blob,
                    expires_at = excluded.expires_at, api_domain = excluded.api_domain,
                    organization_id = excluded.organization_id, org_settings = excluded.org_settings
                """, [sealed.keyID, sealed.blob, session.expiresAt, session.apiDomain, session.organizationID,
                      Self.jsonText(session.orgSettings)])
        }
    }

    public func clearZohoSession() throws {
        try write { db in try db.run("DELETE FROM tokens") }
    }

    public func recordRefreshAttempt(at: Date) throws {
        try write { db in
            try db.run("INSERT INTO token_refreshes (at) VALUES (?)", [at])
            try db.run("DELETE FROM token_refreshes WHERE at < ?", [at.addingTimeInterval(-Self.refreshHistory)])
        }
    }

    public func refreshAttempts(since: Date) throws -> Int {
        try withDatabase { db in try db.scalarInt("SELECT count(*) FROM token_refreshes WHERE at >= ?", [since]) ?? 0 }
    }

    public func refreshThrottledUntil() throws -> Date? {
        try withDatabase { db in try db.queryFirst("SELECT until FROM token_throttle WHERE id = 1", [], { $0.date(0) }) }
    }

    public func recordRefreshThrottled(until: Date?) throws {
        try write { db in
            if let until {
                try db.run("INSERT INTO token_throttle (id, until) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET until = excluded.until", [until])
            } else {
                try db.run("DELETE FROM token_throttle")
            }
        }
    }
}
