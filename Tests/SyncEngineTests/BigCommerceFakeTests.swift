import Foundation
import Testing
@testable import SyncEngine

private let t0 = Date(timeIntervalSince1970: 1_800_000_000)

private func order(_ id: Int64, modified: Double, created: Double = 0, lines: Int = 1) -> BCOrder {
    var o = BCOrder(id: id, dateCreated: t0.addingTimeInterval(created), dateModified: t0.addingTimeInterval(modified))
    o.statusID = 11
    o.totalIncTax = Decimal(id)
    o.products = (0..<lines).map { i in
        var p = BCOrderProduct(id: id * 10 + Int64(i))
        p.sku = "SKU-\(id)-\(i)"
        return p
    }
    o.taxes = [BCOrderTax(id: id)]
    o.coupons = []
    return o
}

/// Pages through `[from, to]` by `(date_modified asc)` keyset paging the way the poller does: the next page starts
/// at the last seen `date_modified`, and ids already seen at that instant are skipped.
private func scan(_ store: InMemoryBigCommerce, from: Date, to: Date, limit: Int) async throws -> [BCOrder] {
    var seen: [BCOrder] = []
    var seenIDs = Set<Int64>()
    var query = OrderQuery()
    query.modifiedFrom = from
    query.modifiedTo = to
    query.sort = "date_modified:asc"
    query.limit = limit
    for _ in 0..<50 {
        let page = try await store.orders(query)
        for o in page.records where seenIDs.insert(o.id).inserted { seen.append(o) }
        guard !page.isLastPage, let last = page.records.last else { break }
        if query.modifiedFrom == last.dateModified { query.page += 1 } else { query.modifiedFrom = last.dateModified; query.page = 1 }
    }
    return seen
}

@Suite struct BigCommerceFakeTests {
    @Test func satisfiesTheSourceContract() async throws {
        let store = InMemoryBigCommerce(now: t0)
        try await BigCommerceSourceContract.run(source: store, seeder: .inMemory(store))
    }

    @Test func satisfiesTheContractWithAClock() async throws {
        let clock = TestClock(start: t0)
        let skewed = InMemoryBigCommerce(now: t0.addingTimeInterval(30), clock: clock)
        #expect(try await skewed.serverTime() == t0.addingTimeInterval(30))
        let store = InMemoryBigCommerce(clock: clock)
        #expect(try await store.serverTime() == t0)
        store.setServerTime(t0.addingTimeInterval(-90))
        #expect(try await store.serverTime() == t0.addingTimeInterval(-90), "skew against the local clock")
        clock.advance(by: 10)
        #expect(try await store.serverTime() == t0.addingTimeInterval(-80))
        try await BigCommerceSourceContract.run(source: store, seeder: .inMemory(store))
    }

    @Test func modifiedWindowIsInclusiveAtWholeSeconds() async throws {
        let store = InMemoryBigCommerce(now: t0)
        for (id, m) in [(1, 0.0), (2, 10), (3, 20), (4, 30)] { store.addOrder(order(Int64(id), modified: m)) }
        var q = OrderQuery()
        q.modifiedFrom = t0.addingTimeInterval(10.4)   // the client sends whole seconds, so this means :10
        q.modifiedTo = t0.addingTimeInterval(20.9)
        #expect(try await store.orders(q).records.map(\.id) == [2, 3])
        q.createdFrom = t0.addingTimeInterval(1)
        #expect(try await store.orders(q).records.isEmpty)
    }

    @Test func listsCarryNoTaxesOrCouponsAndLinesOnlyWhenAsked() async throws {
        let store = InMemoryBigCommerce(now: t0)
        store.addOrder(order(1, modified: 0, lines: 2))
        var q = OrderQuery()
        let embedded = try #require(try await store.orders(q).records.first)
        #expect(embedded.products?.count == 2 && embedded.taxes == nil && embedded.coupons == nil)
        q.includeLines = false
        #expect(try await store.orders(q).records.first?.products == nil)
        #expect(try await store.orderTaxes(orderID: 1).count == 1)
        await #expect(throws: RemoteError.self) { _ = try await store.orderTaxes(orderID: 2) }
    }

