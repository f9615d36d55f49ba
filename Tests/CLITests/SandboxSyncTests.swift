import Foundation
import Testing

extension SandboxEndToEnd {
    /// `zbsync sync` on a seeded store: what reaches Zoho Books, what it costs, and that nothing is redone.
    @Suite struct SandboxSyncTests {
        /// A 500-order store end to end.
        ///
        /// Invariants: `sync --dry-run` makes no Zoho write and moves no cursor; `sync` exits 0 and leaves one
        /// invoice `BC-<id>` per sale (none for statuses 0, 1, 6, nor for cancelled orders never invoiced),
        /// each total equal to `total_inc_tax` to the cent, one credit note per refund, and no duplicate
        /// contact, item, invoice, credit note or payment; a second `sync` makes zero Zoho writes (≤ 1 read).
        @Test func fiveHundredOrderStoreEndToEnd() throws {
            let world = try SandboxWorld(SandboxOptions(seed: 20_261, orders: 500))
            defer { world.close() }
            let sandbox = world.sandbox

            // Dry run first: no Zoho write, no cursor.
            let cursorsBefore = try world.cursors()
            let seqDry = try sandbox.lastSeq()
            let dry = try world.run(["sync", "--dry-run"], timeout: 180)
            #expect(dry.exitCode == 0 && !dry.signaled, "\(dry)")
            let dryLog = try sandbox.requests(since: seqDry)
            #expect(dryLog.zohoWrites.isEmpty, "dry run wrote to Zoho:\n\(RequestLog.histogram(dryLog.zohoWrites))")
            let cursorsAfterDry = try world.cursors()
            #expect(cursorsBefore.isEmpty, "a new home has no cursor: \(cursorsBefore)")
            #expect(cursorsAfterDry == cursorsBefore, "dry run moved cursors: \(cursorsBefore) → \(cursorsAfterDry)")
            #expect(dry.stdout.contains("BC-"), "the dry run prints the plan:\n\(dry)")

            // The real run.
            let seqSync = try sandbox.lastSeq()
            let first = try world.run(["sync"], timeout: 300)
            let firstLog = try sandbox.requests(since: seqSync)
            #expect(first.exitCode == 0 && !first.signaled, "\(first)")

            let report = try ConvergenceReport.check(sandbox)
            let journal = try world.journalCounts()
            let zohoCalls = firstLog.zohoCalls.count
            let zohoWrites = firstLog.zohoWrites.count
            let invoices = max(report.invoices, 1)
            let figures = """
            500-order store: first sync \(String(format: "%.1f", first.seconds)) s (dry run \(String(format: "%.1f", dry.seconds)) s); \
            \(firstLog.bigCommerceCalls.count) BigCommerce calls, \(zohoCalls) Zoho calls (\(zohoWrites) writes), \
            \(firstLog.accountsCalls.count) token calls; \(report.invoices) invoices → \
            \(String(format: "%.2f", Double(zohoCalls) / Double(invoices))) Zoho calls and \
            \(String(format: "%.2f", Double(zohoWrites) / Double(invoices))) writes per invoice; journal \(journal.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            """
            print(figures + "\nZoho calls of the first sync:\n" + RequestLog.histogram(firstLog.zohoCalls))
            #expect(report.problems.isEmpty, "\(report)\n\(figures)\nZoho calls of the first sync:\n\(RequestLog.histogram(firstLog.zohoCalls))\nsummary: \(first.stdout)")
            #expect(report.invoiceable > 300, "the seeded store has a few hundred sales: \(report)")
            let unfinished = ["pending", "sending", "unknown", "failed", "dead"].reduce(0) { $0 + (journal[$1] ?? 0) }
            #expect(unfinished == 0, "the first sync left operations behind: \(journal)\n\(figures)")

            // Nothing changed in BigCommerce: the second run writes nothing.
            let seqSecond = try sandbox.lastSeq()
            let second = try world.run(["sync"], timeout: 120)
            let secondLog = try sandbox.requests(since: seqSecond)
            #expect(second.exitCode == 0 && !second.signaled, "\(second)")
            #expect(secondLog.zohoWrites.isEmpty,
                    "second sync wrote \(secondLog.zohoWrites.count) times to Zoho:\n\(RequestLog.histogram(secondLog.zohoWrites))\n\(second)")
            #expect(secondLog.zohoCalls.count <= 1, "second sync made \(secondLog.zohoCalls.count) Zoho calls:\n\(RequestLog.histogram(secondLog.zohoCalls))")
            print("500-order store: second sync \(String(format: "%.1f", second.seconds)) s, \(secondLog.zohoCalls.count) Zoho calls, \(secondLog.zohoWrites.count) writes")
        }

