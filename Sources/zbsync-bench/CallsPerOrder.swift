import Foundation
import Stores
import SyncEngine

/// Zoho calls counted in the sandbox's request log.
struct CallCount {
    var reads = 0
    var writes = 0
    var throttled = 0
    /// `METHOD /path` (ids as `{id}`) → count, in first-seen order.
    var detail: [(String, Int)] = []
    var total: Int { reads + writes }

    init(_ log: [LoggedRequest]) {
        for r in log {
            if r.isThrottled { throttled += 1; continue }
            if r.isWrite { writes += 1 } else { reads += 1 }
            let path = r.path.replacingOccurrences(of: "/books/v3", with: "").split(separator: "/")
                .map { $0.allSatisfy(\.isNumber) ? "{id}" : String($0) }.joined(separator: "/")
            let key = "\(r.method) /\(path)"
            if let i = detail.firstIndex(where: { $0.0 == key }) { detail[i].1 += 1 } else { detail.append((key, 1)) }
        }
    }

    var summary: String { detail.map { $0.1 > 1 ? "\($0.0) ×\($0.1)" : $0.0 }.joined(separator: ", ") }

    var json: JSON {
        ["reads": .int(reads), "writes": .int(writes), "total": .int(total), "throttled": .int(throttled), "calls": .string(summary)]
    }
}

