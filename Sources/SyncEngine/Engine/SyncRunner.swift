import Foundation

/// What a sync (or backfill, or replay) should do.
public struct SyncOptions: Sendable, Equatable {
    /// Plan and report only: no Zoho writes, no cursor moves, no inbox changes.
    public var dryRun = false
    /// Only drain the webhook inbox (no polling).
    public var inboxOnly = false
    /// Skip the push (plan and journal only).
    public var skipPush = false
    public init() {}
}

/// A one-off window for `backfill`.
public struct BackfillWindow: Sendable, Equatable {
    public var since: Date
    public var until: Date?
    public init(since: Date, until: Date?) { self.since = since; self.until = until }
    /// The cursor name of this window, so an interrupted backfill resumes where it stopped.
    public var stream: String {
        let f = ISO8601DateFormatter()
        return "backfill:" + f.string(from: since) + "/" + (until.map { f.string(from: $0) } ?? "open")
    }
}

/// A stream whose reading stopped at a reply that could not be read (see ``SyncReport/unreadable``).
public struct UnreadableStream: Sendable, Equatable {
    /// `orders`, `refunds`, `customers` or a `backfill:…` stream.
    public var stream: String
    /// What could not be read, naming the request (never a body).
    public var reason: String
    public init(stream: String, reason: String) { self.stream = stream; self.reason = reason }
}

/// Figures of one run, for the summary, `status` and the `runs` table.
public struct SyncReport: Sendable, Equatable {
    public var ordersSeen = 0
    public var refundsSeen = 0
    public var customersSeen = 0
    public var deliveries = 0
    public var planned = 0
    public var quarantined = 0
    public var attention = 0
    /// The plan, kept for `--dry-run`.
    public var plan = SyncPlan()
    public var push = PushReport()
    public var windows: [String] = []
    /// Streams whose reading stopped at a reply that could not be read at all (a truncated or garbled page).
    /// Their cursors stayed where they were; the other streams and the push went on.
    public var unreadable: [UnreadableStream] = []
    public init() {}

    public var counts: [String: Int] {
        var c: [String: Int] = [
            "orders_seen": ordersSeen, "refunds_seen": refundsSeen, "customers_seen": customersSeen, "deliveries": deliveries,
            "planned": planned, "quarantined": quarantined, "attention": attention + push.attention,
            "done": push.done, "adopted": push.adopted, "failed": push.failed, "dead": push.dead, "unknown": push.unknown,
            "deferred": push.deferred, "totals_corrected": push.totalsCorrected,
        ]
        for (k, v) in push.completedByKind { c["done." + k] = v }
        return c
    }
}

/// Reads BigCommerce since the cursors, plans, journals (with the cursor, in one transaction) and pushes.
///
/// Invariant: a cursor moves only in the transaction that journals the operations for every record up to
/// it; a record that cannot be read or mapped is quarantined (shown by `status`) and never blocks the rest.
/// A reply that cannot be read at all (a truncated or garbled page) stops its own stream where it is — the
/// cursor does not move — while the other streams and the push go on (``SyncReport/unreadable``).
public final class SyncRunner: @unchecked Sendable {
    let source: BigCommerceSource
    let sink: ZohoBooksSink
    let store: StateStore
    let clock: SyncClock
    let logger: Logger
    let settings: SyncSettings
    let runID: String
    /// Orders read in this run, so a refund of one of them costs no extra read.
    private var orderCache: [Int64: BCOrder] = [:]
    private static let maxPages = 20_000

    public init(source: BigCommerceSource, sink: ZohoBooksSink, store: StateStore, clock: SyncClock, logger: Logger,
                settings: SyncSettings, runID: String) {
        self.source = source; self.sink = sink; self.store = store; self.clock = clock; self.logger = logger
        self.settings = settings; self.runID = runID
    }

    public lazy var executor: Executor = {
        let e = Executor(sink: sink, store: store, clock: clock, logger: logger, settings: settings, runID: runID)
        e.crashHook = crashHook
        return e
    }()
    /// Called after each pushed operation when the entry point was given no progress closure.
    public var progress: ((PushReport) -> Void)?
    /// Passed to the executor (see ``CrashPoint``).
    public var crashHook: (@Sendable (CrashPoint) -> Bool)?

