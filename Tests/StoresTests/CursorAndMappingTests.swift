import Foundation
import Testing
@testable import Stores

@Suite struct CursorAndMappingTests {
    let home = TempHome()
    let store: SQLiteStateStore

    init() throws { store = try makeStore(home) }

    @Test func cursorsSetReadAndDelete() throws {
        #expect(try store.cursor("orders") == nil)
        try store.setCursor(StreamCursor(stream: "orders", timestamp: t(10), id: 5))
        try store.setCursor(StreamCursor(stream: "backfill:1", timestamp: t(), id: 0))
        try store.setCursor(StreamCursor(stream: "orders", timestamp: t(20.5), id: 6))
        #expect(try store.allCursors() == [StreamCursor(stream: "backfill:1", timestamp: t()),
                                           StreamCursor(stream: "orders", timestamp: t(20.5), id: 6)])
        try store.deleteCursor("backfill:1")
        #expect(try store.allCursors().map(\.stream) == ["orders"])
    }

    @Test func mappingsBulkUpsertAndLookup() throws {
        let records = (0..<1_200).map {
            MappingRecord(entityKey: "order:\($0)", zohoID: "98200000056\($0)", zohoNumber: "BC-\($0)", fingerprint: "fp",
                          zohoStatus: "sent", extra: ["line_items": ["1", "2"], "total": .number("10.00")], updatedAt: t())
        }
        try store.upsertMappings(records)
        // More keys than one chunk, with duplicates and missing ones.
        let keys = (0..<1_100).map { "order:\($0 * 2)" } + ["order:0", "customer:1"]
        let found = try store.mappings(keys)
        #expect(found.count == 600)
        #expect(found["order:2"] == records[2])
        #expect(found["order:1"] == nil && found["customer:1"] == nil)
        #expect(try store.mappings([]).isEmpty)

        var changed = records[7]
        changed.zohoStatus = "void"
        changed.extra = .null
        changed.zohoNumber = nil
        try store.upsertMapping(changed)
        #expect(try store.mapping("order:7") == changed)
        #expect(try store.countMappings(prefix: "order:") == 1_200)
    }

    @Test func mappingsByPrefixAreLiteralAndOrdered() throws {
        let keys = ["sku:A*1", "sku:AB", "sku:a", "sku:A?", "order:1", "guest:x@y.com"]
        try store.upsertMappings(keys.map { MappingRecord(entityKey: $0, zohoID: $0, fingerprint: "f", zohoStatus: "active", updatedAt: t()) })
        #expect(try store.mappings(prefix: "sku:A").map(\.entityKey) == ["sku:A*1", "sku:A?", "sku:AB"])
        #expect(try store.mappings(prefix: "sku:A*").map(\.entityKey) == ["sku:A*1"])
        #expect(try store.countMappings(prefix: "sku:") == 4)
        #expect(try store.countMappings(prefix: "") == 6)
    }
}