/// Zoho calls per order, by kind of order, for zbsync (steady state: organization, taxes and item list already
/// cached by a first run) and for the baseline on a second sandbox with the same seed.
enum CallsPerOrderBench {
    static func run(_ options: Options) async throws {
        let zb = Sandbox(port: Int(try options.string("port"))!)
        let base = Sandbox(port: Int(try options.string("baseline-port"))!)
        let work = URL(fileURLWithPath: try options.string("dir"))
        let out = try options.string("out")
        // The counting runs are not about pacing: the limit is raised (sandbox and limiter alike) so they do not wait.
        let rpm = options.int("rpm", default: 60_000)
        let clock = SystemClock()
        let start = try await zb.now().addingTimeInterval(-31 * 86_400)

        let home = try BenchHome(under: work, name: "home-calls")
        func zbsync() async throws -> SyncReport {
            try await zb.advance(120)   // past sync.lag, so what was just created is in the window
            let w = try await RunWiring.make(sandbox: zb, home: home, clock: clock, requestsPerMinute: rpm, start: start)
            return try await w.runner.sync(SyncOptions())
        }
        func measure(_ sandbox: Sandbox, _ body: () async throws -> Void) async throws -> CallCount {
            let before = try await sandbox.lastSequence()
            try await body()
            return CallCount(try await sandbox.requests(since: before, api: "zoho"))
        }

        // Baseline wiring: its own home (tokens and limiter state only).
        let baseHome = try BenchHome(under: work, name: "home-baseline")
        let baseWiring = try await RunWiring.make(sandbox: base, home: baseHome, clock: clock, requestsPerMinute: rpm, start: start)
        let source = baseWiring.source
        var naiveSettings = BenchSettings.mapping
        naiveSettings.baseCurrency = try await baseWiring.sink.organization().currencyCode
        let naive = NaiveSync(sink: baseWiring.sink, settings: naiveSettings)
        func enrich(_ input: BCOrder) async throws -> (BCOrder, [BCTransaction]) {
            var order = input
            if order.products == nil { order.products = try await source.orderProducts(orderID: order.id) }
            if order.shipping == nil { order.shipping = try await source.orderShipping(orderID: order.id) }
            if order.fees == nil { order.fees = try await source.orderFees(orderID: order.id) }
            if order.taxes == nil { order.taxes = order.totalTax == 0 ? [] : try await source.orderTaxes(orderID: order.id) }
            let invoiced = OrderClassification.disposition(order: order, hasInvoice: false, settings: naiveSettings).isInvoice
            return (order, invoiced ? try await source.transactions(orderID: order.id) : [])
        }
        func naiveOrder(_ id: Int64) async throws {
            guard let o = try await source.order(id: id) else { throw BenchError("baseline: order \(id) not found") }
            let (order, txns) = try await enrich(o)
            await naive.syncOrder(order, transactions: txns)
        }

        // 1. The seeded store, first import.
        note("calls per order: first import of the seeded store (zbsync)")
        var importReport = SyncReport()
        let zbImport = try await measure(zb) { importReport = try await zbsync() }
        let zbInvoices = zbImport.detail.first { $0.0 == "POST /invoices" }?.1 ?? 0

        note("calls per order: first import of the seeded store (baseline)")
        try await base.advance(120)
        let setup = try await measure(base) { try await naive.prepare() }
        let hi = try await source.serverTime().addingTimeInterval(-60)
        var storeOrders: [(BCOrder, [BCTransaction])] = []
        var minID: Int64 = 0
        while true {
            var q = OrderQuery()
            q.modifiedFrom = start; q.modifiedTo = hi; q.minID = minID > 0 ? minID : nil; q.limit = 250
            let page = try await source.orders(q)
            for o in page.records { storeOrders.append(try await enrich(o)) }
            if page.isLastPage || page.records.isEmpty { break }
            minID = (page.records.map(\.id).max() ?? minID) + 1
        }
        let baseImport = try await measure(base) {
            for (order, txns) in storeOrders { await naive.syncOrder(order, transactions: txns) }
            for (order, _) in storeOrders where order.statusID == 4 || order.statusID == 14 {
                for refund in try await source.refunds(orderID: order.id) { await naive.refund(refund, order: order) }
            }
        }
        let baseInvoices = baseImport.detail.first { $0.0 == "POST /invoices" }?.1 ?? 0

        // 2. Steady state, one kind of order at a time (the same control calls on both sandboxes).
        func both(_ path: String, _ body: JSON) async throws -> JSON {
            let a = try await zb.control(path, body)
            let b = try await base.control(path, body)
            guard a["id"]?.int64 == b["id"]?.int64 else { throw BenchError("the two sandboxes diverged on \(path)") }
            return a
        }
        let customer = try await both("/_sandbox/bc/customers", ["email": "bench.buyer@example.com", "first_name": "Bench", "last_name": "Buyer"])
        guard let customerID = customer["id"]?.int64 else { throw BenchError("no customer id") }
        func orderBody(customer: Int64, email: String, first: String, last: String, lines: [JSON], status: Int = 11,
                       payment: String = "purchase") -> JSON {
            ["customer_id": .int64(customer), "email": .string(email),
             "billing_address": ["first_name": .string(first), "last_name": .string(last), "email": .string(email)],
             "lines": .array(lines), "status_id": .int(status), "payment": .string(payment)]
        }
        let widget: JSON = ["name": "Bench Widget", "sku": "BENCH-WIDGET", "price": "24.00", "quantity": 1]
        let gadget: JSON = ["name": "Bench Gadget", "sku": "BENCH-GADGET", "price": "12.50", "quantity": 2]
        func registered(_ lines: [JSON], status: Int = 11, payment: String = "purchase") -> JSON {
            orderBody(customer: customerID, email: "bench.buyer@example.com", first: "Bench", last: "Buyer", lines: lines,
                      status: status, payment: payment)
        }
        func guest(_ lines: [JSON]) -> JSON {
            orderBody(customer: 0, email: "bench.guest@example.com", first: "Gina", last: "Guest", lines: lines)
        }

        var rows: [JSON] = []
        var zbReports: [SyncReport] = [importReport]
        func row(_ key: String, _ name: String, _ zbCalls: CallCount, _ naiveCalls: CallCount?, expect: String) {
            var r: JSONObject = JSONObject()
            r["key"] = .string(key); r["name"] = .string(name); r["zbsync"] = zbCalls.json
            r["baseline"] = naiveCalls?.json ?? .null
            r["expected"] = .string(expect)
            rows.append(.object(r))
            note("  \(name): zbsync \(zbCalls.total) (\(zbCalls.summary)); baseline \(naiveCalls.map { String($0.total) } ?? "-")")
        }
        func orderScenario(_ key: String, _ name: String, _ body: JSON, expect: String) async throws -> Int64 {
            let created = try await both("/_sandbox/bc/orders", body)
            guard let id = created["id"]?.int64 else { throw BenchError("no order id") }
            var report = SyncReport()
            let z = try await measure(zb) { report = try await zbsync() }
            zbReports.append(report)
            let n = try await measure(base) { try await naiveOrder(id) }
            row(key, name, z, n, expect: expect)
            return id
        }

        note("calls per order: steady state")
        _ = try await orderScenario("new_customer_new_items", "New customer, 2 new items, paid", registered([widget, gadget]),
                                    expect: "contact lookup + create, per item lookup + create, invoice create, mark sent, payment")
        _ = try await orderScenario("known_customer_known_items", "Returning customer, known item, paid", registered([widget]),
                                    expect: "invoice create, mark sent, payment (target ≤ 3)")
        _ = try await orderScenario("known_customer_two_items", "Returning customer, 2 known items, paid", registered([widget, gadget]),
                                    expect: "invoice create, mark sent, payment")
        _ = try await orderScenario("unpaid", "Unpaid order (Awaiting Payment)", registered([widget], status: 7, payment: "none"),
                                    expect: "invoice create, mark sent")
        _ = try await orderScenario("guest_new", "Guest checkout, first order", guest([widget]),
                                    expect: "contact lookup + create, invoice create, mark sent, payment")
        _ = try await orderScenario("guest_returning", "Guest checkout, returning guest", guest([gadget]),
                                    expect: "invoice create, mark sent, payment")

        // A refund: the order is posted first (not counted), then fully refunded.
        let refunded = try await both("/_sandbox/bc/orders", registered([widget, gadget]))
        guard let refundedID = refunded["id"]?.int64 else { throw BenchError("no order id") }
        zbReports.append(try await zbsync())
        try await naiveOrder(refundedID)
        _ = try await both("/_sandbox/bc/refunds", ["order_id": .int64(refundedID), "full": true, "reason": "benchmark"])
        var refundReport = SyncReport()
        let zRefund = try await measure(zb) { refundReport = try await zbsync() }
        zbReports.append(refundReport)
        let nRefund = try await measure(base) {
            guard let o = try await source.order(id: refundedID) else { throw BenchError("order \(refundedID) not found") }
            let (order, _) = try await enrich(o)
            for r in try await source.refunds(orderID: refundedID) { await naive.refund(r, order: order) }
        }
        row("refund", "Full refund of a paid order (refund only)", zRefund, nRefund,
            expect: "credit note create, read it and the invoice, refund (paid invoice)")

        // Cancelled after posting.
        let cancelled = try await both("/_sandbox/bc/orders", registered([widget]))
        guard let cancelledID = cancelled["id"]?.int64 else { throw BenchError("no order id") }
        zbReports.append(try await zbsync())
        try await naiveOrder(cancelledID)
        _ = try await both("/_sandbox/bc/orders", ["id": .int64(cancelledID), "status_id": 5])
        var cancelReport = SyncReport()
        let zCancel = try await measure(zb) { cancelReport = try await zbsync() }
        zbReports.append(cancelReport)
        let nCancel = try await measure(base) {
            guard let o = try await source.order(id: cancelledID) else { throw BenchError("order \(cancelledID) not found") }
            await naive.cancel(o)
        }
        row("cancelled", "Cancelled after posting (cancel only)", zCancel, nCancel, expect: "void")

        // Nothing changed.
        var idleReport = SyncReport()
        let zIdle = try await measure(zb) { idleReport = try await zbsync() }
        zbReports.append(idleReport)
        row("no_change", "Second run, no changes", zIdle, nil, expect: "0 writes, ≤ 1 read")

        let failed = zbReports.reduce(0) { $0 + $1.push.failed + $1.push.dead + $1.quarantined }
        var result = JSONObject()
        result["rows"] = .array(rows)
        result["import"] = [
            "orders": .int(importReport.ordersSeen), "refunds": .int(importReport.refundsSeen),
            "zbsync": zbImport.json, "zbsync_invoices": .int(zbInvoices),
            "baseline": baseImport.json, "baseline_invoices": .int(baseInvoices), "baseline_setup": setup.json,
        ]
        result["zbsync_problems"] = .int(failed)
        result["baseline_failures"] = .array(naive.failures.prefix(20).map(JSON.string))
        result["baseline_failure_count"] = .int(naive.failures.count)
        try writeResult(.object(result), to: out)
        if !naive.failures.isEmpty { note("baseline failures: \(naive.failures.prefix(5))") }
    }
}