    @Test func capsPagesAt250AndPagesByOffset() async throws {
        let store = InMemoryBigCommerce(now: t0)
        for id in 1...300 { store.addOrder(order(Int64(id), modified: Double(id))) }
        var q = OrderQuery()
        q.limit = 500
        let first = try await store.orders(q)
        #expect(first.records.count == 250 && !first.isLastPage)
        q.page = 2
        let second = try await store.orders(q)
        #expect(second.records.map(\.id) == Array(251...300) && second.isLastPage)
        q.sort = "id:desc"
        q.page = 1
        q.limit = 2
        #expect(try await store.orders(q).records.map(\.id) == [300, 299])
        q.sort = "bogus:asc"
        await #expect(throws: RemoteError.self) { _ = try await store.orders(q) }
    }

    @Test func keysetPagingByMinIDSurvivesInsertsMidScan() async throws {
        let store = InMemoryBigCommerce(now: t0)
        for id in 1...5 { store.addOrder(order(Int64(id), modified: 0)) }
        // After the first page an order is inserted behind the scan and one ahead of it.
        store.setPageHook { s, fetch in
            guard fetch.endpoint == .orders, fetch.index == 0 else { return }
            s.addOrder(order(0, modified: 0))
            s.addOrder(order(6, modified: 0))
        }
        var q = OrderQuery()
        q.limit = 2
        q.minID = 1
        var ids: [Int64] = []
        for _ in 0..<10 {
            let page = try await store.orders(q)
            ids += page.records.map(\.id)
            guard !page.isLastPage, let last = page.records.last else { break }
            q.minID = last.id + 1
        }
        #expect(ids == [1, 2, 3, 4, 5, 6], "no id is repeated or skipped after the cursor")
        #expect(store.calls(.orders) == 4)
    }

    @Test func midScanEditsAreNeitherSkippedNorLoopedOn() async throws {
        let store = InMemoryBigCommerce(now: t0.addingTimeInterval(100))
        for id in 1...6 { store.addOrder(order(Int64(id), modified: Double(id))) }
        // While page 1 is being processed, order 2 (already read) and order 5 (not yet read) change.
        store.setPageHook { s, fetch in
            guard fetch.index == 0 else { return }
            s.editOrder(id: 2) { $0.statusID = 5 }
            s.editOrder(id: 5) { $0.statusID = 5 }
        }
        let seen = try await scan(store, from: t0, to: t0.addingTimeInterval(200), limit: 2)
        #expect(Set(seen.map(\.id)) == Set(1...6), "nothing is skipped")
        #expect(seen.count == 6, "nothing is read twice within a scan")
        #expect(seen.first { $0.id == 5 }?.statusID == 5, "an order edited ahead of the scan is read in its new state")
        #expect(store.storedOrder(id: 2)?.dateModified == t0.addingTimeInterval(100), "the edit bumped date_modified to server time")
        // The next run's window (from the cursor minus the lookback) sees order 2's change.
        let next = try await scan(store, from: t0.addingTimeInterval(6 - 600), to: t0.addingTimeInterval(200), limit: 2)
        #expect(next.suffix(2).map(\.id) == [2, 5])
        #expect(next.first { $0.id == 2 }?.statusID == 5)
    }

