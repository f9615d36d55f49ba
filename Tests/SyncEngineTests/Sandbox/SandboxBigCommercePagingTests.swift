import Foundation
import Testing
@testable import SyncEngine

/// Keyset paging of orders, as `SyncRunner.pollOrders` reads a window, against a 1,000-order store in which
/// 300 orders share one `date_modified` second, while orders are edited and created between page fetches.
@Suite(.timeLimit(.minutes(2)))
struct SandboxBigCommercePagingTests {
    /// Reads `[lo, hi]` exactly like `pollOrders`: `sort=id:asc`, `limit=250`, `min_id` = last id + 1 until a
    /// last page. `between(page)` runs after each page that is not the last.
    static func readWindow(_ client: BigCommerceClient, lo: Date, hi: Date,
                           between: (Int) async throws -> Void = { _ in }) async throws -> (ids: [Int64], pages: Int) {
        var ids: [Int64] = []
        var minID: Int64 = 0
        var pages = 0
        while pages < 100 {
            pages += 1
            var q = OrderQuery()
            q.modifiedFrom = lo
            q.modifiedTo = hi
            q.minID = minID > 0 ? minID : nil
            q.sort = "id:asc"
            q.limit = 250
            let page = try await client.orders(q)
            #expect(page.rejected.isEmpty, "page \(pages) rejected \(page.rejected)")
            for order in page.records {
                #expect(order.dateModified >= lo && order.dateModified <= hi,
                        "order \(order.id) modified \(order.dateModified) is outside the window")
            }
            ids += page.records.map(\.id)
            let maxID = page.records.map(\.id).max() ?? minID
            if page.isLastPage || page.records.isEmpty { break }
            minID = maxID + 1
            try await between(pages)
        }
        return (ids, pages)
    }

    static func rawCount(_ sandbox: SandboxProcess, from: Date, to: Date) async throws -> Int {
        let enc = { (d: Date) in BigCommerceDates.iso8601WithOffset(d).replacingOccurrences(of: "+", with: "%2B") }
        let url = URL(string: "\(sandbox.baseURL.absoluteString)/stores/\(SandboxProcess.storeHash)/v2/orders/count"
            + "?min_date_modified=\(enc(from))&max_date_modified=\(enc(to))")!
        let reply = try await sandbox.transport.send(HTTPRequest(method: "GET", url: url, headers: [
            "X-Auth-Token": SandboxProcess.bcToken, "Accept": "application/json"]))
        guard reply.status == 200, let count = try JSON.parse(reply.body)["count"]?.int else {
            throw SandboxError("orders/count answered \(reply.status)")
        }
        return count
    }

    @Test func keysetPagingReadsEveryOrderOnceWhileOrdersChange() async throws {
        let sandbox = try await SandboxProcess.start(["--orders", "1000", "--days", "30"])
        defer { sandbox.stop() }
        let summary = try #require(try await sandbox.get("/_sandbox/state")["bc"])
        let firstID = try #require(summary["order_ids"]?[0]?.int64)
        let lastID = try #require(summary["order_ids"]?[1]?.int64)
        try #require(summary["orders"]?.int == 1000 && lastID - firstID == 999, "a 1,000-order store with ids \(firstID)…\(lastID)")
        let existing = Set(firstID...lastID)

        // 300 orders, spread over every page, get one shared date_modified second.
        let now = try await sandbox.now()
        let shared = Date(timeIntervalSince1970: (now - 7200).rounded(.down))
        let sharedIDs = (0..<300).map { firstID + 1 + Int64($0) * 3 }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for chunk in stride(from: 0, to: sharedIDs.count, by: 38) {
                let ids = sharedIDs[chunk..<min(chunk + 38, sharedIDs.count)]
                group.addTask {
                    for id in ids {
                        try await sandbox.editOrder(id, JSONObject([("date_modified", .int(Int(shared.timeIntervalSince1970)))]))
                    }
                }
            }
            try await group.waitForAll()
        }
        let client = sandbox.bigCommerceClient()
        let serverNow = try await client.serverTime()
        let lo = serverNow.addingTimeInterval(-40 * 86_400)
        let hi = serverNow.addingTimeInterval(-60)
        let inWindow = try await Self.rawCount(sandbox, from: lo, to: hi)
        let inSharedSecond = try await Self.rawCount(sandbox, from: shared, to: shared)
        try #require(inWindow == 1000 && inSharedSecond == 300,
                     "seeded window holds \(inWindow) orders (want 1000), the shared second \(inSharedSecond) (want 300)")

        // Between pages: edit orders already read and orders not read yet (some of them in the shared second),
        // and create new ones.
        var edited: [Int64] = []
        var created: [Int64] = []
        let first = try await Self.readWindow(client, lo: lo, hi: hi) { page in
            let behind = firstID + Int64(page * 250) - 120
            let ahead = [firstID + Int64(page * 250) + 10, firstID + Int64(page * 250) + 301, lastID - Int64(page)]
            for id in [behind] + ahead where id <= lastID && !edited.contains(id) {
                try await sandbox.editOrder(id)
                edited.append(id)
            }
            for _ in 0..<2 {
                let order = try await sandbox.createOrder(["lines": [["name": "Paging", "sku": "PG-1", "price": "5.00", "quantity": 1]]])
                created.append(try #require(order["id"]?.int64))
            }
        }

        // The next run: the window starts `lookback` (600 s) before the previous end and ends `lag` (60 s)
        // before the server's clock, after time has moved on.
        try await sandbox.advance(180)
        let hi2 = try await client.serverTime().addingTimeInterval(-60)
        let second = try await Self.readWindow(client, lo: hi.addingTimeInterval(-600), hi: hi2)

        let editedSet = Set(edited)
        let counts1 = Dictionary(first.ids.map { ($0, 1) }, uniquingKeysWith: +)
        let counts2 = Dictionary(second.ids.map { ($0, 1) }, uniquingKeysWith: +)
        let unedited = existing.subtracting(editedSet)
        let notOnce = unedited.filter { counts1[$0] != 1 }.sorted()
        let repeated1 = counts1.filter { $0.value > 1 }.keys.sorted()
        let repeated2 = counts2.filter { $0.value > 1 }.keys.sorted()
        let editedMissing = editedSet.filter { counts2[$0] == nil }.sorted()
        let createdMissing = created.filter { counts2[$0] == nil }
        let missed = existing.union(created).filter { counts1[$0] == nil && counts2[$0] == nil }.sorted()
        let sharedRead = sharedIDs.filter { counts1[$0] != nil }.count
        let figures = "first window: \(first.ids.count) orders in \(first.pages) pages (\(sharedRead) of the 300 shared-second "
            + "orders); edited between pages \(edited.count) \(edited.sorted()), created \(created.count); second window: "
            + "\(second.ids.count) orders in \(second.pages) pages"
        print("BigCommerce keyset paging: \(figures)")

        #expect(notOnce.isEmpty, "unedited orders not read exactly once in the first window: \(notOnce.prefix(20)) — \(figures)")
        #expect(repeated1.isEmpty && repeated2.isEmpty, "no order is read twice within a window: \(repeated1) \(repeated2)")
        #expect(editedMissing.isEmpty, "edited orders must be read by the next window: \(editedMissing) — \(figures)")
        #expect(createdMissing.isEmpty, "created orders must be read by the next window: \(createdMissing) — \(figures)")
        #expect(missed.isEmpty, "no order missed: \(missed.prefix(20)) — \(figures)")
        #expect(sharedRead + sharedIDs.filter(editedSet.contains).filter { counts1[$0] == nil }.count == 300, "\(figures)")
        #expect(first.pages >= 4, "\(figures)")
    }
}
