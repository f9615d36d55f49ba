import Foundation
import SyncEngine

// MARK: LimiterStateStore

extension SQLiteStateStore {
    /// `body` runs inside the transaction and under the store's lock: it must be quick and must not
    /// call back into the store.
    public func updateLimiterState<T>(_ body: (inout LimiterState?) throws -> T) throws -> T {
        // One IMMEDIATE transaction: the write lock is held from the read to the write, so two
        // processes sharing the budget cannot both spend the same token.
        try write { db in
            let before = try Self.readLimiter(db)
            var state = before
            let result = try body(&state)
            if state != before {
                if let state {
                    try db.run("""
                        INSERT INTO limiter (id, tokens, updated_at, day, day_count, blocked_until, recent)
                        VALUES (1, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (id) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at,
                            day = excluded.day, day_count = excluded.day_count, blocked_until = excluded.blocked_until,
                            recent = excluded.recent
                        """, [state.tokens, state.updatedAt, state.day, state.dayCount, state.blockedUntil,
                              Self.recentText(state.recentCalls)])
                } else {
                    try db.run("DELETE FROM limiter")
                }
            }
            return result
        }
    }

    public func limiterState() throws -> LimiterState? {
        try withDatabase { db in try Self.readLimiter(db) }
    }

    static func readLimiter(_ db: Database) throws -> LimiterState? {
        try db.queryFirst("SELECT tokens, updated_at, day, day_count, blocked_until, recent FROM limiter WHERE id = 1") { row in
            LimiterState(tokens: row.double(0), updatedAt: row.date(1), day: row.string(2), dayCount: row.int(3),
                         blockedUntil: row.optionalDate(4), recentCalls: try recentCalls(row.string(5)))
        }
    }

    /// Send times as a JSON array of unix seconds. Swift's `Double` description is the shortest text
    /// that reads back to the same value, so times round-trip exactly.
    static func recentText(_ dates: [Date]) -> String {
        JSON.array(dates.map { .number(String($0.timeIntervalSince1970)) }).serializedString()
    }

    static func recentCalls(_ text: String) throws -> [Date] {
        guard let items = try json(text, column: "limiter.recent").array else {
            throw StoreError(.corrupt, "column limiter.recent is not a JSON array")
        }
        return try items.map { item in
            guard let text = item.stringOrNumberText, let seconds = Double(text) else {
                throw StoreError(.corrupt, "column limiter.recent holds a non-number")
            }
            return Date(timeIntervalSince1970: seconds)
        }
    }
}
