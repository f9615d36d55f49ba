import Foundation
import SyncEngine

// MARK: MappingStore

extension SQLiteStateStore {
    static let mappingColumns = "entity_key, zoho_id, zoho_number, fingerprint, zoho_status, extra, updated_at"
    static let mappingUpsertSQL = """
        INSERT INTO mappings (entity_key, zoho_id, zoho_number, fingerprint, zoho_status, extra, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (entity_key) DO UPDATE SET
            zoho_id = excluded.zoho_id, zoho_number = excluded.zoho_number, fingerprint = excluded.fingerprint,
            zoho_status = excluded.zoho_status, extra = excluded.extra, updated_at = excluded.updated_at
        """
    /// SQLite's default limit on host parameters is far above this; 500 keeps each statement small.
    static let keyChunkSize = 500

    public func mapping(_ entityKey: String) throws -> MappingRecord? {
        try withDatabase { db in
            try db.queryFirst("SELECT \(Self.mappingColumns) FROM mappings WHERE entity_key = ?", [entityKey], Self.readMapping)
        }
    }

    public func mappings(_ entityKeys: [String]) throws -> [String: MappingRecord] {
        let keys = Array(Set(entityKeys)).sorted()
        guard !keys.isEmpty else { return [:] }
        return try read { db in
            var result: [String: MappingRecord] = [:]
            result.reserveCapacity(keys.count)
            for chunk in Self.chunks(keys, size: Self.keyChunkSize) {
                let sql = "SELECT \(Self.mappingColumns) FROM mappings WHERE entity_key IN (\(Self.placeholders(chunk.count)))"
                // Full chunks share one cached statement; the last, shorter one is prepared once.
                let statement = chunk.count == Self.keyChunkSize ? try db.cachedStatement(sql) : try db.prepare(sql)
                for record in try statement.rows(chunk.map { $0 as (any SQLBindable)? }, Self.readMapping) {
                    result[record.entityKey] = record
                }
            }
            return result
        }
    }

    public func upsertMapping(_ mapping: MappingRecord) throws {
        try write { db in try Self.upsertMapping(mapping, db: db) }
    }

    public func upsertMappings(_ mappings: [MappingRecord]) throws {
        guard !mappings.isEmpty else { return }
        try write { db in
            let statement = try db.cachedStatement(Self.mappingUpsertSQL)
            for mapping in mappings { try statement.execute(Self.mappingArguments(mapping)) }
        }
    }

    public func mappings(prefix: String) throws -> [MappingRecord] {
        try withDatabase { db in
            try db.query("SELECT \(Self.mappingColumns) FROM mappings WHERE entity_key GLOB ? ORDER BY entity_key",
                         [Self.globPrefix(prefix)], Self.readMapping)
        }
    }

    public func countMappings(prefix: String) throws -> Int {
        try withDatabase { db in
            try db.scalarInt("SELECT count(*) FROM mappings WHERE entity_key GLOB ?", [Self.globPrefix(prefix)]) ?? 0
        }
    }

    // MARK: Rows

    static func upsertMapping(_ mapping: MappingRecord, db: Database) throws {
        try db.run(mappingUpsertSQL, mappingArguments(mapping))
    }

    static func mappingArguments(_ m: MappingRecord) -> [(any SQLBindable)?] {
        [m.entityKey, m.zohoID, m.zohoNumber, m.fingerprint, m.zohoStatus, jsonText(m.extra), m.updatedAt]
    }

    static func readMapping(_ row: Statement) throws -> MappingRecord {
        MappingRecord(entityKey: row.string(0), zohoID: row.string(1), zohoNumber: row.optionalString(2),
                      fingerprint: row.string(3), zohoStatus: row.string(4),
                      extra: try json(row.optionalString(5), column: "mappings.extra"), updatedAt: row.date(6))
    }

    /// A case-sensitive GLOB matching keys that start with `prefix`. GLOB (unlike LIKE) is case
    /// sensitive and can use the primary-key index for a literal prefix.
    static func globPrefix(_ prefix: String) -> String {
        var pattern = ""
        for ch in prefix {
            switch ch {
            case "*", "?", "[": pattern += "[\(ch)]"
            default: pattern.append(ch)
            }
        }
        return pattern + "*"
    }
}
