import Foundation
import Testing
@testable import Stores
@testable import SyncEngine

// Robustness of reading BigCommerce: keyset paging that does not depend on whether `min_id` is inclusive, an
// order whose sub-resources vanish (404) between the list and the sub-resource call, embedded lines checked
// against `items_total`, v3 paging that follows `meta.pagination`, and a missing exchange rate.

/// A BigCommerce store that delegates to an ``InMemoryBigCommerce`` but reads `min_id` its own way, can leave
/// lines, shipping and fees out of list records (as when BigCommerce sends resource links), and can make given
/// sub-resources of given orders fail.
final class QuirkyBigCommerce: BigCommerceSource, @unchecked Sendable {
    enum MinID: String, Sendable, CaseIterable, CustomTestStringConvertible {
        /// `min_id=N` returns ids ≥ N (what the in-memory fake and the sandbox do).
        case inclusive
        /// `min_id=N` returns ids > N.
        case exclusive
        /// `min_id` is not applied at all.
        case ignored
        var testDescription: String { rawValue }
    }

    let base: InMemoryBigCommerce
    let minID: MinID
    /// List records come without products, shipping and fees, so every sub-resource is read.
    var stripEmbedded = false
    /// `"<sub-resource>:<order id>"` (`products`, `shipping_addresses`, `fees`, `taxes`, `transactions`) → error.
    var failures: [String: RemoteError] = [:]
    private let lock = NSLock()
    private var listedIDs: [Int64] = []

    init(_ base: InMemoryBigCommerce, minID: MinID) {
        self.base = base
        self.minID = minID
    }

    /// Every order id the list calls returned, in order (duplicates included).
    var listed: [Int64] { lock.withLock { listedIDs } }

    private func check(_ what: String, _ orderID: Int64) throws {
        if let error = failures["\(what):\(orderID)"] { throw error }
    }

    func serverTime() async throws -> Date { try await base.serverTime() }

    func orders(_ query: OrderQuery) async throws -> SourcePage<BCOrder> {
        var q = query
        switch minID {
        case .inclusive: break
        case .exclusive: q.minID = query.minID.map { $0 + 1 }
        case .ignored: q.minID = nil
        }
        var page = try await base.orders(q)
        if stripEmbedded {
            page.records = page.records.map { o in
                var copy = o
                copy.products = nil; copy.shipping = nil; copy.fees = nil
                return copy
            }
        }
        lock.withLock { listedIDs += page.records.map(\.id) }
        return page
    }

    func order(id: Int64) async throws -> BCOrder? { try await base.order(id: id) }

    func orderProducts(orderID: Int64) async throws -> [BCOrderProduct] {
        try check("products", orderID)
        return try await base.orderProducts(orderID: orderID)
    }

    func orderTaxes(orderID: Int64) async throws -> [BCOrderTax] {
        try check("taxes", orderID)
        return try await base.orderTaxes(orderID: orderID)
    }

    func orderCoupons(orderID: Int64) async throws -> [BCCoupon] { try await base.orderCoupons(orderID: orderID) }

    func orderShipping(orderID: Int64) async throws -> [BCShipping] {
        try check("shipping_addresses", orderID)
        return try await base.orderShipping(orderID: orderID)
    }

    func orderFees(orderID: Int64) async throws -> [BCFee] {
        try check("fees", orderID)
        return try await base.orderFees(orderID: orderID)
    }

    func transactions(orderID: Int64) async throws -> [BCTransaction] {
        try check("transactions", orderID)
        return try await base.transactions(orderID: orderID)
    }

    func refunds(createdFrom: Date, createdTo: Date, page: Int, limit: Int) async throws -> SourcePage<BCRefund> {
        try await base.refunds(createdFrom: createdFrom, createdTo: createdTo, page: page, limit: limit)
    }

    func refunds(orderID: Int64) async throws -> [BCRefund] { try await base.refunds(orderID: orderID) }