    // MARK: Entry points

    /// The cron job: inbox, then the three streams, then the push.
    public func sync(_ options: SyncOptions, progress: ((PushReport) -> Void)? = nil) async throws -> SyncReport {
        var report = SyncReport()
        let serverNow = try await source.serverTime()
        let hi = serverNow.addingTimeInterval(-settings.lag)
        try await drainInbox(options, report: &report)
        if !options.inboxOnly {
            try await readingStream("orders", report: &report) {
                try await pollOrders(stream: "orders", from: nil, to: hi, options: options, report: &$0)
            }
            try await readingStream("refunds", report: &report) { try await pollRefunds(to: hi, options: options, report: &$0) }
            try await readingStream("customers", report: &report) { try await pollCustomers(to: hi, options: options, report: &$0) }
        }
        if !options.dryRun, !options.skipPush {
            report.push = await executor.push(progress: progress ?? self.progress)
        }
        return report
    }

    /// History import over a window, with its own resumable cursor.
    public func backfill(_ window: BackfillWindow, options: SyncOptions, progress: ((PushReport) -> Void)? = nil) async throws -> SyncReport {
        var report = SyncReport()
        let serverNow = try await source.serverTime()
        let upper = min(window.until ?? serverNow, serverNow.addingTimeInterval(-settings.lag))
        try await readingStream(window.stream, report: &report) {
            try await pollOrders(stream: window.stream, from: window.since, to: upper, options: options, report: &$0, byCreation: true)
        }
        if !options.dryRun, !options.skipPush {
            report.push = await executor.push(progress: progress ?? self.progress)
        }
        return report
    }

    /// Re-reads one order (and its refunds) and re-plans it; pushes only what concerns it.
    public func replay(orderID: Int64, options: SyncOptions) async throws -> SyncReport {
        var report = SyncReport()
        guard let order = try await source.order(id: orderID) else {
            throw RemoteError.notFound(.bigcommerce, "order \(orderID)")
        }
        let change = try await enrich(order)
        var changes = SourceChanges(orders: [change])
        for refund in try await source.refunds(orderID: orderID) {
            changes.refunds.append(RefundChange(refund: refund, order: change.order))
        }
        report.ordersSeen = 1
        report.refundsSeen = changes.refunds.count
        try commit(changes, cursors: [], options: options, report: &report)
        if !options.dryRun, !options.skipPush {
            var keys: Set<String> = [EntityKey.order(orderID)]
            for op in report.plan.operations { keys.insert(op.entityKey) }
            report.push = await executor.push(onlyEntityKeys: keys, progress: self.progress)
        }
        return report
    }

    /// Runs one stream's poll. A reply BigCommerce sent that cannot be read at all ends that stream for this
    /// run (its cursor stays where the last committed page left it) and is recorded in the report; every other
    /// error ends the run as before.
    func readingStream(_ stream: String, report: inout SyncReport, _ poll: (inout SyncReport) async throws -> Void) async throws {
        do {
            try await poll(&report)
        } catch RemoteError.malformed(let system, let message) {
            report.unreadable.append(UnreadableStream(stream: stream, reason: "\(system.rawValue): \(message)"))
            logger.error("stopped reading \(stream): \(system.rawValue) sent a reply zbsync cannot read (\(message)); its cursor did not move, the next run reads it again")
        }
    }

    // MARK: Inbox

