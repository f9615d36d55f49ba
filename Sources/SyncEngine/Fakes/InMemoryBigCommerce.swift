import Foundation

/// A BigCommerce store in memory with the semantics the real API has (as far as zbsync relies on them), for
/// tests and dry runs without a network.
///
/// Semantics:
/// - Orders: every ``OrderQuery`` filter applies with **inclusive** bounds; dates compare at whole-second
///   resolution (BigCommerce stores seconds, and the client sends whole seconds); `sort` is `id`, `date_modified`,
///   `date_created`, `customer_id` or `status_id` with `:asc`/`:desc` (ties by id ascending); `limit` is clamped to
///   1…250; `page` is offset paging; a page shorter than `limit` is the last. Lists never carry taxes or coupons;
///   without `includeLines` they carry no products, shipping or fees either (as when BigCommerce sends links),
///   and an order without lines lists `products` as nil (the client cannot tell "no lines" from "not embedded").
/// - Edits bump `dateModified` to the server time (whole seconds), as BigCommerce does on every change.
/// - Refunds: created in `[from, to]` inclusive, id ascending, offset paging. Refunds are immutable.
/// - Customers: modified in `[from, to]` inclusive, `date_modified` ascending (ties by id), cursor paging where the
///   cursor is the position after the last record returned (so a customer edited mid-scan moves behind it and
///   is still seen, as with BigCommerce's `after` cursor).
/// - Late visibility: a record added with `visibleFrom` is absent from every read until the server time reaches it,
///   although its dates may be older (what the overlap window of the poller exists for).
/// - ``setPageHook(_:)`` runs a closure after each list page is computed and before it is returned, so a test
///   can edit or insert records between the pages of one scan.
/// - ``failNext(_:with:times:)`` makes the next calls of one endpoint throw, for error-path tests.
public final class InMemoryBigCommerce: BigCommerceSource, @unchecked Sendable {
    /// The calls the fake counts.
    public enum Endpoint: String, Sendable, CaseIterable {
        case serverTime, orders, order, orderProducts, orderTaxes, orderCoupons, orderShipping, orderFees
        case transactions, refunds, orderRefunds, customers, customersByID
    }

    /// What a page hook is told about the page that was just computed.
    public struct PageFetch: Sendable {
        public var endpoint: Endpoint
        /// 0 for the first list call of this endpoint since the store was made, then 1, 2, …
        public var index: Int
        public var recordCount: Int
        public var isLastPage: Bool
    }

    private struct Stored<Value> {
        var value: Value
        var visibleFrom: Date?
    }

    private let lock = NSLock()
    private let clock: (any SyncClock)?
    private var fixedNow: Date
    private var clockOffset: Double = 0
    private var orders: [Int64: Stored<BCOrder>] = [:]
    private var refundsByID: [Int64: Stored<BCRefund>] = [:]
    private var transactionsByOrder: [Int64: [BCTransaction]] = [:]
    private var customersByID: [Int64: Stored<BCCustomer>] = [:]
    private var counts: [Endpoint: Int] = [:]
    private var listFetches: [Endpoint: Int] = [:]
    private var failures: [Endpoint: [(RemoteError, Int)]] = [:]
    private var pageHook: (@Sendable (InMemoryBigCommerce, PageFetch) -> Void)?
    private var nextIDs: [String: Int64] = [:]

    /// - Parameters:
    ///   - now: the server time at creation (default: the clock's time, else 2027-01-15T08:00:00Z).
    ///   - clock: when given, the server time moves with it, keeping the initial difference (and any shift from
    ///     ``setServerTime(_:)``), which models a store clock skewed against the local one.
    public init(now: Date? = nil, clock: (any SyncClock)? = nil) {
        self.fixedNow = now ?? Date(timeIntervalSince1970: 1_800_000_000)
        self.clock = clock
        if let clock, let now { clockOffset = now.timeIntervalSince(clock.now()) }
    }

    // MARK: Server time

    /// The store's clock as `GET /v2/time` reports it.
    public var now: Date { lock.withLock { nowLocked() } }

    private func nowLocked() -> Date {
        if let clock { return clock.now().addingTimeInterval(clockOffset) }
        return fixedNow
    }

    /// Sets the server time (with a clock: shifts it, which simulates skew between the store and the local clock).
    public func setServerTime(_ date: Date) {
        lock.withLock {
            if let clock { clockOffset = date.timeIntervalSince(clock.now()) } else { fixedNow = date }
        }
    }

    public func advanceServerTime(by seconds: Double) {
        lock.withLock {
            if clock != nil { clockOffset += seconds } else { fixedNow = fixedNow.addingTimeInterval(seconds) }
        }
    }

    // MARK: Seeding

