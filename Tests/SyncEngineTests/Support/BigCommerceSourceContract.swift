import Foundation
import Testing
@testable import SyncEngine

/// What the contract needs to put data into a store behind a ``BigCommerceSource``: the in-memory fake, or the
/// sandbox through its admin endpoints. Every function acts "now" in the store's clock; ids and dates are
/// assigned by the store and read back through the source, so the checks work on a store that already holds
/// other data.
struct BigCommerceSeeder: Sendable {
    /// One line of a seeded order.
    struct Line: Sendable {
        var sku: String
        var quantity: Decimal
        var priceExTax: Decimal
    }

    /// Creates an order with these lines and total (status 11, Awaiting Fulfillment); returns its id.
    var createOrder: @Sendable (_ lines: [Line], _ totalIncTax: Decimal) async throws -> Int64
    /// Changes something on the order so that BigCommerce bumps its `date_modified`.
    var touchOrder: @Sendable (_ id: Int64) async throws -> Void
    /// Creates a refund of `amount` on the order; returns its id.
    var createRefund: @Sendable (_ orderID: Int64, _ amount: Decimal) async throws -> Int64
    /// Creates a registered customer; returns its id.
    var createCustomer: @Sendable (_ email: String) async throws -> Int64
    /// Lets store time pass.
    var advance: @Sendable (_ seconds: Double) async throws -> Void
}

extension BigCommerceSeeder {
    /// A seeder writing straight into an ``InMemoryBigCommerce``.
    static func inMemory(_ store: InMemoryBigCommerce) -> BigCommerceSeeder {
        BigCommerceSeeder(
            createOrder: { lines, total in
                let id = store.nextID("order")
                let now = BigCommerceDates.wholeSeconds(store.now)
                var order = BCOrder(id: id, dateCreated: now, dateModified: now)
                order.statusID = 11
                order.status = "Awaiting Fulfillment"
                order.totalIncTax = total
                order.totalExTax = total
                order.defaultCurrencyCode = "USD"
                order.currencyCode = "USD"
                order.products = lines.enumerated().map { i, l in
                    var p = BCOrderProduct(id: id * 100 + Int64(i) + 1)
                    p.sku = l.sku
                    p.quantity = l.quantity
                    p.priceExTax = l.priceExTax
                    p.priceIncTax = l.priceExTax
                    p.totalExTax = l.priceExTax * l.quantity
                    p.totalIncTax = l.priceExTax * l.quantity
                    return p
                }
                order.shipping = []
                order.fees = []
                store.addOrder(order)
                return id
            },
            touchOrder: { id in store.editOrder(id: id) { $0.customerMessage += "." } },
            createRefund: { orderID, amount in
                let id = store.nextID("refund", startingAt: 1)
                store.addRefund(BCRefund(id: id, orderID: orderID, created: BigCommerceDates.wholeSeconds(store.now), totalAmount: amount))
                return id
            },
            createCustomer: { email in
                let id = store.nextID("customer", startingAt: 1)
                let now = BigCommerceDates.wholeSeconds(store.now)
                store.addCustomer(BCCustomer(id: id, email: email, dateCreated: now, dateModified: now))
                return id
            },
            advance: { seconds in store.advanceServerTime(by: seconds) }
        )
    }
}

/// The behaviours every ``BigCommerceSource`` must show, whoever implements it. Run against the fake in unit
/// tests and against the client talking to the sandbox, so that the fake cannot drift from the real thing.
enum BigCommerceSourceContract {
    static func run(source: any BigCommerceSource, seeder: BigCommerceSeeder) async throws {
        try await serverTimeMovesForward(source, seeder)
        try await orderWindowsAreInclusiveAndLinesAreExact(source, seeder)
        try await keysetPagingVisitsEveryOrderOnce(source, seeder)
        try await dateModifiedSortFollowsEdits(source, seeder)
        try await missingOrderIsNil(source)
        try await refundWindowsAreInclusive(source, seeder)
        try await customerCursorPagingVisitsEveryCustomerOnce(source, seeder)
    }

    static func serverTimeMovesForward(_ source: any BigCommerceSource, _ seeder: BigCommerceSeeder) async throws {
        let t1 = try await source.serverTime()
        try await seeder.advance(5)
        let t2 = try await source.serverTime()
        #expect(t2 >= t1.addingTimeInterval(4), "server time should follow the store's clock")
    }