    func customers(modifiedFrom: Date, modifiedTo: Date?, after: String?, limit: Int) async throws -> SourcePage<BCCustomer> {
        try await base.customers(modifiedFrom: modifiedFrom, modifiedTo: modifiedTo, after: after, limit: limit)
    }

    func customers(ids: [Int64]) async throws -> [BCCustomer] { try await base.customers(ids: ids) }
}

private func runner(_ h: EngineHarness, _ source: BigCommerceSource) -> SyncRunner {
    SyncRunner(source: source, sink: h.sink, store: h.store, clock: h.clock, logger: Logger(sink: h.logs, minimumLevel: .debug),
               settings: h.settings, runID: "robustness-\(UUID().uuidString.prefix(8))")
}

private func passTime(_ h: EngineHarness, _ seconds: Double = 120) {
    h.clock.advance(by: seconds)
    h.serverClock.advance(by: seconds)
}

private var planOnly: SyncOptions {
    var o = SyncOptions()
    o.skipPush = true
    return o
}

private func invoiceNumbers(_ report: SyncReport) -> [String] {
    report.plan.operations.filter { $0.kind == OperationKind.invoiceEnsure.rawValue }.map(\.zohoKey).sorted()
}

// MARK: - Keyset paging on min_id

@Suite struct BigCommerceRobustnessPagingTests {
    static let modes: [QuirkyBigCommerce.MinID] = [.inclusive, .exclusive]

    @Test(arguments: modes, [2, 3])
    func syncReadsEveryOrderExactlyOnceWhateverMinIDMeans(_ mode: QuirkyBigCommerce.MinID, pageSize: Int) async throws {
        let h = try EngineHarness()
        h.settings.pageSize = pageSize
        let ids = Array(Int64(1)...Int64(7))
        for id in ids { h.addOrder(id: id) }
        passTime(h)
        let source = QuirkyBigCommerce(h.bc, minID: mode)
        let report = try await runner(h, source).sync(planOnly)
        #expect(report.unreadable.isEmpty, "\(report.unreadable)")
        #expect(report.ordersSeen == ids.count)
        // Each order is enriched once: one taxes and one transactions read per order.
        #expect(h.bc.calls(.orderTaxes) == ids.count)
        #expect(h.bc.calls(.transactions) == ids.count)
        #expect(invoiceNumbers(report) == ids.map { "BC-\($0)" }.sorted())
        #expect(Set(source.listed) == Set(ids), "every order was listed")
        #expect(try h.store.cursor("orders") != nil, "the scan reached the end of the window")
    }

    @Test(arguments: modes)
    func anInterruptedBackfillResumesAfterTheLastOrderItJournaled(_ mode: QuirkyBigCommerce.MinID) async throws {
        let h = try EngineHarness()
        h.settings.pageSize = 2
        let ids = Array(Int64(1)...Int64(7))
        for id in ids { h.addOrder(id: id) }
        passTime(h)
        let source = QuirkyBigCommerce(h.bc, minID: mode)
        let window = BackfillWindow(since: h.serverClock.now().addingTimeInterval(-86_400), until: nil)
        // The third list call fails: the first run stops after journaling two pages.
        h.bc.setPageHook { bc, fetch in
            if fetch.endpoint == .orders, fetch.index == 1 {
                bc.failNext(.orders, with: .unavailable(.bigcommerce, "GET /v2/orders: connection reset"))
            }
        }
        await #expect(throws: RemoteError.self) { try await runner(h, source).backfill(window, options: planOnly) }
        let stopped = try #require(try h.store.cursor(window.stream))
        #expect(stopped.id > 0, "the backfill cursor holds the last id it journaled")
        h.bc.setPageHook(nil)

        _ = try await runner(h, source).backfill(window, options: planOnly)
        #expect(h.bc.calls(.orderTaxes) == ids.count, "every order enriched exactly once over both runs")
        #expect(h.bc.calls(.transactions) == ids.count)
        #expect(try h.store.cursor(window.stream)?.id == -1, "the backfill finished")
        for id in ids {
            let invoices = try h.store.entries(entityKey: EntityKey.order(id)).filter { $0.operation.kind == OperationKind.invoiceEnsure.rawValue }
            #expect(invoices.count == 1, "order \(id) journaled \(invoices.count) times")
        }
    }