    /// Adds or replaces an order exactly as given (dates included). Hidden from reads until `visibleFrom`.
    public func addOrder(_ order: BCOrder, visibleFrom: Date? = nil) {
        lock.withLock { orders[order.id] = Stored(value: order, visibleFrom: visibleFrom) }
    }

    /// Changes an order and bumps its `dateModified` to the server time (whole seconds, never backwards).
    /// Returns the order as stored, or nil when there is no such order.
    @discardableResult
    /// The order is no longer served (an archived order some stores answer 404 for).
    public func removeOrder(id: Int64) {
        lock.withLock { _ = orders.removeValue(forKey: id) }
    }

    public func editOrder(id: Int64, _ change: (inout BCOrder) -> Void) -> BCOrder? {
        lock.withLock {
            guard var stored = orders[id] else { return nil }
            change(&stored.value)
            stored.value.dateModified = max(stored.value.dateModified, BigCommerceDates.wholeSeconds(nowLocked()))
            orders[id] = stored
            return stored.value
        }
    }

    /// Adds or replaces a refund. Hidden from reads until `visibleFrom`.
    public func addRefund(_ refund: BCRefund, visibleFrom: Date? = nil) {
        lock.withLock { refundsByID[refund.id] = Stored(value: refund, visibleFrom: visibleFrom) }
    }

    /// Adds (or replaces, by id) a transaction of its order.
    public func addTransaction(_ transaction: BCTransaction) {
        lock.withLock {
            var list = transactionsByOrder[transaction.orderID] ?? []
            list.removeAll { $0.id == transaction.id }
            list.append(transaction)
            transactionsByOrder[transaction.orderID] = list.sorted { $0.id < $1.id }
        }
    }

    /// Adds or replaces a customer exactly as given. Hidden from reads until `visibleFrom`.
    public func addCustomer(_ customer: BCCustomer, visibleFrom: Date? = nil) {
        lock.withLock { customersByID[customer.id] = Stored(value: customer, visibleFrom: visibleFrom) }
    }

    /// Changes a customer and bumps its `dateModified` to the server time (whole seconds, never backwards).
    @discardableResult
    public func editCustomer(id: Int64, _ change: (inout BCCustomer) -> Void) -> BCCustomer? {
        lock.withLock {
            guard var stored = customersByID[id] else { return nil }
            change(&stored.value)
            stored.value.dateModified = max(stored.value.dateModified, BigCommerceDates.wholeSeconds(nowLocked()))
            customersByID[id] = stored
            return stored.value
        }
    }

    /// A fresh id for `kind` (`order`, `refund`, `customer`, `transaction`, …) greater than any used so far for it.
    public func nextID(_ kind: String, startingAt first: Int64 = 100) -> Int64 {
        lock.withLock {
            var candidate = max(nextIDs[kind] ?? first, first)
            let used: Int64
            switch kind {
            case "order": used = (orders.keys.max() ?? 0) + 1
            case "refund": used = (refundsByID.keys.max() ?? 0) + 1
            case "customer": used = (customersByID.keys.max() ?? 0) + 1
            default: used = 0
            }
            candidate = max(candidate, used)
            nextIDs[kind] = candidate + 1
            return candidate
        }
    }

    /// The stored order regardless of visibility (for assertions).
    public func storedOrder(id: Int64) -> BCOrder? { lock.withLock { orders[id]?.value } }

    // MARK: Test hooks

    /// Runs `hook` after each list page (orders, refunds, customers) is computed, outside the store's lock.
    public func setPageHook(_ hook: (@Sendable (InMemoryBigCommerce, PageFetch) -> Void)?) {
        lock.withLock { pageHook = hook }
    }

    /// The next `times` calls of `endpoint` throw `error` instead of answering.
    public func failNext(_ endpoint: Endpoint, with error: RemoteError, times: Int = 1) {
        lock.withLock { failures[endpoint, default: []].append((error, times)) }
    }

    /// How many times `endpoint` was called (failed calls included).
    public func calls(_ endpoint: Endpoint) -> Int { lock.withLock { counts[endpoint] ?? 0 } }

    public var totalCalls: Int { lock.withLock { counts.values.reduce(0, +) } }

    public func resetCallCounts() { lock.withLock { counts = [:] } }

    // MARK: BigCommerceSource

    public func serverTime() async throws -> Date {
        try lock.withLock {
            try enter(.serverTime)
            return nowLocked()
        }
    }