    func drainInbox(_ options: SyncOptions, report: inout SyncReport) async throws {
        var rounds = 0
        while rounds < 100 {
            rounds += 1
            let deliveries = try store.unprocessedDeliveries(limit: 200)
            if deliveries.isEmpty { return }
            var changes = SourceChanges()
            var orderIDs: [Int64] = []
            var customerIDs: [Int64] = []
            var refundOrders: [Int64] = []
            var archived = Set<Int64>()
            for d in deliveries {
                if d.scope == "store/order/archived" { archived.insert(d.entityID) }
                if d.scope.hasPrefix("store/customer") { customerIDs.append(d.entityID) }
                else if d.scope.hasPrefix("store/order/refund") { refundOrders.append(d.entityID); orderIDs.append(d.entityID) }
                else if d.scope.hasPrefix("store/order") { orderIDs.append(d.entityID) }
            }
            var seen = Set<Int64>()
            for id in orderIDs where seen.insert(id).inserted {
                // An order that cannot be read is quarantined like one read by the poll; its delivery is done
                // (the order is re-read when it changes, or by `replay`), so it never blocks the inbox.
                do {
                    if let order = try await source.order(id: id) {
                        changes.orders.append(try await enrich(order))
                    } else if archived.contains(id), let invoice = try store.mapping(EntityKey.order(id)), invoice.zohoStatus != "void" {
                        // Archived, and BigCommerce no longer serves the order by id: it counts as archived
                        // (is_deleted), so its invoice is voided like a cancelled order's.
                        var gone = BCOrder(id: id, dateCreated: clock.now(), dateModified: clock.now())
                        gone.isDeleted = true
                        changes.orders.append(OrderChange(order: gone, transactions: []))
                        logger.warning("order \(id) was archived and BigCommerce answers 404 for it; invoice \(invoice.zohoNumber ?? invoice.zohoID) is voided")
                    }
                } catch RemoteError.malformed(_, let message) {
                    changes.rejected.append(RejectedRecord(entityKey: EntityKey.order(id), reason: message))
                } catch RemoteError.notFound(_, let message) {
                    // A sub-resource of the order answered 404 (deleted between the reads).
                    changes.rejected.append(RejectedRecord(entityKey: EntityKey.order(id), reason: message))
                }
            }
            // Refunds and customers that cannot be read here are left to their own streams, which read (or
            // quarantine) them; the delivery is not held up.
            for id in Set(refundOrders) {
                guard let order = orderCache[id] else { continue }
                do {
                    for refund in try await source.refunds(orderID: id) { changes.refunds.append(RefundChange(refund: refund, order: order)) }
                } catch RemoteError.malformed(_, let message) {
                    logger.warning("the refunds of order \(id) cannot be read (\(message)); the refunds stream reads them")
                } catch RemoteError.notFound(_, let message) {
                    logger.warning("the refunds of order \(id) are not found (\(message)); the refunds stream reads them")
                }
            }
            if !customerIDs.isEmpty {
                do {
                    changes.customers = try await source.customers(ids: Array(Set(customerIDs)).sorted())
                } catch RemoteError.malformed(_, let message) {
                    logger.warning("customers \(Array(Set(customerIDs)).sorted()) cannot be read (\(message)); the customers stream reads them")
                }
            }
            report.deliveries += deliveries.count
            report.ordersSeen += changes.orders.count
            report.refundsSeen += changes.refunds.count
            report.customersSeen += changes.customers.count
            try commit(changes, cursors: [], options: options, report: &report)
            if options.dryRun { return }
            try store.markProcessed(deliveryIDs: deliveries.map(\.deliveryID), at: clock.now())
        }
    }

    // MARK: Orders