    @Test func lateVisibleRecordsAppearOnlyFromTheirTime() async throws {
        let store = InMemoryBigCommerce(now: t0)
        store.addOrder(order(1, modified: -30), visibleFrom: t0.addingTimeInterval(60))
        store.addRefund(BCRefund(id: 1, orderID: 1, created: t0.addingTimeInterval(-30), totalAmount: 5), visibleFrom: t0.addingTimeInterval(60))
        store.addCustomer(BCCustomer(id: 1, email: "a@example.com", dateCreated: t0, dateModified: t0), visibleFrom: t0.addingTimeInterval(60))
        var q = OrderQuery()
        q.modifiedFrom = t0.addingTimeInterval(-600)
        #expect(try await store.orders(q).records.isEmpty)
        #expect(try await store.order(id: 1) == nil)
        #expect(try await store.refunds(createdFrom: t0.addingTimeInterval(-600), createdTo: t0, page: 1, limit: 50).records.isEmpty)
        #expect(try await store.customers(ids: [1]).isEmpty)
        store.advanceServerTime(by: 60)
        let late = try await store.orders(q).records
        #expect(late.map(\.id) == [1])
        #expect(late.first?.dateModified == t0.addingTimeInterval(-30), "it keeps its old date: only a lookback window finds it")
        #expect(try await store.refunds(orderID: 1).count == 1)
        #expect(try await store.customers(ids: [1]).count == 1)
    }

    @Test func customerCursorSeesACustomerEditedMidScan() async throws {
        let store = InMemoryBigCommerce(now: t0.addingTimeInterval(100))
        for id in 1...4 {
            store.addCustomer(BCCustomer(id: Int64(id), email: "c\(id)@example.com", dateCreated: t0, dateModified: t0.addingTimeInterval(Double(id))))
        }
        store.setPageHook { s, fetch in
            if fetch.endpoint == .customers, fetch.index == 0 { s.editCustomer(id: 1) { $0.firstName = "Edited" } }
        }
        var cursor: String? = nil
        var seen: [BCCustomer] = []
        for _ in 0..<10 {
            let page = try await store.customers(modifiedFrom: t0, modifiedTo: nil, after: cursor, limit: 2)
            seen += page.records
            guard !page.isLastPage, let next = page.nextCursor else { break }
            cursor = next
        }
        #expect(seen.map(\.id) == [1, 2, 3, 4, 1])
        #expect(seen.last?.firstName == "Edited")
    }

    @Test func refundsAndTransactions() async throws {
        let store = InMemoryBigCommerce(now: t0)
        for id in 1...3 {
            store.addRefund(BCRefund(id: Int64(id), orderID: 7, created: t0.addingTimeInterval(Double(id) * 10), totalAmount: Decimal(id)))
        }
        let page = try await store.refunds(createdFrom: t0.addingTimeInterval(10), createdTo: t0.addingTimeInterval(20), page: 1, limit: 1)
        #expect(page.records.map(\.id) == [1] && !page.isLastPage)
        let page2 = try await store.refunds(createdFrom: t0.addingTimeInterval(10), createdTo: t0.addingTimeInterval(20), page: 2, limit: 1)
        #expect(page2.records.map(\.id) == [2])
        store.addTransaction(BCTransaction(id: 2, orderID: 7, event: "capture", amount: 1, dateCreated: t0, status: "ok"))
        store.addTransaction(BCTransaction(id: 1, orderID: 7, event: "authorization", amount: 1, dateCreated: t0, status: "ok"))
        #expect(try await store.transactions(orderID: 7).map(\.id) == [1, 2])
        #expect(try await store.transactions(orderID: 8).isEmpty)
    }

    @Test func countsCallsAndInjectsFailures() async throws {
        let store = InMemoryBigCommerce(now: t0)
        store.failNext(.serverTime, with: .unavailable(.bigcommerce, "down"), times: 2)
        await #expect(throws: RemoteError.unavailable(.bigcommerce, "down")) { _ = try await store.serverTime() }
        await #expect(throws: RemoteError.unavailable(.bigcommerce, "down")) { _ = try await store.serverTime() }
        #expect(try await store.serverTime() == t0)
        _ = try await store.orders(OrderQuery())
        #expect(store.calls(.serverTime) == 3 && store.calls(.orders) == 1 && store.totalCalls == 4)
        store.resetCallCounts()
        #expect(store.totalCalls == 0)
    }
}