    public func orders(_ query: OrderQuery) async throws -> SourcePage<BCOrder> {
        let (page, fetch, hook): (SourcePage<BCOrder>, PageFetch, (@Sendable (InMemoryBigCommerce, PageFetch) -> Void)?) = try lock.withLock {
            try enter(.orders)
            let key = try Self.sortKey(query.sort)
            let limit = min(250, max(1, query.limit))
            let from = query.modifiedFrom.map(BigCommerceDates.wholeSeconds)
            let to = query.modifiedTo.map(BigCommerceDates.wholeSeconds)
            let createdFrom = query.createdFrom.map(BigCommerceDates.wholeSeconds)
            let createdTo = query.createdTo.map(BigCommerceDates.wholeSeconds)
            let now = nowLocked()
            let matching = orders.values.filter { s in
                let o = s.value
                if let v = s.visibleFrom, now < v { return false }
                if let m = query.minID, o.id < m { return false }
                if let m = query.maxID, o.id > m { return false }
                if let f = from, o.dateModified < f { return false }
                if let t = to, o.dateModified > t { return false }
                if let f = createdFrom, o.dateCreated < f { return false }
                if let t = createdTo, o.dateCreated > t { return false }
                return true
            }.map(\.value).sorted(by: key)
            let start = (max(1, query.page) - 1) * limit
            let slice = start < matching.count ? Array(matching[start..<min(matching.count, start + limit)]) : []
            let records = slice.map { o -> BCOrder in
                var copy = o
                copy.taxes = nil
                copy.coupons = nil
                if !query.includeLines { copy.products = nil; copy.shipping = nil; copy.fees = nil }
                // Like the client: an order whose consignments embed no line at all comes back without lines.
                if copy.products?.isEmpty == true { copy.products = nil }
                return copy
            }
            let page = SourcePage(records: records, isLastPage: records.count < limit)
            return (page, nextFetch(.orders, page.records.count, page.isLastPage), pageHook)
        }
        hook?(self, fetch)
        return page
    }

    public func order(id: Int64) async throws -> BCOrder? {
        try lock.withLock {
            try enter(.order)
            guard var o = visibleOrder(id) else { return nil }
            o.products = o.products ?? []
            o.taxes = nil
            o.coupons = nil
            return o
        }
    }

    public func orderProducts(orderID: Int64) async throws -> [BCOrderProduct] {
        try lock.withLock { try enter(.orderProducts); return try requireOrder(orderID).products ?? [] }
    }

    public func orderTaxes(orderID: Int64) async throws -> [BCOrderTax] {
        try lock.withLock { try enter(.orderTaxes); return try requireOrder(orderID).taxes ?? [] }
    }

    public func orderCoupons(orderID: Int64) async throws -> [BCCoupon] {
        try lock.withLock { try enter(.orderCoupons); return try requireOrder(orderID).coupons ?? [] }
    }

    public func orderShipping(orderID: Int64) async throws -> [BCShipping] {
        try lock.withLock { try enter(.orderShipping); return try requireOrder(orderID).shipping ?? [] }
    }

    public func orderFees(orderID: Int64) async throws -> [BCFee] {
        try lock.withLock { try enter(.orderFees); return try requireOrder(orderID).fees ?? [] }
    }

    public func transactions(orderID: Int64) async throws -> [BCTransaction] {
        try lock.withLock { try enter(.transactions); return transactionsByOrder[orderID] ?? [] }
    }

    public func refunds(createdFrom: Date, createdTo: Date, page: Int, limit: Int) async throws -> SourcePage<BCRefund> {
        let (result, fetch, hook): (SourcePage<BCRefund>, PageFetch, (@Sendable (InMemoryBigCommerce, PageFetch) -> Void)?) = try lock.withLock {
            try enter(.refunds)
            let limit = min(250, max(1, limit))
            let from = BigCommerceDates.wholeSeconds(createdFrom)
            let to = BigCommerceDates.wholeSeconds(createdTo)
            let now = nowLocked()
            let matching = refundsByID.values.filter { s in
                if let v = s.visibleFrom, now < v { return false }
                return s.value.created >= from && s.value.created <= to
            }.map(\.value).sorted { $0.id < $1.id }
            let start = (max(1, page) - 1) * limit
            let slice = start < matching.count ? Array(matching[start..<min(matching.count, start + limit)]) : []
            let result = SourcePage(records: slice, isLastPage: slice.count < limit)
            return (result, nextFetch(.refunds, slice.count, result.isLastPage), pageHook)
        }
        hook?(self, fetch)
        return result
    }

    public func refunds(orderID: Int64) async throws -> [BCRefund] {
        try lock.withLock {
            try enter(.orderRefunds)
            let now = nowLocked()
            return refundsByID.values.filter { s in
                if let v = s.visibleFrom, now < v { return false }
                return s.value.orderID == orderID
            }.map(\.value).sorted { $0.id < $1.id }
        }
    }