    /// Reads orders modified (or, for a backfill, created) in the window, keyset-paged on id so edits during
    /// the scan neither skip nor repeat rows. The cursor moves to the window's end with the last page.
    func pollOrders(stream: String, from explicitStart: Date?, to hi: Date, options: SyncOptions, report: inout SyncReport,
                    byCreation: Bool = false) async throws {
        let cursor = try store.cursor(stream)
        let lo: Date
        var minID: Int64 = 0
        if byCreation {
            lo = explicitStart ?? settings.start
            // A backfill cursor records the last id it journaled; it resumes after it (see `minID` below).
            if let cursor, cursor.id > 0 { minID = cursor.id }
            if let cursor, cursor.id < 0 { return }
        } else {
            let start = cursor?.timestamp ?? settings.start
            lo = max(settings.start, start.addingTimeInterval(-settings.lookback))
        }
        guard hi > lo else { return }
        report.windows.append("\(stream) \(Self.iso(lo)) … \(Self.iso(hi))")
        // `minID` is the last id already handled (0: none). It is sent as `min_id` as it is, and records with an id
        // ≤ it are dropped here, so the scan neither skips nor repeats an order whether the server reads `min_id`
        // as inclusive or exclusive (the reference says only "order id range").
        func rejectedID(_ r: RejectedRecord) -> Int64? {
            r.entityKey.hasPrefix("order:") ? Int64(r.entityKey.dropFirst("order:".count)) : nil
        }
        var pages = 0
        while pages < Self.maxPages {
            pages += 1
            var q = OrderQuery()
            if byCreation { q.createdFrom = lo; q.createdTo = hi } else { q.modifiedFrom = lo; q.modifiedTo = hi }
            q.minID = minID > 0 ? minID : nil
            q.sort = "id:asc"
            q.limit = settings.pageSize
            let page = try await source.orders(q)
            let handled = minID
            let records = page.records.filter { $0.id > handled }
            let rejected = page.rejected.filter { r in rejectedID(r).map { $0 > handled } ?? true }
            var changes = SourceChanges(rejected: rejected)
            for order in records {
                do {
                    changes.orders.append(try await enrich(order))
                    if byCreation, Self.mayHaveRefunds(order) {
                        for refund in try await source.refunds(orderID: order.id) {
                            changes.refunds.append(RefundChange(refund: refund, order: orderCache[order.id] ?? order))
                        }
                    }
                } catch let error as RemoteError {
                    // An order that cannot be read, or that vanished after it was listed (404 on a sub-resource, see
                    // `enrich`), is quarantined; the rest of the page and the run go on.
                    switch error {
                    case .malformed(_, let m):
                        changes.rejected.append(RejectedRecord(entityKey: EntityKey.order(order.id), reason: m))
                    case .notFound(_, let m):
                        let reason = m.contains("zbsync replay") ? m
                            : "\(m); the order was probably deleted or archived after it was listed; 'zbsync replay --order \(order.id)' re-reads it"
                        changes.rejected.append(RejectedRecord(entityKey: EntityKey.order(order.id), reason: reason))
                    default:
                        throw error
                    }
                }
            }
            // A page of quarantined records is still a page: the scan goes on after their ids.
            let pageIDs = records.map(\.id) + rejected.compactMap(rejectedID)
            let last = page.isLastPage || (page.records.isEmpty && page.rejected.isEmpty)
            if !last, pageIDs.isEmpty {
                if !page.records.isEmpty || page.rejected.contains(where: { rejectedID($0) != nil }) {
                    // A full page holding nothing after the last id handled: the server is not applying `min_id`.
                    // Reading on would loop over the same page, so the stream stops here (its cursor stays).
                    throw RemoteError.malformed(.bigcommerce, "GET /v2/orders for stream \(stream): a full page of \(page.records.count + page.rejected.count) "
                        + "records holds no order after id \(handled), which was already read; the server seems to ignore min_id")
                }
                // A full page in which no record has a readable id: keyset paging cannot get past it.
                throw RemoteError.malformed(.bigcommerce, "GET /v2/orders: a full page of \(page.rejected.count) records without a readable id")
            }
            let maxID = pageIDs.max() ?? minID
            var cursors: [StreamCursor] = []
            if byCreation {
                cursors = [StreamCursor(stream: stream, timestamp: lo, id: last ? -1 : maxID)]
            } else if last {
                cursors = [StreamCursor(stream: stream, timestamp: hi, id: 0)]
            }
            report.ordersSeen += records.count
            report.refundsSeen += changes.refunds.count
            try commit(changes, cursors: cursors, options: options, report: &report)
            if last { return }
            minID = maxID
        }
        logger.warning("stopped reading \(stream) after \(Self.maxPages) pages; the next run continues")
    }

    /// Whether a backfilled order's refunds are read: a refunded status (4, 14), or a payment status that says
    /// refunded (an order partially refunded and then shipped keeps "partially refunded" as its payment status).
    static func mayHaveRefunds(_ order: BCOrder) -> Bool {
        order.statusID == 4 || order.statusID == 14 || order.paymentStatus.lowercased().contains("refund")
    }