        /// DESIGN.md §9: a new paid order of a known customer with known SKUs costs ≤ 3 Zoho calls
        /// (create the invoice, mark it sent, record the payment).
        @Test func aNewPaidOrderOfAKnownCustomerCostsAtMostThreeZohoCalls() throws {
            let world = try SandboxWorld(SandboxOptions(seed: 42, orders: 40))
            defer { world.close() }
            let sandbox = world.sandbox
            let initial = try world.run(["sync"], timeout: 300)
            try #require(initial.exitCode == 0 && !initial.signaled, "\(initial)")

            // A registered customer with exactly one synced USD, tax-exclusive, paid order; reuse its first SKU.
            let orders = try sandbox.bigCommerceOrders()
            let zoho = ZohoBooksSnapshot(state: try sandbox.state())
            let ordersPerCustomer = Dictionary(grouping: orders.filter { $0.customerID > 0 }, by: \.customerID)
            var chosen: (order: BCOrderSummary, line: [String: Any])?
            for order in orders where order.customerID > 0 && order.currency == "USD" && !order.inclusive
                && [2, 10, 11].contains(order.statusID) && ordersPerCustomer[order.customerID]?.count == 1 {
                guard let invoice = zoho.invoice(number: "BC-\(order.id)"),
                      let line = (invoice["line_items"] as? [[String: Any]])?.first(where: { !($0["sku"] as? String ?? "").isEmpty && ($0["item_id"] as? String ?? "") != "" })
                else { continue }
                chosen = (order, line)
                break
            }
            let (known, line) = try #require(chosen, "no registered customer with a single synced USD order in this store")
            let sku = line["sku"] as? String ?? ""
            try #require(zoho.items.contains { ($0["sku"] as? String) == sku }, "SKU \(sku) is known in Zoho")

            var billing = known.billing
            billing.removeValue(forKey: "form_fields")
            let created = try sandbox.object("POST", "/_sandbox/bc/orders", body: [
                "customer_id": known.customerID,
                "billing_address": billing,
                "lines": [["name": line["name"] as? String ?? sku, "sku": sku, "price": "\(line["rate"] ?? "10")", "quantity": 1]],
                "payment": "purchase",
                "status_id": 11,
            ] as [String: Any])
            let newID = try #require(intValue(created["id"]), "new order: \(created)")
            let transactions = created["_transactions"] as? [[String: Any]] ?? []
            #expect(transactions.contains { ($0["event"] as? String) == "purchase" && ($0["status"] as? String) == "ok" },
                    "the new order has a captured transaction: \(transactions)")
            // Past the sync lag (60 s), so the new order is inside the next window.
            try sandbox.advanceClock(seconds: 120)

            let seq = try sandbox.lastSeq()
            let run = try world.run(["sync"], timeout: 120)
            let log = try sandbox.requests(since: seq)
            #expect(run.exitCode == 0 && !run.signaled, "\(run)")
            let calls = log.zohoCalls
            print("new paid order \(newID) of customer \(known.customerID) (SKU \(sku)): \(calls.count) Zoho calls:\n" + calls.map { "  \($0)" }.joined(separator: "\n"))
            #expect(calls.count <= 3, "\(calls.count) Zoho calls for one new paid order:\n\(calls.map(\.description).joined(separator: "\n"))")

            let after = ZohoBooksSnapshot(state: try sandbox.state())
            let invoice = try #require(after.invoice(number: "BC-\(newID)"), "invoice BC-\(newID) was created")
            #expect(cents(invoice["total"]) == cents(created["total_inc_tax"]),
                    "invoice total \(invoice["total"] ?? "nil") ≠ order total \(created["total_inc_tax"] ?? "nil")")
            #expect((invoice["status"] as? String) == "paid", "the payment was applied: \(invoice["status"] ?? "nil")")
            #expect(after.contacts.count == zoho.contacts.count, "no new contact for a known customer")
            #expect(after.items.count == zoho.items.count, "no new item for a known SKU")
        }

        /// DESIGN.md §3: one writer at a time. While a `sync` is running (slowed by the sandbox), a second
        /// `sync` exits 75 in under a second, and `status` answers without "database is locked".
        @Test func anOverlappingSyncExits75AtOnceAndStatusStillAnswers() throws {
            let world = try SandboxWorld(SandboxOptions(seed: 3, orders: 40))
            defer { world.close() }
            let sandbox = world.sandbox
            // Slow Zoho replies: the first run holds the lock for several seconds.
            try sandbox.addFaults([["match": ["api": "zoho"], "action": "delay", "seconds": 1.5, "times": 4]])
            let first = try world.launch(["sync"])
            // Wait until it is talking to Zoho (so it surely holds the lock).
            let deadline = Date().addingTimeInterval(60)
            var seen = 0
            while Date() < deadline, first.isRunning {
                seen = try sandbox.faults().compactMap { intValue($0["seen"]) }.reduce(0, +)
                if seen > 0 { break }
                usleep(50_000)
            }
            try #require(seen > 0 && first.isRunning, "the first sync never reached Zoho: \(first.isRunning ? "still running" : "\(first.wait(timeout: 1))")")

            let second = try world.run(["sync"], timeout: 30)
            let status = try world.run(["status"], timeout: 30)
            let stillRunning = first.isRunning
            try sandbox.clearFaults()
            let firstResult = first.wait(timeout: 180)

            #expect(stillRunning, "the first sync was still running while the others ran")
            #expect(second.exitCode == 75 && !second.signaled, "\(second)")
            #expect(second.seconds < 1.0, "the second sync took \(String(format: "%.2f", second.seconds)) s to give up")
            #expect(second.failureLines.count == 1, "one line says what happened: \(second)")
            #expect(!status.output.contains("database is locked"), "\(status)")
            #expect([0, 1].contains(status.exitCode) && !status.signaled, "status answers during a run: \(status)")
            #expect(status.seconds < 5, "status took \(String(format: "%.2f", status.seconds)) s")
            #expect(firstResult.exitCode == 0 && !firstResult.signaled, "\(firstResult)")
            print("overlap: second sync exit \(second.exitCode) in \(String(format: "%.2f", second.seconds)) s; status exit \(status.exitCode) in \(String(format: "%.2f", status.seconds)) s; first sync \(String(format: "%.1f", firstResult.seconds)) s")
        }
    }
}