    @Test func aServerIgnoringMinIDStopsTheStreamRatherThanLooping() async throws {
        let h = try EngineHarness()
        h.settings.pageSize = 2
        for id in Int64(1)...Int64(5) { h.addOrder(id: id) }
        passTime(h)
        let source = QuirkyBigCommerce(h.bc, minID: .ignored)
        let report = try await runner(h, source).sync(planOnly)
        #expect(report.unreadable.map(\.stream) == ["orders"])
        let reason = try #require(report.unreadable.first?.reason)
        #expect(reason.contains("stream orders") && reason.contains("min_id"), "\(reason)")
        #expect(h.bc.calls(.orders) == 2, "the second page, holding nothing new, ends the scan")
        #expect(try h.store.cursor("orders") == nil, "the cursor did not move")
        #expect(h.bc.calls(.orderTaxes) == 2, "the first page's orders were read once")
    }
}

// MARK: - Sub-resources that answer 404

@Suite struct BigCommerceRobustnessVanishedOrderTests {
    static let subresources: [(String, String)] = [
        ("products", "/v2/orders/2/products"),
        ("shipping_addresses", "/v2/orders/2/shipping_addresses"),
        ("fees", "/v2/orders/2/fees"),
        ("taxes", "/v2/orders/2/taxes"),
        ("transactions", "/v3/orders/2/transactions"),
    ]

    @Test(arguments: subresources)
    func aSubResourceAnswering404QuarantinesOnlyItsOrder(_ what: String, path: String) async throws {
        let h = try EngineHarness()
        for id in Int64(1)...Int64(3) { h.addOrder(id: id) }
        passTime(h)
        let source = QuirkyBigCommerce(h.bc, minID: .inclusive)
        source.stripEmbedded = true
        source.failures = ["\(what):2": .notFound(.bigcommerce, "GET \(path): The requested resource was not found.")]
        let report = try await runner(h, source).sync(planOnly)
        #expect(report.unreadable.isEmpty)
        let problem = try #require(report.plan.problems.first { $0.entityKey == "order:2" })
        #expect(problem.kind == "quarantine")
        #expect(problem.message.contains(path), "\(problem.message)")
        #expect(problem.message.contains("zbsync replay --order 2"), "\(problem.message)")
        #expect(report.quarantined == 1)
        #expect(invoiceNumbers(report) == ["BC-1", "BC-3"])
        #expect(try h.store.cursor("orders") != nil, "the stream went on to the end of its window")
        #expect(try h.store.openAttention(limit: 10).contains { $0.kind == "quarantine" && $0.entityKey == "order:2" })
    }

    @Test func otherSubResourceErrorsStillStopTheRun() async throws {
        let h = try EngineHarness()
        for id in Int64(1)...Int64(3) { h.addOrder(id: id) }
        passTime(h)
        let source = QuirkyBigCommerce(h.bc, minID: .inclusive)
        source.failures = ["taxes:2": .unavailable(.bigcommerce, "GET /v2/orders/2/taxes: HTTP 503 after 5 attempts")]
        await #expect(throws: RemoteError.self) { try await runner(h, source).sync(planOnly) }
        #expect(try h.store.cursor("orders") == nil)
    }
}

// MARK: - Embedded lines against items_total

