import Foundation
import Testing
@testable import SyncEngine

let bigCommerceTestToken = "tok-8f2d1c9e77aa41"

/// A client against a scripted transport, with deterministic backoff (jitter fixed at its maximum).
func makeBigCommerceClient(_ transport: StubTransport, clock: TestClock = TestClock(), logger: Logger = .silent,
                           maxRetries: Int = 4) -> BigCommerceClient {
    BigCommerceClient(storeHash: "abc123", token: Secret(bigCommerceTestToken),
                      baseURL: URL(string: "https://api.bigcommerce.com")!, transport: transport, clock: clock,
                      logger: logger, userAgent: "zbsync/0.1 (test)", maxRetries: maxRetries, jitter: { 1 })
}

@Suite struct BigCommerceClientTests {
    // MARK: Requests

    @Test func sendsAuthAcceptAndUserAgentToTheStorePath() async throws {
        let stub = StubTransport()
        try stub.enqueue(fixture: "bigcommerce/time.json")
        let time = try await makeBigCommerceClient(stub).serverTime()
        #expect(time == Date(timeIntervalSince1970: 1_775_000_000))
        let request = try #require(stub.requests.first)
        #expect(request.method == "GET")
        #expect(request.url.absoluteString == "https://api.bigcommerce.com/stores/abc123/v2/time")
        #expect(request.headers["X-Auth-Token"] == bigCommerceTestToken)
        #expect(request.headers["Accept"] == "application/json")
        #expect(request.headers["User-Agent"] == "zbsync/0.1 (test)")
    }