    /// Loads what an order's mapping needs: lines, shipping, fees, taxes and transactions.
    ///
    /// A sub-resource that answers 404 (the order was deleted or archived between the list call and this one) throws
    /// `.notFound` naming the path and `zbsync replay --order <id>`; `pollOrders` quarantines that order alone.
    func enrich(_ input: BCOrder) async throws -> OrderChange {
        var order = input
        let id = order.id
        func read<T>(_ path: String, _ call: () async throws -> T) async throws -> T {
            do {
                return try await call()
            } catch RemoteError.notFound(let system, let message) {
                throw RemoteError.notFound(system, "order:\(id): GET \(path) answered 404 (\(message)); the order was probably deleted or "
                    + "archived after it was listed; 'zbsync replay --order \(id)' re-reads it")
            }
        }
        if order.products == nil { order.products = try await read("/v2/orders/\(id)/products") { try await source.orderProducts(orderID: id) } }
        if order.shipping == nil {
            order.shipping = try await read("/v2/orders/\(id)/shipping_addresses") { try await source.orderShipping(orderID: id) }
        }
        if order.fees == nil { order.fees = try await read("/v2/orders/\(id)/fees") { try await source.orderFees(orderID: id) } }
        if order.taxes == nil {
            order.taxes = order.totalTax == 0 ? [] : try await read("/v2/orders/\(id)/taxes") { try await source.orderTaxes(orderID: id) }
        }
        let transactions = OrderClassification.disposition(order: order, hasInvoice: false, settings: settings.mapping).isInvoice
            ? try await read("/v3/orders/\(id)/transactions") { try await source.transactions(orderID: id) } : []
        orderCache[order.id] = order
        return OrderChange(order: order, transactions: transactions)
    }

    // MARK: Refunds

    func pollRefunds(to hi: Date, options: SyncOptions, report: inout SyncReport) async throws {
        let stream = "refunds"
        let cursor = try store.cursor(stream)
        let lo = max(settings.start, (cursor?.timestamp ?? settings.start).addingTimeInterval(-settings.lookback))
        guard hi > lo else { return }
        report.windows.append("\(stream) \(Self.iso(lo)) … \(Self.iso(hi))")
        var page = 1
        while page <= Self.maxPages {
            let result = try await source.refunds(createdFrom: lo, createdTo: hi, page: page, limit: settings.pageSize)
            var changes = SourceChanges(rejected: result.rejected)
            let known = try store.mappings(result.records.map { EntityKey.refund($0.id) })
            for refund in result.records where known[EntityKey.refund(refund.id)] == nil {
                let order: BCOrder?
                do {
                    if let cached = orderCache[refund.orderID] { order = cached } else if let fetched = try await source.order(id: refund.orderID) {
                        order = try await enrich(fetched).order
                    } else { order = nil }
                } catch RemoteError.malformed(_, let message) {
                    // A refund is polled once (by creation time): name the command that reads it again.
                    changes.rejected.append(RejectedRecord(entityKey: EntityKey.refund(refund.id),
                                                           reason: "its order \(refund.orderID) cannot be read (\(message)); once the order is fixed, run 'zbsync replay --order \(refund.orderID)'"))
                    continue
                }
                guard let order else {
                    changes.rejected.append(RejectedRecord(entityKey: EntityKey.refund(refund.id), reason: "its order \(refund.orderID) cannot be read"))
                    continue
                }
                changes.refunds.append(RefundChange(refund: refund, order: order))
            }
            report.refundsSeen += result.records.count
            let last = result.isLastPage || (result.records.isEmpty && result.rejected.isEmpty)
            try commit(changes, cursors: last ? [StreamCursor(stream: stream, timestamp: hi)] : [], options: options, report: &report)
            if last { return }
            page += 1
        }
    }

    // MARK: Customers

    /// How far the customers window reaches back and forward beyond the cursor: the Customers API takes dates
    /// without an offset and does not say in which zone it reads them, and a store's zone is at most 14 hours
    /// from UTC. Customers read twice are planned once (their contacts change only when their fingerprint does).
    static let customerZoneSlack: TimeInterval = 14 * 3600