@Suite struct BigCommerceRobustnessItemsTotalTests {
    /// `order.single.json` (lines 301 ×2 and 302 ×1 embedded) with its order-level `items_total` replaced.
    static func singleOrder(itemsTotal: String?) throws -> String {
        let text = try Fixture.string("bigcommerce/order.single.json")
        let orderLevel = "\n  \"items_total\": 3,"
        #expect(text.components(separatedBy: orderLevel).count == 2, "the fixture's order-level items_total")
        guard let itemsTotal else { return text.replacingOccurrences(of: orderLevel, with: "") }
        return text.replacingOccurrences(of: orderLevel, with: "\n  \"items_total\": \(itemsTotal),")
    }

    @Test(arguments: ["3", "\"3\"", "3.0"])
    func embeddedLinesThatAddUpToItemsTotalCostNoExtraCall(_ itemsTotal: String) async throws {
        let stub = StubTransport()
        stub.enqueue(status: 200, text: try Self.singleOrder(itemsTotal: itemsTotal))
        let o = try #require(try await makeBigCommerceClient(stub).order(id: 218))
        #expect(o.products?.map(\.id) == [301, 302])
        #expect(stub.requestCount == 1)
    }

    @Test(arguments: ["5", "2", "0"])
    func embeddedLinesThatDoNotAddUpAreReadFromProducts(_ itemsTotal: String) async throws {
        let stub = StubTransport()
        stub.enqueue(status: 200, text: try Self.singleOrder(itemsTotal: itemsTotal))
        try stub.enqueue(fixture: "bigcommerce/order.products.bundle.json")
        let o = try #require(try await makeBigCommerceClient(stub).order(id: 218))
        #expect(o.products?.map(\.id) == [401, 402, 403], "the lines come from /products")
        #expect(stub.requestTargets.count == 2)
        #expect(stub.requestTargets.last?.hasPrefix("/stores/abc123/v2/orders/218/products?") == true)
    }

    @Test(arguments: [nil, "null", "\"\"", "\"many\""])
    func withoutAReadableItemsTotalTheEmbeddedLinesAreKept(_ itemsTotal: String?) async throws {
        let stub = StubTransport()
        stub.enqueue(status: 200, text: try Self.singleOrder(itemsTotal: itemsTotal))
        let o = try #require(try await makeBigCommerceClient(stub).order(id: 218))
        #expect(o.products?.map(\.id) == [301, 302])
        #expect(stub.requestCount == 1)
    }

    @Test func aListedOrderWhoseLinesDoNotAddUpHasNoLines() async throws {
        let good = try JSON.parse(try Self.singleOrder(itemsTotal: "3"))
        let bad = try JSON.parse(try Self.singleOrder(itemsTotal: "4").replacingOccurrences(of: "\"id\": 218,", with: "\"id\": 219,"))
        let stub = StubTransport()
        stub.enqueue(status: 200, text: JSON.array([good, bad]).serializedString())
        let page = try await makeBigCommerceClient(stub).orders(OrderQuery())
        #expect(page.records.map(\.id) == [218, 219])
        #expect(page.records[0].products?.map(\.id) == [301, 302])
        #expect(page.records[1].products == nil, "nil: the runner reads /products")
        #expect(page.records[1].shipping?.isEmpty == false, "the consignments still give the shipping")
    }