    @Test func buildsTheExactWindowQuery() async throws {
        let stub = StubTransport()
        stub.enqueue(status: 204)
        var q = OrderQuery()
        q.modifiedFrom = Date(timeIntervalSince1970: 1_775_001_600)          // 2026-04-01T00:00:00Z
        q.modifiedTo = Date(timeIntervalSince1970: 1_775_131_200.75)         // 2026-04-02T12:00:00.75Z
        q.minID = 218
        q.sort = "date_modified:asc"
        q.limit = 250
        let page = try await makeBigCommerceClient(stub).orders(q)
        #expect(page.records.isEmpty && page.isLastPage)
        #expect(stub.requestTargets == [
            "/stores/abc123/v2/orders?min_id=218&min_date_modified=2026-04-01T00:00:00%2B00:00"
                + "&max_date_modified=2026-04-02T12:00:00%2B00:00&sort=date_modified:asc&limit=250&page=1"
                + "&include=consignments.line_items,fees&consignment_structure=object",
        ])
    }

    @Test func clampsTheLimitAndSendsCreatedFilters() async throws {
        let stub = StubTransport()
        stub.enqueue(status: 200, text: "[]")
        var q = OrderQuery()
        q.createdFrom = Date(timeIntervalSince1970: 0)
        q.createdTo = Date(timeIntervalSince1970: 86_400)
        q.maxID = 9
        q.limit = 1_000
        q.page = 3
        q.includeLines = false
        _ = try await makeBigCommerceClient(stub).orders(q)
        #expect(stub.requestTargets == [
            "/stores/abc123/v2/orders?max_id=9&min_date_created=1970-01-01T00:00:00%2B00:00"
                + "&max_date_created=1970-01-02T00:00:00%2B00:00&sort=id:asc&limit=250&page=3",
        ])
    }

    @Test func buildsRefundAndCustomerQueries() async throws {
        let stub = StubTransport()
        try stub.enqueue(fixture: "bigcommerce/refunds.list.json")
        try stub.enqueue(fixture: "bigcommerce/customers.list.json")
        let client = makeBigCommerceClient(stub)
        let from = Date(timeIntervalSince1970: 1_775_001_600), to = Date(timeIntervalSince1970: 1_775_005_200)
        _ = try await client.refunds(createdFrom: from, createdTo: to, page: 2, limit: 50)
        _ = try await client.customers(modifiedFrom: from, modifiedTo: to, after: "MTM=", limit: 2)
        #expect(stub.requestTargets == [
            "/stores/abc123/v3/orders/payment_actions/refunds?created:min=2026-04-01T00%3A00%3A00%2B00%3A00"
                + "&created:max=2026-04-01T01%3A00%3A00%2B00%3A00&page=2&limit=50",
            "/stores/abc123/v3/customers?date_modified:min=2026-04-01T00:00:00&date_modified:max=2026-04-01T01:00:00"
                + "&sort=date_modified:asc&include=addresses&limit=2&after=MTM%3D",
        ])
    }

    @Test func honoursABaseURLWithAPathAndTrailingSlash() async throws {
        let stub = StubTransport()
        stub.enqueue(status: 200, text: #"{"time": 1}"#)
        let client = BigCommerceClient(storeHash: "abc123", token: Secret("x"), baseURL: URL(string: "http://127.0.0.1:8080/bc/")!,
                                       transport: stub, clock: TestClock(), logger: .silent, userAgent: "t")
        _ = try await client.serverTime()
        #expect(stub.requests.first?.url.absoluteString == "http://127.0.0.1:8080/bc/stores/abc123/v2/time")
    }

    // MARK: Bodies

    @Test func v2NoContentAndEmptyBodiesAreEmptyLists() async throws {
        let stub = StubTransport()
        stub.enqueue(status: 204)
        stub.enqueue(status: 200, text: "  \n")
        stub.enqueue(status: 204)
        stub.enqueue(status: 204)
        let client = makeBigCommerceClient(stub)
        #expect(try await client.orders(OrderQuery()).records.isEmpty)
        #expect(try await client.orderProducts(orderID: 1).isEmpty)
        #expect(try await client.transactions(orderID: 1).isEmpty)
        #expect(try await client.orderFees(orderID: 1).isEmpty)
    }

    @Test func truncatedPageThrowsMalformed() async throws {
        let stub = StubTransport()
        try stub.enqueue(fixture: "bigcommerce/orders.truncated.json")
        await #expect {
            _ = try await makeBigCommerceClient(stub).orders(OrderQuery())
        } throws: { error in
            guard case RemoteError.malformed(.bigcommerce, let message) = error else { return false }
            return message.contains("GET /v2/orders")
        }
    }

    @Test func nonArrayV2ListIsMalformed() async throws {
        let stub = StubTransport()
        stub.enqueue(status: 200, text: #"{"orders": []}"#)
        await #expect(throws: RemoteError.self) { _ = try await makeBigCommerceClient(stub).orders(OrderQuery()) }
    }

    @Test func shortPageIsTheLastPage() async throws {
        let stub = StubTransport()
        try stub.enqueue(fixture: "bigcommerce/orders.list.json")
        try stub.enqueue(fixture: "bigcommerce/orders.list.json")
        let client = makeBigCommerceClient(stub)
        var q = OrderQuery()
        q.limit = 3
        #expect(try await client.orders(q).isLastPage == false)
        q.limit = 4
        #expect(try await client.orders(q).isLastPage == true)
    }

    // MARK: Errors

    @Test func mapsStatusesToRemoteErrors() async throws {
        let stub = StubTransport()
        try stub.enqueue(status: 401, fixture: "bigcommerce/errors.v2-401.json")
        stub.enqueue(status: 403, text: #"{"status":403,"title":"You don't have a required scope to access the endpoint"}"#)
        try stub.enqueue(status: 404, fixture: "bigcommerce/errors.v2-404.json")
        try stub.enqueue(status: 422, fixture: "bigcommerce/errors.v3-422.json")
        stub.enqueue(status: 413, text: "")
        let client = makeBigCommerceClient(stub)

        await #expect(throws: RemoteError.authorization(.bigcommerce, "GET api.bigcommerce.com/stores/abc123/v2/orders: the API token was rejected (HTTP 401: You must be authorized to access this resource.); check it with `zbsync auth bigcommerce`")) {
            _ = try await client.orders(OrderQuery())
        }
        await #expect {
            _ = try await client.orders(OrderQuery())
        } throws: { error in
            guard case RemoteError.authorization(.bigcommerce, let m) = error else { return false }
            return m.contains("required scope")
        }
        await #expect(throws: RemoteError.notFound(.bigcommerce, "GET api.bigcommerce.com/stores/abc123/v2/orders/9/products: The requested resource was not found.")) {
            _ = try await client.orderProducts(orderID: 9)
        }
        await #expect(throws: RemoteError.rejected(.bigcommerce, status: 422, code: nil,
                                                   message: "GET api.bigcommerce.com/stores/abc123/v3/customers: JSON data is missing or invalid — date_modified:min: error.path.invalid")) {
            _ = try await client.customers(modifiedFrom: Date(), modifiedTo: nil, after: nil, limit: 50)
        }
        await #expect(throws: RemoteError.rejected(.bigcommerce, status: 413, code: nil, message: "GET api.bigcommerce.com/stores/abc123/v2/orders: HTTP 413")) {
            _ = try await client.orders(OrderQuery())
        }
        #expect(stub.requestCount == 5, "4xx are never retried")
    }

    @Test func missingOrderIsNil() async throws {
        let stub = StubTransport()
        try stub.enqueue(status: 404, fixture: "bigcommerce/errors.v2-404.json")
        #expect(try await makeBigCommerceClient(stub).order(id: 999) == nil)
        #expect(stub.requestTargets == ["/stores/abc123/v2/orders/999?include=consignments.line_items,fees&consignment_structure=object"])
    }

    // MARK: Retries and rate limits

    @Test func waitsTheResetTimeAfter429ThenSucceeds() async throws {
        let stub = StubTransport()
        stub.enqueue(status: 429, text: "", headers: ["X-Rate-Limit-Time-Reset-Ms": "15000", "X-Rate-Limit-Requests-Left": "0"])
        stub.enqueue(status: 200, text: #"{"time": 1775000000}"#, headers: ["X-Rate-Limit-Requests-Left": "140"])
        let clock = TestClock()
        _ = try await makeBigCommerceClient(stub, clock: clock).serverTime()
        #expect(clock.totalSlept == 15)
        #expect(stub.requestCount == 2)
    }

    @Test func escalatesWhen429HasNoHeadersAndGivesUpBounded() async throws {
        let stub = StubTransport()
        stub.enqueue(status: 429, times: 3)
        let clock = TestClock()
        await #expect(throws: RemoteError.rateLimited(.bigcommerce, code: 429, retryAfter: 8)) {
            _ = try await makeBigCommerceClient(stub, clock: clock, maxRetries: 2).serverTime()
        }
        #expect(stub.requestCount == 3)
        #expect(clock.totalSlept == 6, "2 + 4")
    }

    @Test func pausesProactivelyWhenTheQuotaIsNearlySpent() async throws {
        let stub = StubTransport()
        stub.enqueue(status: 200, text: #"{"time": 1}"#, headers: ["x-rate-limit-requests-left": "2", "x-rate-limit-time-reset-ms": "4500"])
        stub.enqueue(status: 200, text: #"{"time": 1}"#, headers: ["x-rate-limit-requests-left": "3", "x-rate-limit-time-reset-ms": "4500"])
        let clock = TestClock()
        let client = makeBigCommerceClient(stub, clock: clock)
        _ = try await client.serverTime()
        #expect(clock.totalSlept == 4.5)
        _ = try await client.serverTime()
        #expect(clock.totalSlept == 4.5)
    }

    @Test func serverErrorsRetryWithBoundedBackoffThenUnavailable() async throws {
        let stub = StubTransport()
        stub.enqueue(status: 500, times: 5, text: #"[{"status":500,"message":"Internal Server Error"}]"#)
        let clock = TestClock()
        await #expect {
            _ = try await makeBigCommerceClient(stub, clock: clock, maxRetries: 4).orders(OrderQuery())
        } throws: { error in
            guard case RemoteError.unavailable(.bigcommerce, let m) = error else { return false }
            return m.contains("HTTP 500 after 5 attempts") && m.contains("Internal Server Error")
        }
        #expect(stub.requestCount == 5)
        #expect(clock.totalSlept == 7.5, "0.5 + 1 + 2 + 4")
    }

    @Test func backoffIsJitteredAndCapped() {
        let low = BigCommerceClient(storeHash: "h", token: Secret("t"), baseURL: URL(string: "https://x")!, transport: StubTransport(),
                                    clock: TestClock(), logger: .silent, userAgent: "u", maxRetries: 4, jitter: { 0 })
        #expect(low.backoff(retry: 1) == 0.25)
        #expect(low.backoff(retry: 20) == 15)
        let high = makeBigCommerceClient(StubTransport())
        #expect(high.backoff(retry: 3) == 2)
        #expect(high.backoff(retry: 20) == 30)
    }

    @Test func serverErrorThenSuccessRecovers() async throws {
        let stub = StubTransport()
        stub.enqueue(status: 503, text: "")
        stub.enqueue(.lost("connection reset by peer"))
        try stub.enqueue(fixture: "bigcommerce/transactions.list.json")
        let clock = TestClock()
        let txns = try await makeBigCommerceClient(stub, clock: clock).transactions(orderID: 218)
        #expect(txns.count == 3)
        #expect(clock.totalSlept == 1.5, "0.5 + 1")
    }

    @Test func transportFailuresBecomeUnavailable() async throws {
        let stub = StubTransport()
        stub.enqueue(.timedOut, times: 3)
        await #expect {
            _ = try await makeBigCommerceClient(stub, maxRetries: 2).orderTaxes(orderID: 1)
        } throws: { error in
            guard case RemoteError.unavailable(.bigcommerce, let m) = error else { return false }
            return m.contains("no reply before the timeout") && !m.contains(bigCommerceTestToken)
        }
        #expect(stub.requestCount == 3)
    }

    // MARK: Logging

    @Test func logsMethodHostAndPathButNeverTheToken() async throws {
        let sink = InMemoryLogSink()
        let logger = Logger(sink: sink, minimumLevel: .debug)
        let stub = StubTransport()
        stub.enqueue(status: 500, text: "")
        try stub.enqueue(fixture: "bigcommerce/order.coupons.json")
        _ = try await makeBigCommerceClient(stub, logger: logger).orderCoupons(orderID: 218)
        let records = sink.records
        #expect(records.contains { $0.message == "GET api.bigcommerce.com/stores/abc123/v2/orders/218/coupons" && $0.metadata["http.status"] == "200" })
        #expect(records.contains { $0.metadata["http.status"] == "500" && $0.level == .warning })
        #expect(records.allSatisfy { $0.metadata["bc.order_id"] == "218" })
        #expect(!sink.allText.contains(bigCommerceTestToken))
        #expect(!sink.allText.contains("limit=250"), "query strings are not logged")
    }

    @Test func logsQuarantinedOrdersWithTheirID() async throws {
        let sink = InMemoryLogSink()
        let stub = StubTransport()
        try stub.enqueue(fixture: "bigcommerce/orders.malformed-record.json")
        _ = try await makeBigCommerceClient(stub, logger: Logger(sink: sink)).orders(OrderQuery())
        let warnings = sink.records.filter { $0.level == .warning }
        #expect(warnings.compactMap { $0.metadata["bc.order_id"] } == ["501", "504", "505"])
        #expect(warnings.count == 4)
    }

    // MARK: Paging

    @Test func readsProductsToTheEnd() async throws {
        let stub = StubTransport()
        let line = try Fixture.json("bigcommerce/order.products.bundle.json")[0]!
        func page(_ ids: Range<Int>) -> String {
            JSON.array(ids.map { id -> JSON in
                var o = line.object!
                o["id"] = .int(id)
                o["parent_order_product_id"] = .null
                return .object(o)
            }).serializedString()
        }
        stub.enqueue(status: 200, text: page(1..<251))
        stub.enqueue(status: 200, text: page(251..<260))
        let lines = try await makeBigCommerceClient(stub).orderProducts(orderID: 250)
        #expect(lines.count == 259)
        #expect(lines.map(\.id) == (1..<260).map(Int64.init))
        #expect(stub.requestTargets == ["/stores/abc123/v2/orders/250/products?limit=250&page=1",
                                        "/stores/abc123/v2/orders/250/products?limit=250&page=2"])
    }

    @Test func orderWithoutEmbeddedLinesReadsProducts() async throws {
        let stub = StubTransport()
        let order = try Fixture.json("bigcommerce/orders.list.json")[0]!
        stub.enqueue(status: 200, text: order.serializedString())
        try stub.enqueue(fixture: "bigcommerce/order.products.bundle.json")
        let o = try #require(try await makeBigCommerceClient(stub).order(id: 300))
        #expect(o.products?.map(\.id) == [401, 402, 403])
        #expect(stub.requestCount == 2)
    }

    @Test func orderWithEmbeddedLinesMakesOneCall() async throws {
        let stub = StubTransport()
        try stub.enqueue(fixture: "bigcommerce/order.single.json")
        let o = try #require(try await makeBigCommerceClient(stub).order(id: 218))
        #expect(o.products?.map(\.id) == [301, 302])
        #expect(o.fees?.count == 1)
        #expect(stub.requestCount == 1)
    }

    @Test func followsTheCustomerCursor() async throws {
        let stub = StubTransport()
        try stub.enqueue(fixture: "bigcommerce/customers.list.json")
        try stub.enqueue(fixture: "bigcommerce/customers.last-page.json")
        let client = makeBigCommerceClient(stub)
        let first = try await client.customers(modifiedFrom: Date(timeIntervalSince1970: 0), modifiedTo: nil, after: nil, limit: 2)
        #expect(first.records.map(\.id) == [12, 13])
        #expect(first.nextCursor == "MTM=" && !first.isLastPage)
        let second = try await client.customers(modifiedFrom: Date(timeIntervalSince1970: 0), modifiedTo: nil, after: first.nextCursor, limit: 2)
        #expect(second.records.map(\.id) == [14])
        #expect(second.isLastPage && second.nextCursor == nil)
    }

    @Test func customersByIDAsksWithIdIn() async throws {
        let stub = StubTransport()
        try stub.enqueue(fixture: "bigcommerce/customers.last-page.json")
        let customers = try await makeBigCommerceClient(stub).customers(ids: [14, 12, 14])
        #expect(customers.map(\.id) == [14])
        #expect(stub.requestTargets == ["/stores/abc123/v3/customers?id:in=12,14&include=addresses&limit=250"])
    }

    @Test func refundsStopOnShortPageWithoutPagination() async throws {
        let stub = StubTransport()
        var body = try Fixture.json("bigcommerce/refunds.list.json").object!
        body["meta"] = .object(JSONObject())
        stub.enqueue(status: 200, text: JSON.object(body).serializedString())
        stub.enqueue(status: 200, text: JSON.object(body).serializedString())
        let client = makeBigCommerceClient(stub)
        let now = Date()
        #expect(try await client.refunds(createdFrom: now, createdTo: now, page: 1, limit: 2).isLastPage == false)
        #expect(try await client.refunds(createdFrom: now, createdTo: now, page: 1, limit: 3).isLastPage == true)
    }
}