    func pollCustomers(to hi: Date, options: SyncOptions, report: inout SyncReport) async throws {
        let stream = "customers"
        let cursor = try store.cursor(stream)
        let overlap = max(settings.lookback, Self.customerZoneSlack)
        let lo = max(settings.start, (cursor?.timestamp ?? settings.start).addingTimeInterval(-overlap))
        guard hi > lo else { return }
        report.windows.append("\(stream) \(Self.iso(lo)) … \(Self.iso(hi))")
        var after: String? = nil
        var pages = 0
        while pages < Self.maxPages {
            pages += 1
            let result = try await source.customers(modifiedFrom: lo, modifiedTo: hi.addingTimeInterval(Self.customerZoneSlack),
                                                    after: after, limit: settings.pageSize)
            let changes = SourceChanges(customers: result.records, rejected: result.rejected)
            report.customersSeen += result.records.count
            let last = result.isLastPage || (result.records.isEmpty && result.rejected.isEmpty) || result.nextCursor == nil
            try commit(changes, cursors: last ? [StreamCursor(stream: stream, timestamp: hi)] : [], options: options, report: &report)
            if last { return }
            after = result.nextCursor
        }
    }

    // MARK: Planning and journaling

    /// Plans `changes` against the stored mappings and journals the operations with `cursors` in one
    /// transaction (nothing is written on a dry run).
    func commit(_ changes: SourceChanges, cursors: [StreamCursor], options: SyncOptions, report: inout SyncReport) throws {
        let keys = Planner.mappingKeys(for: changes, settings: settings.mapping)
        var known = try store.mappings(keys)
        // A contact or item planned earlier but not pushed yet counts as known: it is not planned twice, and a
        // pending contact still fixes the customer's first currency.
        for key in keys where known[key] == nil && (key.hasPrefix("customer:") || key.hasPrefix("guest:") || key.hasPrefix("sku:")) {
            let kind = key.hasPrefix("sku:") ? OperationKind.itemEnsure.rawValue : OperationKind.contactEnsure.rawValue
            guard let pending = try store.entries(entityKey: key).last(where: { $0.state != .done && $0.operation.kind == kind }) else { continue }
            var extra: JSON = .null
            if let currency = pending.operation.payload["spec"]?["draft"]?["currency_code"]?.string { extra = ["currency": .string(currency)] }
            known[key] = MappingRecord(entityKey: key, zohoID: "", fingerprint: pending.operation.fingerprint, zohoStatus: "pending",
                                       extra: extra, updatedAt: clock.now())
        }
        // A cancelled order whose invoice is still queued (not sent yet, or its outcome unknown) counts as
        // invoiced: the void is planned behind it, so the queued invoice never stays live.
        for change in changes.orders where change.order.isDeleted || change.order.statusID == 5 || change.order.statusID == 6 {
            let key = EntityKey.order(change.order.id)
            guard known[key] == nil,
                  let queued = try store.entries(entityKey: key).last(where: {
                      $0.state != .done && $0.operation.kind == OperationKind.invoiceEnsure.rawValue
                  }) else { continue }
            known[key] = MappingRecord(entityKey: key, zohoID: "", zohoNumber: queued.operation.zohoKey,
                                       fingerprint: queued.operation.fingerprint, zohoStatus: "pending", updatedAt: clock.now())
        }
        let plan = Planner.plan(changes, mappings: known, settings: settings.mapping)
        report.plan.operations += plan.operations
        report.plan.problems += plan.problems
        report.plan.skips += plan.skips
        report.plan.cleared += plan.cleared
        report.planned += plan.operations.count
        report.quarantined += plan.problems.filter { $0.kind == "quarantine" }.count
        report.attention += plan.problems.filter { $0.kind == "attention" }.count
        guard !options.dryRun else { return }
        let now = clock.now()
        try store.commitPlan(plan.operations, cursors: cursors, at: now)
        for problem in plan.problems {
            try store.raiseAttention(kind: problem.kind, entityKey: problem.entityKey, message: problem.message, at: now)
            try store.appendAudit(AuditEvent(time: now, runID: runID, entityKey: problem.entityKey, action: "plan", outcome: problem.kind,
                                             message: problem.message))
            logger.warning("\(problem.entityKey) \(problem.kind): \(problem.message)")
        }
        for key in plan.cleared { try store.resolveAttention(kind: "quarantine", entityKey: key, at: now) }
    }

    static func iso(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        return f.string(from: d)
    }
}