    @Test func aLineSplitOverTwoConsignmentsCountsOnce() async throws {
        // `orders.list-with-consignments.json`, whose order-level items_total are what its lines add up to: 218 has
        // 301 ×2 + 302 ×1 = 3; 219 lists 311 ×3 in two shipping consignments (one line), plus 312, 313 (pickup) and
        // 314 (download) ×1 = 6.
        let text = try Fixture.string("bigcommerce/orders.list-with-consignments.json")
        try #require(text.contains("\n    \"items_total\": 3,") && text.contains("\n    \"items_total\": 6,"),
                     "the fixture's order-level items_total")
        let stub = StubTransport()
        stub.enqueue(status: 200, text: text)
        let page = try await makeBigCommerceClient(stub).orders(OrderQuery())
        #expect(page.records.first { $0.id == 218 }?.products?.map(\.id) == [301, 302])
        #expect(page.records.first { $0.id == 219 }?.products?.map(\.id) == [311, 312, 313, 314])
        #expect(stub.requestCount == 1)
    }

    /// A bundle (parent 51 with children 52 ×2 and 53 ×1, as `/products` lists them) embedded in a consignment.
    static func bundleOrder(itemsTotal: Int) throws -> JSON {
        try JSON.parse("""
        {"id": 5, "date_created": "2026-04-01T10:00:00Z", "date_modified": "2026-04-01T10:00:00Z", "status_id": 11,
         "total_inc_tax": "30.0000", "items_total": \(itemsTotal),
         "consignments": {"pickups": [], "downloads": [], "email": {"gift_certificates": []}, "shipping": [
           {"id": 1, "cost_ex_tax": "0", "line_items": [
             {"id": 51, "product_id": 1, "name": "Kit", "sku": "KIT", "quantity": 1, "price_ex_tax": "30", "total_ex_tax": "30"},
             {"id": 52, "product_id": 2, "name": "Part A", "sku": "A", "quantity": 2, "parent_order_product_id": 51},
             {"id": 53, "product_id": 3, "name": "Part B", "sku": "B", "quantity": 1, "parent_order_product_id": 51}]}]}}
        """)
    }

    @Test func bundleChildrenCountAsProductsListsThem() throws {
        let all = try BigCommerceOrderDecoder.order(try BCFieldReader(try Self.bundleOrder(itemsTotal: 4), path: "order"))
        #expect(all.products?.map(\.id) == [51, 52, 53], "parent and children add up to items_total")
        // A count without the children does not match: the safe direction, /products is read.
        let parentsOnly = try BigCommerceOrderDecoder.order(try BCFieldReader(try Self.bundleOrder(itemsTotal: 1), path: "order"))
        #expect(parentsOnly.products == nil)
    }
}

// MARK: - v3 paging

/// A v3 server that serves at most `cap` records per page whatever `limit` asks, with `meta.pagination`.
private func cappedV3Server(total: Int, cap: Int, record: @escaping @Sendable (Int) -> JSON, meta: @escaping @Sendable (_ page: Int, _ pages: Int, _ count: Int) -> JSON?) -> StubTransport {
    StubTransport { request in
        let items = URLComponents(url: request.url, resolvingAgainstBaseURL: false)?.queryItems ?? []
        let pages = (total + cap - 1) / cap
        var page = Int(items.first { $0.name == "page" }?.value ?? "1") ?? 1
        if let after = items.first(where: { $0.name == "after" })?.value, let n = Int(after) { page = n / cap + 1 }
        let start = (page - 1) * cap
        let data = start < total ? (start..<min(total, start + cap)).map { record($0 + 1) } : []
        var body: [(String, JSON)] = [("data", .array(data))]
        if let m = meta(page, pages, data.count) { body.append(("meta", m)) }
        return HTTPResponse(status: 200, headers: [:], body: JSON.object(JSONObject(body)).serialized())
    }
}

private func refundRecord(_ id: Int) -> JSON {
    ["id": .number(String(id)), "order_id": 100, "created": "2026-04-01T00:10:00+00:00", "total_amount": "5.00", "items": [], "payments": []]
}

private func customerRecord(_ id: Int) -> JSON {
    ["id": .number(String(id)), "email": .string("c\(id)@example.com"), "first_name": "C", "last_name": .string("\(id)"),
     "date_created": "2026-04-01T00:00:00Z", "date_modified": "2026-04-01T00:00:00Z"]
}