    static func orderWindowsAreInclusiveAndLinesAreExact(_ source: any BigCommerceSource, _ seeder: BigCommerceSeeder) async throws {
        let total = Decimal(string: "336.32")!
        let lines = [BigCommerceSeeder.Line(sku: "C-1", quantity: 2, priceExTax: Decimal(string: "100.16")!),
                     BigCommerceSeeder.Line(sku: "C-2", quantity: 1, priceExTax: Decimal(string: "136.00")!)]
        var ids: [Int64] = []
        for _ in 0..<3 {
            ids.append(try await seeder.createOrder(lines, total))
            try await seeder.advance(10)
        }
        var stored: [BCOrder] = []
        for id in ids { stored.append(try #require(try await source.order(id: id))) }
        let (a, b, c) = (stored[0], stored[1], stored[2])
        #expect(a.dateModified < b.dateModified && b.dateModified < c.dateModified)
        #expect(a.totalIncTax == total, "money must round-trip exactly")
        #expect(a.products?.map(\.sku) == ["C-1", "C-2"])
        #expect(a.products?.map(\.quantity) == [2, 1])

        var both = OrderQuery()
        both.modifiedFrom = a.dateModified
        both.modifiedTo = c.dateModified
        both.minID = a.id
        both.maxID = c.id
        let all = try await source.orders(both)
        #expect(all.records.map(\.id) == ids, "both bounds of the modified window are inclusive")
        #expect(all.isLastPage)
        #expect(all.records.allSatisfy { $0.products?.count == 2 }, "includeLines embeds the lines")

        var point = both
        point.modifiedFrom = b.dateModified
        point.modifiedTo = b.dateModified
        #expect(try await source.orders(point).records.map(\.id) == [b.id])

        var noLines = both
        noLines.includeLines = false
        #expect(try await source.orders(noLines).records.allSatisfy { $0.products == nil })
    }

    static func keysetPagingVisitsEveryOrderOnce(_ source: any BigCommerceSource, _ seeder: BigCommerceSeeder) async throws {
        var ids: [Int64] = []
        for i in 0..<5 {
            ids.append(try await seeder.createOrder([.init(sku: "K-\(i)", quantity: 1, priceExTax: 1)], 1))
        }
        var seen: [Int64] = []
        var query = OrderQuery()
        query.minID = ids[0]
        query.maxID = ids[4]
        query.limit = 2
        query.includeLines = false
        for _ in 0..<10 {
            let page = try await source.orders(query)
            #expect(page.records.count <= 2)
            seen += page.records.map(\.id)
            guard !page.isLastPage, let last = page.records.last else { break }
            query.minID = last.id + 1
        }
        #expect(seen == ids, "keyset paging on min_id returns every order once, in id order")

        var past = OrderQuery()
        past.minID = ids[0]
        past.maxID = ids[4]
        past.limit = 5
        past.page = 2
        let empty = try await source.orders(past)
        #expect(empty.records.isEmpty && empty.isLastPage, "a page past the end is empty and last")
    }

    static func dateModifiedSortFollowsEdits(_ source: any BigCommerceSource, _ seeder: BigCommerceSeeder) async throws {
        var ids: [Int64] = []
        for i in 0..<3 {
            ids.append(try await seeder.createOrder([.init(sku: "S-\(i)", quantity: 1, priceExTax: 1)], 1))
            try await seeder.advance(2)
        }
        let first = try #require(try await source.order(id: ids[0]))
        try await seeder.advance(5)
        try await seeder.touchOrder(ids[0])
        var query = OrderQuery()
        query.modifiedFrom = first.dateModified
        query.modifiedTo = try await source.serverTime()
        query.minID = ids[0]
        query.maxID = ids[2]
        query.sort = "date_modified:asc"
        let page = try await source.orders(query)
        #expect(page.records.map(\.id) == [ids[1], ids[2], ids[0]], "an edited order moves to the end of date_modified:asc")
        let edited = try #require(page.records.last)
        #expect(edited.dateModified > first.dateModified, "an edit bumps date_modified")
    }

    static func missingOrderIsNil(_ source: any BigCommerceSource) async throws {
        #expect(try await source.order(id: 987_654_321) == nil)
    }

    static func refundWindowsAreInclusive(_ source: any BigCommerceSource, _ seeder: BigCommerceSeeder) async throws {
        let orderID = try await seeder.createOrder([.init(sku: "R-1", quantity: 1, priceExTax: 50)], 50)
        let r1 = try await seeder.createRefund(orderID, Decimal(string: "12.10")!)
        try await seeder.advance(10)
        let r2 = try await seeder.createRefund(orderID, Decimal(string: "0.01")!)
        let refunds = try await source.refunds(orderID: orderID)
        #expect(refunds.map(\.id) == [r1, r2])
        #expect(refunds.map(\.totalAmount) == [Decimal(string: "12.1")!, Decimal(string: "0.01")!])
        let first = try #require(refunds.first), second = try #require(refunds.last)

        let window = try await source.refunds(createdFrom: first.created, createdTo: second.created, page: 1, limit: 250)
        #expect(window.records.filter { $0.orderID == orderID }.map(\.id) == [r1, r2], "created bounds are inclusive")
        let point = try await source.refunds(createdFrom: second.created, createdTo: second.created, page: 1, limit: 250)
        #expect(point.records.filter { $0.orderID == orderID }.map(\.id) == [r2])
    }

    static func customerCursorPagingVisitsEveryCustomerOnce(_ source: any BigCommerceSource, _ seeder: BigCommerceSeeder) async throws {
        var ids: [Int64] = []
        let tag = UUID().uuidString.prefix(8).lowercased()
        for i in 0..<3 {
            ids.append(try await seeder.createCustomer("contract-\(tag)-\(i)@example.com"))
            try await seeder.advance(3)
        }
        let stored = try await source.customers(ids: ids)
        #expect(stored.map(\.id) == ids)
        let from = try #require(stored.first?.dateModified), to = try #require(stored.last?.dateModified)
        var seen: [Int64] = []
        var cursor: String? = nil
        for _ in 0..<20 {
            let page = try await source.customers(modifiedFrom: from, modifiedTo: to, after: cursor, limit: 1)
            #expect(page.records.count <= 1)
            seen += page.records.map(\.id)
            guard !page.isLastPage, let next = page.nextCursor else { break }
            cursor = next
        }
        #expect(seen.filter(ids.contains) == ids, "cursor paging returns each customer once, date_modified ascending")
    }
}