    public func customers(modifiedFrom: Date, modifiedTo: Date?, after: String?, limit: Int) async throws -> SourcePage<BCCustomer> {
        let (result, fetch, hook): (SourcePage<BCCustomer>, PageFetch, (@Sendable (InMemoryBigCommerce, PageFetch) -> Void)?) = try lock.withLock {
            try enter(.customers)
            let limit = min(250, max(1, limit))
            let from = BigCommerceDates.wholeSeconds(modifiedFrom)
            let to = modifiedTo.map(BigCommerceDates.wholeSeconds)
            let cursor = try after.map(Self.decodeCursor)
            let now = nowLocked()
            let matching = customersByID.values.filter { s in
                if let v = s.visibleFrom, now < v { return false }
                let c = s.value
                if c.dateModified < from { return false }
                if let to, c.dateModified > to { return false }
                if let (date, id) = cursor, (c.dateModified, c.id) <= (date, id) { return false }
                return true
            }.map(\.value).sorted { ($0.dateModified, $0.id) < ($1.dateModified, $1.id) }
            let slice = Array(matching.prefix(limit))
            let isLast = slice.count < limit
            let next = isLast ? nil : slice.last.map { Self.encodeCursor($0.dateModified, $0.id) }
            let result = SourcePage(records: slice, isLastPage: isLast, nextCursor: next)
            return (result, nextFetch(.customers, slice.count, isLast), pageHook)
        }
        hook?(self, fetch)
        return result
    }

    public func customers(ids: [Int64]) async throws -> [BCCustomer] {
        try lock.withLock {
            try enter(.customersByID)
            let now = nowLocked()
            let wanted = Set(ids)
            return customersByID.values.filter { s in
                if let v = s.visibleFrom, now < v { return false }
                return wanted.contains(s.value.id)
            }.map(\.value).sorted { $0.id < $1.id }
        }
    }

    // MARK: Internals (called with the lock held)

    private func enter(_ endpoint: Endpoint) throws {
        counts[endpoint, default: 0] += 1
        if var queue = failures[endpoint], !queue.isEmpty {
            let (error, times) = queue[0]
            if times <= 1 { queue.removeFirst() } else { queue[0].1 = times - 1 }
            failures[endpoint] = queue
            throw error
        }
    }

    private func nextFetch(_ endpoint: Endpoint, _ count: Int, _ isLast: Bool) -> PageFetch {
        let index = listFetches[endpoint] ?? 0
        listFetches[endpoint] = index + 1
        return PageFetch(endpoint: endpoint, index: index, recordCount: count, isLastPage: isLast)
    }

    private func visibleOrder(_ id: Int64) -> BCOrder? {
        guard let s = orders[id] else { return nil }
        if let v = s.visibleFrom, nowLocked() < v { return nil }
        return s.value
    }

    private func requireOrder(_ id: Int64) throws -> BCOrder {
        guard let o = visibleOrder(id) else {
            throw RemoteError.notFound(.bigcommerce, "GET /v2/orders/\(id): The requested resource was not found.")
        }
        return o
    }

    private static func sortKey(_ sort: String) throws -> (BCOrder, BCOrder) -> Bool {
        let parts = sort.split(separator: ":").map(String.init)
        let field = parts.first ?? "id"
        let descending: Bool
        switch parts.count > 1 ? parts[1] : "asc" {
        case "asc": descending = false
        case "desc": descending = true
        default: throw RemoteError.rejected(.bigcommerce, status: 400, code: nil, message: "GET /v2/orders: invalid sort \(sort)")
        }
        func by<T: Comparable>(_ f: @escaping (BCOrder) -> T) -> (BCOrder, BCOrder) -> Bool {
            { a, b in
                let x = f(a), y = f(b)
                if x != y { return descending ? x > y : x < y }
                return a.id < b.id
            }
        }
        switch field {
        case "id": return descending ? { $0.id > $1.id } : { $0.id < $1.id }
        case "date_modified": return by(\.dateModified)
        case "date_created": return by(\.dateCreated)
        case "customer_id": return by(\.customerID)
        case "status_id": return by(\.statusID)
        default: throw RemoteError.rejected(.bigcommerce, status: 400, code: nil, message: "GET /v2/orders: invalid sort \(sort)")
        }
    }

    private static func encodeCursor(_ date: Date, _ id: Int64) -> String {
        Data("\(Int64(date.timeIntervalSince1970.rounded(.down))):\(id)".utf8).base64EncodedString()
    }

    private static func decodeCursor(_ text: String) throws -> (Date, Int64) {
        guard let data = Data(base64Encoded: text), let s = String(data: data, encoding: .utf8) else {
            throw RemoteError.rejected(.bigcommerce, status: 422, code: nil, message: "GET /v3/customers: invalid cursor")
        }
        let parts = s.split(separator: ":")
        guard parts.count == 2, let seconds = Int64(parts[0]), let id = Int64(parts[1]) else {
            throw RemoteError.rejected(.bigcommerce, status: 422, code: nil, message: "GET /v3/customers: invalid cursor")
        }
        return (Date(timeIntervalSince1970: Double(seconds)), id)
    }
}