private func pagination(page: Int, pages: Int, count: Int, perPage: Int, total: Int, withTotals: Bool = true) -> JSON {
    var links: [(String, JSON)] = [("current", .string("?page=\(page)&limit=\(perPage)"))]
    if page < pages { links.append(("next", .string("?page=\(page + 1)&limit=\(perPage)"))) }
    var p: [(String, JSON)] = [("links", .object(JSONObject(links)))]
    if withTotals {
        p += [("total", .number(String(total))), ("count", .number(String(count))), ("per_page", .number(String(perPage))),
              ("current_page", .number(String(page))), ("total_pages", .number(String(pages)))]
    }
    return ["pagination": .object(JSONObject(p))]
}

@Suite struct BigCommerceRobustnessV3PagingTests {
    let from = Date(timeIntervalSince1970: 1_775_001_600)
    let to = Date(timeIntervalSince1970: 1_775_005_200)

    /// Reads the store-wide refunds as `pollRefunds` does: page after page until one says it is the last.
    func readAllRefunds(_ stub: StubTransport, limit: Int) async throws -> [Int64] {
        let client = makeBigCommerceClient(stub)
        var ids: [Int64] = []
        for page in 1...20 {
            let result = try await client.refunds(createdFrom: from, createdTo: to, page: page, limit: limit)
            ids += result.records.map(\.id)
            if result.isLastPage || (result.records.isEmpty && result.rejected.isEmpty) { break }
        }
        return ids
    }

    @Test(arguments: [true, false])
    func refundsFollowThePaginationMetaOfAServerThatCapsPages(withTotals: Bool) async throws {
        let stub = cappedV3Server(total: 5, cap: 2, record: refundRecord) { page, pages, count in
            pagination(page: page, pages: pages, count: count, perPage: 2, total: 5, withTotals: withTotals)
        }
        #expect(try await readAllRefunds(stub, limit: 5) == [1, 2, 3, 4, 5])
        #expect(stub.requestCount == 3)
    }

    @Test func refundsWithoutMetaStopAtAShortPage() async throws {
        let stub = cappedV3Server(total: 5, cap: 2, record: refundRecord) { _, _, _ in nil }
        #expect(try await readAllRefunds(stub, limit: 5) == [1, 2])
        #expect(stub.requestCount == 1)
    }

    @Test func refundsStopWhenThePaginationSaysSoEvenOnAFullPage() async throws {
        let stub = cappedV3Server(total: 4, cap: 2, record: refundRecord) { page, pages, count in
            pagination(page: page, pages: pages, count: count, perPage: 2, total: 4)
        }
        #expect(try await readAllRefunds(stub, limit: 2) == [1, 2, 3, 4])
        #expect(stub.requestCount == 2, "no extra call for an empty page")
    }

    @Test func theRefundsOfOneOrderFollowThePaginationMeta() async throws {
        let stub = cappedV3Server(total: 5, cap: 2, record: refundRecord) { page, pages, count in
            pagination(page: page, pages: pages, count: count, perPage: 2, total: 5)
        }
        let refunds = try await makeBigCommerceClient(stub).refunds(orderID: 100)
        #expect(refunds.map(\.id) == [1, 2, 3, 4, 5])
        #expect(stub.requestCount == 3)
    }

    /// Customers with cursor paging: `after` is the position of the last record returned (as a number here).
    func customerServer(total: Int, cap: Int) -> StubTransport {
        cappedV3Server(total: total, cap: cap, record: customerRecord) { page, pages, count in
            let end = (page - 1) * cap + count
            var links: [(String, JSON)] = [("current", .string("?limit=\(cap)"))]
            if page < pages { links.append(("next", .string("?after=\(end)&limit=\(cap)"))) }
            var meta: [(String, JSON)] = [("cursor_pagination", .object(JSONObject([
                ("count", .number(String(count))), ("per_page", .number(String(cap))),
                ("start_cursor", .string(String((page - 1) * cap + 1))), ("end_cursor", .string(String(end))),
                ("links", .object(JSONObject(links))),
            ])))]
            if page == 1 { meta += pagination(page: 1, pages: pages, count: count, perPage: cap, total: total).object!.pairs }
            return .object(JSONObject(meta))
        }
    }

    @Test func customersFollowTheCursorOfAServerThatCapsPages() async throws {
        let stub = customerServer(total: 5, cap: 2)
        let client = makeBigCommerceClient(stub)
        var ids: [Int64] = []
        var after: String? = nil
        for _ in 1...20 {
            let page = try await client.customers(modifiedFrom: from, modifiedTo: to, after: after, limit: 5)
            ids += page.records.map(\.id)
            if page.isLastPage || page.nextCursor == nil { break }
            after = page.nextCursor
        }
        #expect(ids == [1, 2, 3, 4, 5])
        #expect(stub.requestCount == 3)
    }

    @Test func customersByIDFollowTheCursorOfAServerThatCapsPages() async throws {
        let stub = customerServer(total: 5, cap: 2)
        let customers = try await makeBigCommerceClient(stub).customers(ids: [1, 2, 3, 4, 5])
        #expect(customers.map(\.id) == [1, 2, 3, 4, 5])
        #expect(stub.requestCount == 3)
    }
}

// MARK: - Exchange rate

@Suite struct BigCommerceRobustnessCurrencyTests {
    /// A EUR order in a USD store (USD organization), decoded as BigCommerce sends it; `rate` is the JSON text of
    /// `store_default_to_transactional_exchange_rate`, nil to leave the field out.
    static func eurOrder(rate: String?) throws -> BCOrder {
        let rateField = rate.map { "\"store_default_to_transactional_exchange_rate\": \($0)," } ?? ""
        let json = try JSON.parse("""
        {"id": 106, "customer_id": 0, "date_created": "2024-09-01T10:00:00Z", "date_modified": "2024-09-01T10:00:00Z",
         "status_id": 11, "currency_code": "EUR", "default_currency_code": "EUR", "store_default_currency_code": "USD", \(rateField)
         "shipping_cost_ex_tax": "5.0000", "shipping_cost_inc_tax": "5.0000",
         "total_ex_tax": "50.0000", "total_inc_tax": "50.0000", "total_tax": "0.0000", "payment_status": "captured",
         "billing_address": {"first_name": "Anna", "last_name": "Schmidt", "email": "anna@example.de"},
         "products": [{"id": 61, "name": "Lamp", "sku": "LAMP-1", "quantity": 1, "price_ex_tax": "45.0000",
                       "price_inc_tax": "45.0000", "total_ex_tax": "45.0000", "total_inc_tax": "45.0000"}]}
        """)
        var order = try BigCommerceOrderDecoder.order(try BCFieldReader(json, path: "order"))
        order.shipping = []
        order.fees = []
        order.taxes = []
        return order
    }

    @Test(arguments: [nil, "null", "\"\"", "\"0.0000000000\"", "0"])
    func aMissingRateSendsNoExchangeRate(_ rate: String?) throws {
        let order = try Self.eurOrder(rate: rate)
        let settings = MappingSettings()
        let invoice = try InvoiceMapping.invoiceSpec(order: order, contactKey: "guest:anna@example.de|EUR", settings: settings)
        #expect(invoice.currencyCode == "EUR")
        #expect(invoice.exchangeRate == nil, "Zoho applies its own rate; 1.0 would book EUR at par")
        let payments = PaymentMapping.paymentSpecs(order: order, transactions: [], contactKey: "guest:anna@example.de|EUR", settings: settings)
        #expect(!payments.isEmpty && payments.allSatisfy { $0.exchangeRate == nil })
    }

    @Test func aGivenRateIsStillInverted() throws {
        let order = try Self.eurOrder(rate: "\"0.9200000000\"")
        let invoice = try InvoiceMapping.invoiceSpec(order: order, contactKey: "guest:anna@example.de|EUR", settings: MappingSettings())
        #expect(invoice.exchangeRate == Decimal(string: "1.086957"))
    }
}
