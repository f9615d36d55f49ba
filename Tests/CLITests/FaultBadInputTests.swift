import Foundation
import Testing

// The bad-input catalogue (issue "fault suite", item 6), through the built binary: BigCommerce replies and
// records, webhook deliveries, config files and command lines. Every entry ends in one of two ways: a clear
// one-line error with its exit code (DESIGN.md §2), or the record quarantined and listed by `zbsync status`
// (text and `--json`). In both cases the rest of the run goes on and no cursor passes data nobody handled.
// Inputs covered elsewhere are cited in the catalogue table rather than repeated here.

extension SandboxEndToEnd.FaultSuites {
    @Suite struct FaultBadInputTests {
        static let ordersPath = "^/stores/[^/]+/v2/orders$"
        static let refundsPath = "^/stores/[^/]+/v3/orders/payment_actions/refunds$"
        static let customersPath = "^/stores/[^/]+/v3/customers$"

        // MARK: BigCommerce: unreadable replies

        /// A reply that cannot be read at all, on one list that moves a cursor.
        struct PageFault {
            var label: String
            var stream: String
            var rule: [String: Any]
            /// Text the failure line must contain (it names the request).
            var names: String
        }

        static var pageFaults: [PageFault] { [
            PageFault(label: "garbled orders page (not JSON)", stream: "orders",
                      rule: ["match": ["api": "bc", "method": "GET", "path_regex": ordersPath], "action": "garble", "times": 1],
                      names: "GET /v2/orders page 1"),
            PageFault(label: "truncated orders page (half the JSON)", stream: "orders",
                      rule: ["match": ["api": "bc", "method": "GET", "path_regex": ordersPath], "action": "truncate_after_apply", "times": 1],
                      names: "GET /v2/orders page 1"),
            PageFault(label: "HTTP 200 with an empty body on the orders list", stream: "orders",
                      rule: ["match": ["api": "bc", "method": "GET", "path_regex": ordersPath], "action": "status", "status": 200,
                             "body": "", "times": 1],
                      names: "HTTP 200 with an empty body"),
            PageFault(label: "huge body: 2 MB of nested arrays on the orders list", stream: "orders",
                      rule: ["match": ["api": "bc", "method": "GET", "path_regex": ordersPath], "action": "status", "status": 200,
                             "body": String(repeating: "[", count: 2_000_000), "times": 1],
                      names: "nesting deeper than 512 levels"),
            PageFault(label: "garbled refunds page (v3)", stream: "refunds",
                      rule: ["match": ["api": "bc", "method": "GET", "path_regex": refundsPath], "action": "garble", "times": 1],
                      names: "GET /v3/orders/payment_actions/refunds page 1"),
            PageFault(label: "truncated customers page (v3)", stream: "customers",
                      rule: ["match": ["api": "bc", "method": "GET", "path_regex": customersPath], "action": "truncate_after_apply", "times": 1],
                      names: "GET /v3/customers"),
        ] }

        /// Invariant: a BigCommerce list page that cannot be read at all — garbled, truncated, an HTTP 200 with an
        /// empty body, a 2 MB body nested past the parser's limit, on the orders (v2), refunds or customers (v3)
        /// list — makes `zbsync sync` exit 65 with one `zbsync:` line naming the request and saying that the cursor
        /// did not move. That stream's cursor stays exactly where it was, nothing is falsely quarantined, and the
        /// rest of the run goes on: the other streams' cursors advance and a new order is invoiced in the same run
        /// whenever the orders stream was not the one hit. The next run reads the page again, exits 0 and leaves
        /// every order invoiced once, totals equal to the cent. A garbled page during `zbsync backfill` leaves the
        /// backfill's cursor unwritten in the same way, and the next backfill completes.
        @Test func anUnreadablePageStopsOnlyItsOwnStreamAndMovesNoCursor() throws {
            let started = Date()
            let world = try SandboxWorld(SandboxOptions(seed: 31, orders: 12))
            defer { world.close() }
            let sandbox = world.sandbox
            var tally = FaultTally()
            var figures: [String] = []
            for (index, fault) in Self.pageFaults.enumerated() {
                let label = "case \(index + 1) (\(fault.label))"
                // Something new to read in every case, then past the lag so this run's window holds it.
                let order = try sandbox.createOrder(["lines": [["name": "Case \(index)", "sku": "PF-\(index)", "price": "12.50", "quantity": 2]],
                                                     "status_id": 11, "payment": "purchase"])
                let orderID = try #require(intValue(order["id"]), "\(label): the sandbox made no order: \(order)")
                try sandbox.advanceClock(seconds: 120)
                let before = try cursorMap(world)
                try sandbox.addFaults([fault.rule])

                let faulted = try world.run(["sync"], timeout: 60)
                let silent = try tally.collect(sandbox)
                try sandbox.clearFaults()
                let after = try cursorMap(world)
                let status = try world.statusJSON()
                let invoiced = ZohoBooksSnapshot(state: try sandbox.state()).invoice(number: "BC-\(orderID)") != nil

                #expect(silent.isEmpty, "\(label): the fault never fired, nothing was injected")
                #expect(faulted.exitCode == 65 && !faulted.signaled, "\(label): expected exit 65\n\(faulted)")
                #expect(faulted.failureLines.count == 1, "\(label): expected one failure line\n\(faulted)")
                let line = faulted.failureLines.first ?? ""
                #expect(line.contains(fault.names) && line.contains("cursor did not move") && line.contains(fault.stream),
                        "\(label): the failure line does not name the request and the cursor: \(line)")
                #expect(after[fault.stream] == before[fault.stream],
                        "\(label): the \(fault.stream) cursor moved past a page nobody read: \(before[fault.stream] ?? "none") → \(after[fault.stream] ?? "none")")
                for other in ["orders", "refunds", "customers"] where other != fault.stream {
                    #expect(after[other] != nil && after[other] != before[other],
                            "\(label): the rest of the run did not go on: the \(other) cursor stayed at \(after[other] ?? "none")")
                }
                #expect(invoiced == (fault.stream != "orders"),
                        "\(label): order \(orderID) \(invoiced ? "was" : "was not") invoiced in the faulted run")
                let attention = (status["attention"] as? [String: Any]).flatMap { intValue($0["open"]) } ?? -1
                #expect(attention == 0, "\(label): a page error quarantined something: \(status["attention"] ?? "?")")

                let clean = try world.run(["sync"], timeout: 60)
                let healed = try cursorMap(world)
                #expect(clean.exitCode == 0, "\(label): the next run did not recover\n\(clean)")
                #expect(healed[fault.stream] != nil && healed[fault.stream] != before[fault.stream],
                        "\(label): the next run did not move the \(fault.stream) cursor")
                #expect(ZohoBooksSnapshot(state: try sandbox.state()).invoice(number: "BC-\(orderID)") != nil,
                        "\(label): order \(orderID) was never invoiced")
                figures.append("\(fault.label): exit \(faulted.exitCode) in \(String(format: "%.2f", faulted.seconds)) s, then \(clean.exitCode)")
            }
            // The same for a backfill: its own cursor is not written, and the next backfill resumes.
            let since = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-60 * 86_400))
            let until = ISO8601DateFormatter().string(from: Date())
            try sandbox.addFaults([["match": ["api": "bc", "method": "GET", "path_regex": Self.ordersPath], "action": "garble", "times": 1]])
            let backfill = try world.run(["backfill", "--since", since, "--until", until], timeout: 60)
            let backfillSilent = try tally.collect(sandbox)
            try sandbox.clearFaults()
            let backfillCursor = try cursorMap(world).first { $0.key.hasPrefix("backfill:") }
            #expect(backfillSilent.isEmpty, "backfill: the fault never fired")
            #expect(backfill.exitCode == 65 && backfill.failureLines.count == 1
                        && backfill.failureLines[0].contains("stopped reading backfill:") && backfill.failureLines[0].contains("cursor did not move"),
                    "a garbled page during a backfill:\n\(backfill)")
            #expect(backfillCursor == nil, "the backfill cursor was written past an unread page: \(backfillCursor.map { "\($0)" } ?? "")")
            let resumed = try world.run(["backfill", "--since", since, "--until", until], timeout: 60)
            #expect(resumed.exitCode == 0, "the backfill after a garbled page:\n\(resumed)")
            figures.append("garbled page in a backfill: exit \(backfill.exitCode), then \(resumed.exitCode)")

            let report = try ConvergenceReport.check(sandbox)
            #expect(report.problems.isEmpty, "after all page faults:\n\(report)")
            #expect(tally.total == Self.pageFaults.count + 1, "expected one fault per case: \(tally)")
            tally.record(suite: "FaultBadInputTests")
            print("FAULT bad input, unreadable pages: injected \(tally.total) (\(tally)); \(figures.joined(separator: "; ")); \(report); \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        }

        // MARK: BigCommerce: bad and awkward records

        /// Invariant: records that cannot be read or mapped — a wrong type (object for a string, object for money,
        /// string for an id, string for an address object), a missing required field (`total_inc_tax`,
        /// `status_id`), a garbage date, a line quantity of zero or below — are quarantined and listed by
        /// `zbsync status` and `status --json` by their BigCommerce ids, with a reason naming the field; an unknown
        /// status id is held for attention. The run exits 65 with one line, and everything else in the same run is
        /// synced, totals to the cent: an order dated in ISO 8601 instead of RFC 2822 (with a refund, whose v3
        /// dates are ISO 8601), names and addresses longer than Zoho's limits (cut to 200 for contact and
        /// company names, 100 for item and line names, never split inside a character), Unicode and control
        /// characters (control characters become spaces, the rest is kept), a 500-line order and a 1 MB note.
        /// With `bigcommerce.page_size = 5` the first page holds only quarantined orders, and the scan goes on
        /// past it. A refund of a broken order is quarantined with the command that reads it again. Nothing
        /// passes silently: every order is invoiced, not a sale, or listed by `status`. Once the records are
        /// fixed in BigCommerce, the next run invoices each of them once and exits 0, and
        /// `zbsync replay --order N` credits the refund; then `status` is healthy and no document is duplicated.
        @Test func badRecordsAreQuarantinedTheRestIsSyncedAndFixedOnesAreReadAgain() throws {
            let started = Date()
            let world = try SandboxWorld(SandboxOptions(seed: 32, orders: 16), config: "[bigcommerce]\npage_size = 5\n")
            defer { world.close() }
            let sandbox = world.sandbox

            // Seeded orders 100–115. The first page (100–104) is bad throughout.
            let broken: [(id: Int, label: String, edit: [String: Any], field: String)] = [
                (100, "wrong type: an object where a string belongs", ["customer_message": ["unexpected": ["an", "object"]]], "customer_message: expected a string"),
                (101, "wrong type: an object where money belongs", ["raw": ["total_inc_tax": ["amount": 1]]], "total_inc_tax: expected a decimal amount"),
                (102, "missing required field total_inc_tax", ["raw_unset": ["total_inc_tax"]], "total_inc_tax: missing"),
                (103, "required field status_id is null", ["raw": ["status_id": NSNull()]], "status_id: missing"),
                (104, "garbage date", ["raw": ["date_created": "31/02/2026 25:61"]], "date_created: unreadable date"),
                (105, "wrong type: a string where an id belongs", ["raw": ["customer_id": "abc"]], "customer_id: expected an integer"),
                (106, "wrong type: a string where the billing address belongs", ["raw": ["billing_address": "1 Main St"]], "billing_address: expected an object"),
            ]
            for b in broken { try sandbox.createOrder(["id": b.id].merging(b.edit) { a, _ in a }) }
            try sandbox.createOrder(["id": 107, "status_id": 99])
            // A refund of a broken order, created days ago: read once by the refunds stream, never again by a poll.
            let orphanRefund = try sandbox.object("POST", "/_sandbox/bc/refunds", body: [
                "order_id": 101, "amount": "1.00", "created": Int(Date().timeIntervalSince1970) - 5 * 86_400, "bump": false,
            ])
            let orphanRefundID = try #require(intValue(orphanRefund["id"]), "\(orphanRefund)")

            func line(_ name: String, _ sku: String, price: String = "10.00", quantity: Int = 1) -> [String: Any] {
                ["name": name, "sku": sku, "price": price, "quantity": quantity]
            }
            func newOrder(_ body: [String: Any]) throws -> Int {
                var b = body
                b["status_id"] = b["status_id"] ?? 11
                b["payment"] = b["payment"] ?? "purchase"
                let o = try sandbox.createOrder(b)
                return try #require(intValue(o["id"]), "the sandbox made no order: \(o)")
            }
            let zeroQty = try newOrder(["lines": [line("Mug", "BQ-MUG"), line("Free sample", "BQ-ZERO", quantity: 0)]])
            let negativeQty = try newOrder(["lines": [line("Returned cap", "BQ-NEG", quantity: -2)]])

            // Good but awkward records.
            let isoDay = Date().addingTimeInterval(-5 * 86_400)
            let dayFormatter = DateFormatter()
            dayFormatter.locale = Locale(identifier: "en_US_POSIX")
            dayFormatter.timeZone = TimeZone(identifier: "UTC")
            dayFormatter.dateFormat = "yyyy-MM-dd"
            let isoDayText = dayFormatter.string(from: isoDay)
            let isoOrder = try newOrder(["lines": [line("Calendar", "BQ-ISO", price: "20.00")], "raw": ["date_created": "\(isoDayText)T12:00:00+00:00"]])
            _ = try sandbox.object("POST", "/_sandbox/bc/refunds", body: ["order_id": isoOrder, "amount": "5.00"])

            let longFirst = String(repeating: "Bartholomew-", count: 20)
            let longCompany = String(repeating: "Company ", count: 40)
            let longGuest = try newOrder([
                "lines": [line(String(repeating: "Extraordinarily ", count: 20), "BQ-LONG-" + String(repeating: "X", count: 40))],
                "customer_id": 0,
                "billing_address": ["first_name": longFirst, "last_name": String(repeating: "Q", count: 150), "company": longCompany,
                                    "email": "long.names@example.net", "street_1": String(repeating: "Street ", count: 100),
                                    "city": String(repeating: "C", count: 150)],
            ])
            let customer = try sandbox.object("POST", "/_sandbox/bc/customers", body: [
                "email": "very.long.customer@example.net", "first_name": String(repeating: "Maximiliana", count: 15),
                "last_name": String(repeating: "von-Habsburg", count: 15), "company": String(repeating: "Holdings ", count: 30),
            ])
            let customerID = try #require(intValue(customer["id"]), "\(customer)")
            let longRegistered = try newOrder(["lines": [line("Plain tee", "BQ-TEE")], "customer_id": customerID,
                                               "billing_address": ["first_name": customer["first_name"] ?? "", "last_name": customer["last_name"] ?? "",
                                                                   "company": customer["company"] ?? "", "email": "very.long.customer@example.net"]])
            let unicodeOrder = try newOrder([
                "lines": [line("Tee 🧾 Ñandú\u{1} naïve e\u{301}\tX", "BQ-UNI")],
                "customer_id": 0,
                "customer_message": "line one\nline two\u{0}\u{7} \u{202E}RTL",
                "billing_address": ["first_name": "Zoë\u{0}\u{7}", "last_name": "O'Brien\nSmith\t", "email": "uni@example.net",
                                    "street_1": "Rue de l'Église\r\n1", "city": "Zürich", "company": "株式会社\u{1B}[31mテスト"],
            ])
            let bigOrder = try newOrder(["lines": (0..<500).map { i in line("Part \(i)", "BQ-P\(i % 20)", price: "1.25", quantity: 1 + i % 3) }])
            let hugeNote = try newOrder(["lines": [line("Notebook", "BQ-NOTE")],
                                         "customer_message": String(repeating: "Please gift wrap.\u{7}\r\n", count: 52_000)])
            try sandbox.advanceClock(seconds: 120)

            // Run 1.
            let first = try world.run(["sync"], timeout: 90)
            let status = try jsonObject(try world.run(["status", "--json", "--limit", "100"], timeout: 30).stdout)
            let statusText = try world.run(["status", "--limit", "100"], timeout: 30)
            let items = ((status["attention"] as? [String: Any])?["items"] as? [[String: Any]]) ?? []
            var listed: [String: (kind: String, message: String)] = [:]
            for item in items { listed[item["entity"] as? String ?? "?"] = (item["kind"] as? String ?? "", item["message"] as? String ?? "") }
            let openCount = (status["attention"] as? [String: Any]).flatMap { intValue($0["open"]) } ?? -1
            let expectedQuarantine = broken.count + 3

            #expect(first.exitCode == 65 && !first.signaled, "run 1: expected exit 65 (records quarantined)\n\(first)")
            #expect(first.failureLines == ["zbsync: \(expectedQuarantine) records could not be read or mapped and are quarantined; see 'zbsync status'"],
                    "run 1: \(first.failureLines)")
            for b in broken {
                let entry = listed["order:\(b.id)"]
                #expect(entry?.kind == "quarantine" && entry?.message.contains(b.field) == true,
                        "\(b.label) (order \(b.id)): not quarantined with a reason naming the field: \(entry.map { "\($0)" } ?? "not listed")")
                #expect(statusText.stdout.contains("order:\(b.id)"), "\(b.label): `zbsync status` does not list order \(b.id)")
            }
            for (id, label) in [(zeroQty, "a line with quantity 0"), (negativeQty, "a line with quantity -2")] {
                let entry = listed["order:\(id)"]
                #expect(entry?.kind == "quarantine" && entry?.message.contains("quantity") == true,
                        "\(label) (order \(id)): \(entry.map { "\($0)" } ?? "not listed")")
            }
            let refundEntry = listed["refund:\(orphanRefundID)"]
            #expect(refundEntry?.kind == "quarantine" && refundEntry?.message.contains("its order 101 cannot be read") == true
                        && refundEntry?.message.contains("zbsync replay --order 101") == true,
                    "a refund of an unreadable order: \(refundEntry.map { "\($0)" } ?? "not listed")")
            #expect(listed["order:107"]?.kind == "attention" && listed["order:107"]?.message.contains("unknown status id 99") == true,
                    "unknown status id 99: \(listed["order:107"].map { "\($0)" } ?? "not listed")")
            #expect(openCount == expectedQuarantine + 1, "status --json attention.open \(openCount), expected \(expectedQuarantine + 1): \(listed.keys.sorted())")
            #expect(statusText.exitCode == 1 && statusText.failureLines.count == 1, "status must say it is not healthy:\n\(statusText)")

            // Nothing passed silently: every order is invoiced (total to the cent), not a sale, or listed.
            let zoho = ZohoBooksSnapshot(state: try sandbox.state())
            var silent: [String] = []
            for order in try sandbox.bigCommerceOrders() where !listed.keys.contains("order:\(order.id)") {
                guard order.isInvoiceable else { continue }
                guard let invoice = zoho.invoice(number: "BC-\(order.id)") else { silent.append("order \(order.id): no invoice and not listed"); continue }
                if cents(invoice["total"]) != order.totalCents { silent.append("order \(order.id): invoice total \(invoice["total"] ?? "?") ≠ \(order.totalCents) cents") }
            }
            #expect(silent.isEmpty, "run 1: orders neither synced nor listed by `status`:\n\(silent.joined(separator: "\n"))")
            #expect(zoho.duplicateInvoiceNumbers.isEmpty && zoho.duplicateItemSKUs.isEmpty && zoho.duplicateContacts.isEmpty,
                    "run 1 made duplicates: \(zoho.duplicateInvoiceNumbers) \(zoho.duplicateItemSKUs) \(zoho.duplicateContacts)")

            for (id, label) in [(isoOrder, "ISO 8601 order date"), (longGuest, "long names (guest)"), (longRegistered, "long names (registered customer)"),
                                (unicodeOrder, "Unicode and control characters"), (bigOrder, "500-line order"), (hugeNote, "1 MB note")] {
                let invoice = zoho.invoice(number: "BC-\(id)")
                #expect(invoice != nil, "\(label): order \(id) was not invoiced in the same run as the quarantined ones")
                if id == isoOrder { #expect(invoice?["date"] as? String == isoDayText, "\(label): invoice date \(invoice?["date"] ?? "?"), expected \(isoDayText)") }
                if id == bigOrder { #expect((invoice?["line_items"] as? [[String: Any]])?.count == 500, "\(label): \((invoice?["line_items"] as? [[String: Any]])?.count ?? 0) lines") }
            }
            #expect(zoho.creditNotes.count == 1, "the refund (ISO 8601 `created`) of the ISO-dated order has no credit note: \(zoho.creditNotes.count)")

            // Limits and characters, on everything that reached Zoho.
            func utf16(_ v: Any?) -> Int { (v as? String)?.utf16.count ?? 0 }
            func hasControl(_ v: Any?) -> Bool { (v as? String)?.unicodeScalars.contains { $0.properties.generalCategory == .control } ?? false }
            var overLimit: [String] = []
            var controls: [String] = []
            for c in zoho.contacts {
                let name = c["contact_name"] as? String ?? ""
                if utf16(c["contact_name"]) > 200 || utf16(c["company_name"]) > 200 || utf16(c["email"]) > 100 { overLimit.append("contact \(name.prefix(40))…") }
                let address = c["billing_address"] as? [String: Any] ?? [:]
                for v in [c["contact_name"], c["company_name"], c["first_name"], c["last_name"]] + Array(address.values) where hasControl(v) {
                    controls.append("contact \(name.prefix(30)): \(String(describing: v).debugDescription.prefix(60))")
                }
            }
            for i in zoho.items {
                if utf16(i["name"]) > 100 { overLimit.append("item \(i["sku"] ?? "?")") }
                if hasControl(i["name"]) || hasControl(i["description"]) { controls.append("item \(i["sku"] ?? "?")") }
            }
            for inv in zoho.invoices {
                for l in inv["line_items"] as? [[String: Any]] ?? [] {
                    if utf16(l["name"]) > 100 { overLimit.append("line of \(inv["invoice_number"] ?? "?")") }
                    if hasControl(l["name"]) || hasControl(l["description"]) { controls.append("line of \(inv["invoice_number"] ?? "?")") }
                }
            }
            #expect(overLimit.isEmpty, "names over Zoho's limits: \(overLimit)")
            #expect(controls.isEmpty, "control characters reached Zoho: \(controls)")
            let names = zoho.contacts.compactMap { $0["contact_name"] as? String }
            let cleanedFirst = longFirst.trimmingCharacters(in: .whitespaces)
            #expect(names.contains { $0.utf16.count >= 190 && $0.hasPrefix(String(cleanedFirst.prefix(100))) },
                    "the long guest name was not cut to the limit: \(names.map { "\($0.prefix(30))… (\($0.utf16.count))" })")
            #expect(names.contains { $0.hasPrefix("MaximilianaMaximiliana") && $0.utf16.count <= 200 },
                    "the registered customer's long name is missing: \(names.map { $0.prefix(30) })")
            #expect(names.contains("Zoë O'Brien Smith"), "control characters in a name are not spaces: \(names.filter { $0.hasPrefix("Zo") })")
            let unicodeContact = zoho.contacts.first { ($0["contact_name"] as? String) == "Zoë O'Brien Smith" }
            #expect((unicodeContact?["company_name"] as? String) == "株式会社 [31mテスト", "company: \(unicodeContact?["company_name"] ?? "?")")
            let uniItem = zoho.items.first { ($0["sku"] as? String) == "BQ-UNI" }
            #expect((uniItem?["name"] as? String) == "Tee 🧾 Ñandú naïve e\u{301} X (BQ-UNI)", "item name: \((uniItem?["name"] as? String).debugDescription)")
            let longItem = zoho.items.first { ($0["sku"] as? String)?.hasPrefix("BQ-LONG-") == true }
            #expect((longItem?["name"] as? String)?.hasSuffix("(BQ-LONG-" + String(repeating: "X", count: 40) + ")") == true,
                    "a long item name keeps its SKU: \((longItem?["name"] as? String).debugDescription)")
            let cursorsAfterFirst = try cursorMap(world)
            #expect(cursorsAfterFirst["orders"] != nil, "run 1 committed no orders cursor")

            // Fix every broken record in BigCommerce; the next run reads them again.
            for b in broken { try sandbox.createOrder(["id": b.id, "raw": [String: Any](), "raw_unset": [String](), "customer_message": ""]) }
            try sandbox.createOrder(["id": 107, "status_id": 11])
            for id in [zeroQty, negativeQty] { try sandbox.createOrder(["id": id, "lines": [line("Mug", "BQ-MUG")]]) }
            try sandbox.advanceClock(seconds: 120)
            let second = try world.run(["sync"], timeout: 90)
            // The refund is not polled again (it was created days ago); the line `status` shows names the command.
            let stillListed = try world.run(["status", "--limit", "100"], timeout: 30)
            #expect(stillListed.exitCode == 1 && stillListed.stdout.contains("refund:\(orphanRefundID)"),
                    "after run 2 the refund of the once-broken order must still be listed:\n\(stillListed)")
            let replay = try world.run(["replay", "--order", "101"], timeout: 60)
            #expect(replay.exitCode == 0, "replay --order 101:\n\(replay)")
            let healthy = try world.run(["status"], timeout: 30)
            let final = try ConvergenceReport.check(sandbox)
            #expect(second.exitCode == 0, "run 2 after the fixes:\n\(second)")
            #expect(healthy.exitCode == 0 && healthy.stdout.contains("Needs attention: 0"), "status after the fixes:\n\(healthy)")
            #expect(final.problems.isEmpty, "run 2:\n\(final)")
            var tally = FaultTally()
            tally.add("bad BigCommerce record quarantined (wrong type, missing field, garbage date, quantity ≤ 0, unreadable order)", expectedQuarantine)
            tally.add("unknown order status held for attention")
            tally.record(suite: "FaultBadInputTests")
            print("FAULT bad input, records: \(expectedQuarantine) quarantined + 1 held for attention in run 1 (exit \(first.exitCode), \(String(format: "%.1f", first.seconds)) s), every other order synced; after the fixes exit \(second.exitCode); \(final); \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        }

        // MARK: Webhook deliveries

        /// Invariant: `zbsync webhook`, run as a CGI program, answers every bad delivery without storing it —
        /// forged signature, a timestamp 10 minutes old or ahead (a replayed capture), an unsigned body → 401 (and
        /// one audit row each); malformed JSON, an empty body, a body shorter than CONTENT_LENGTH, a
        /// non-positive or non-numeric entity id → 400; a 2 MB body → 413 — and stores a duplicate delivery (same
        /// `webhook-id`) once. A verified delivery for an order BigCommerce serves broken is stored, then
        /// quarantined by the next sync (exit 65, listed by `status`) while the other deliveries' orders are
        /// invoiced exactly once and the inbox drains: a bad order never blocks the inbox. A later sync exits 0.
        @Test func badWebhookDeliveriesAreRefusedAndABadOrderNeverBlocksTheInbox() throws {
            let started = Date()
            let world = try SandboxWorld(SandboxOptions(seed: 33, orders: 10))
            defer { world.close() }
            let sandbox = world.sandbox
            let secret = "sbx-app-client-secret-bad-input"
            let auth = try world.run(["auth", "bigcommerce", "--store-hash", SandboxSecrets.storeHash],
                                     environment: ["ZBSYNC_BIGCOMMERCE_TOKEN": SandboxSecrets.bigCommerceToken,
                                                   "ZBSYNC_BIGCOMMERCE_CLIENT_SECRET": secret])
            try #require(auth.exitCode == 0, "\(auth)")
            // The orders the deliveries name were last modified before `sync.start`, so only the inbox reads them.
            let longAgo = Int(Date().timeIntervalSince1970) - 40 * 86_400
            let good = try intValue(sandbox.createOrder(["lines": [["name": "Hooked", "sku": "WH-1", "price": "15.00", "quantity": 1]],
                                                         "status_id": 11, "payment": "purchase", "date_modified": longAgo])["id"]).orThrow("good order")
            let bad = try intValue(sandbox.createOrder(["lines": [["name": "Broken", "sku": "WH-2", "price": "15.00", "quantity": 1]],
                                                        "status_id": 11, "raw": ["total_inc_tax": ["not": "money"]],
                                                        "date_modified": longAgo])["id"]).orThrow("bad order")

            func deliver(_ id: String, _ body: Data, time: Date = Date(), key: String? = nil, headers extra: [String: String] = [:],
                         contentLength: Int? = nil) throws -> CGIReply {
                var headers = try WebhookSender.signedHeaders(secret: key ?? secret, id: id, body: body, time: time)
                headers.merge(extra) { _, new in new }
                return try runWebhookCGI(home: world.home, scratch: world.scratch, body: body, headers: headers, contentLength: contentLength)
            }
            func waiting() throws -> Int { intValue((try world.statusJSON()["inbox"] as? [String: Any])?["waiting"]) ?? -1 }

            let goodBody = WebhookSender.payload(id: good)
            let cases: [(label: String, reply: () throws -> CGIReply, status: Int, stored: Int)] = [
                ("a verified delivery", { try deliver("msg_good", goodBody) }, 200, 1),
                ("the same delivery again (duplicate webhook-id)", { try deliver("msg_good", goodBody) }, 200, 1),
                ("a forged signature", { try deliver("msg_forged", goodBody, key: "guessed-secret") }, 401, 1),
                ("a replayed capture: timestamp 10 minutes old", { try deliver("msg_replay", goodBody, time: Date().addingTimeInterval(-600)) }, 401, 1),
                ("a timestamp 10 minutes ahead", { try deliver("msg_ahead", goodBody, time: Date().addingTimeInterval(600)) }, 401, 1),
                ("no signature at all", { try runWebhookCGI(home: world.home, scratch: world.scratch, body: goodBody, headers: [:]) }, 401, 1),
                ("malformed JSON", { try deliver("msg_garbage", Data("{\"scope\": \"store/order/created\", \"data\": {".utf8)) }, 400, 1),
                ("an empty body", { try deliver("msg_empty", Data()) }, 400, 1),
                ("a body shorter than CONTENT_LENGTH", { try deliver("msg_short", goodBody, contentLength: goodBody.count + 50) }, 400, 1),
                ("a negative entity id", { try deliver("msg_negative", WebhookSender.payload(id: -5)) }, 400, 1),
                ("an entity id that is not a number", { try deliver("msg_text_id", Data(#"{"scope":"store/order/created","data":{"type":"order","id":"abc"}}"#.utf8)) }, 400, 1),
                ("a 2 MB body", { try deliver("msg_huge", WebhookSender.payload(id: good, extra: #","padding":"\#(String(repeating: "x", count: 2_000_000))""#)) }, 413, 1),
                ("a verified delivery for an order BigCommerce serves broken", { try deliver("msg_bad_order", WebhookSender.payload(scope: "store/order/updated", id: bad)) }, 200, 2),
                ("a verified delivery for an order that does not exist", { try deliver("msg_missing", WebhookSender.payload(id: 9_999_999)) }, 200, 3),
            ]
            var refused = 0
            for c in cases {
                let reply = try c.reply()
                #expect(reply.status == c.status && reply.exitCode == 0, "\(c.label): expected \(c.status)\n\(reply)")
                let stored = try waiting()
                #expect(stored == c.stored, "\(c.label): the inbox holds \(stored) deliveries, expected \(c.stored)")
                if c.status == 401 { refused += 1 }
                #expect(!reply.stderr.contains(secret) && !reply.stdout.contains(secret), "\(c.label): the client secret was printed")
            }
            let audit = try world.run(["audit", "--failed", "--json"], timeout: 30)
            let auditRows = audit.stdout.components(separatedBy: "webhook.receive").count - 1
            #expect(auditRows == refused, "one audit row per refused delivery: \(auditRows) of \(refused)\n\(audit.stdout.prefix(2000))")

            let first = try world.run(["sync"], timeout: 60)
            let status = try world.statusJSON()
            let listed = (((status["attention"] as? [String: Any])?["items"] as? [[String: Any]]) ?? []).compactMap { $0["entity"] as? String }
            let zoho = ZohoBooksSnapshot(state: try sandbox.state())
            #expect(first.exitCode == 65, "sync with a broken order in the inbox:\n\(first)")
            #expect(first.failureLines.count == 1 && first.failureLines[0].contains("quarantined"), "\(first.failureLines)")
            #expect(listed.contains("order:\(bad)"), "the broken order is not listed by status: \(listed)")
            #expect(try waiting() == 0, "the inbox did not drain: a bad order blocks it")
            #expect(zoho.invoices.filter { ($0["invoice_number"] as? String) == "BC-\(good)" }.count == 1, "the delivered order is not invoiced exactly once")
            #expect(zoho.invoice(number: "BC-\(bad)") == nil, "the broken order was invoiced")

            // A new delivery after that is drained as usual, and the run is clean.
            let later = try intValue(sandbox.createOrder(["lines": [["name": "Later", "sku": "WH-3", "price": "9.00", "quantity": 3]],
                                                          "status_id": 11, "payment": "purchase", "date_modified": longAgo])["id"]).orThrow("later order")
            #expect(try deliver("msg_later", WebhookSender.payload(id: later)).status == 200)
            let second = try world.run(["sync"], timeout: 60)
            #expect(second.exitCode == 0, "the sync after a quarantined delivery:\n\(second)")
            #expect(try waiting() == 0)
            #expect(ZohoBooksSnapshot(state: try sandbox.state()).invoice(number: "BC-\(later)") != nil, "a later delivery was not synced")
            // (The convergence check reads totals as numbers: the broken one is restored, unread, first.)
            try sandbox.createOrder(["id": bad, "raw": [String: Any](), "date_modified": longAgo])
            let report = try ConvergenceReport.check(sandbox)
            let unexpected = report.problems.filter { !$0.hasPrefix("order \(bad) ") }
            #expect(unexpected.isEmpty, "\(report)")
            var tally = FaultTally()
            tally.add("bad or replayed webhook delivery", cases.count)
            tally.record(suite: "FaultBadInputTests")
            print("FAULT bad input, webhooks: \(cases.count) deliveries (\(refused) refused 401, \(cases.filter { $0.status == 400 }.count) refused 400, 1 refused 413, 1 duplicate), broken order quarantined, inbox drained; sync exits \(first.exitCode) then \(second.exitCode); \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        }

        // MARK: Config files and the master key

        /// Invariant: every broken config file or master key makes `zbsync sync` exit 78 with exactly one
        /// `zbsync:` line that names the file (and the line, when there is one) and what to do, with any control
        /// character of the offending text escaped; nothing runs (no `runs` row, no cursor). A config file with
        /// Windows line endings is read as it is.
        @Test func brokenConfigFilesAndKeysAreOneLineErrorsAndNothingRuns() throws {
            let scratch = try Scratch()
            try scratch.initialize()
            let original = try String(contentsOf: scratch.configURL, encoding: .utf8)
            let key = try Data(contentsOf: scratch.keyURL)
            let lines = original.split(separator: "\n", omittingEmptySubsequences: false).count - (original.hasSuffix("\n") ? 1 : 0)
            let fm = FileManager.default
            let conf = scratch.configURL.path

            struct Case {
                var label: String
                var setUp: () throws -> Void
                var expect: [String]
                var environment: [String: String] = [:]
            }
            func append(_ text: String) -> () throws -> Void {
                { try (original + text).write(to: scratch.configURL, atomically: true, encoding: .utf8) }
            }
            var cases: [Case] = [
                Case(label: "unknown section", setUp: append("[nosuch]\nkey = 1\n"), expect: ["\(conf) line \(lines + 1): unknown section [nosuch]"]),
                Case(label: "section header without ']'", setUp: append("[zoho\n"), expect: ["line \(lines + 1): section header without ']'"]),
                Case(label: "key outside any section", setUp: { try ("orphan = 1\n" + original).write(to: scratch.configURL, atomically: true, encoding: .utf8) },
                     expect: ["line 1: key 'orphan' is outside any [section]"]),
                Case(label: "key set twice", setUp: append("[sync]\nlookback = 10m\nlookback = 20m\n"), expect: ["line \(lines + 3): sync.lookback is already set on line \(lines + 2)"]),
                Case(label: "unknown key in a known section", setUp: append("[zoho]\nregoin = eu\n"), expect: ["line \(lines + 2): unknown key 'regoin' in [zoho] (did you mean 'region'?)"]),
                Case(label: "bad value: negative seconds", setUp: append("[sync]\nlookback = -5\n"), expect: ["line \(lines + 2): sync.lookback", "got '-5'"]),
                Case(label: "bad value: not an http(s) URL", setUp: append("[bigcommerce]\napi_url = ftp://example.com\n"), expect: ["bigcommerce.api_url: expected an http(s) URL"]),
                Case(label: "bad value: out of range", setUp: append("[bigcommerce]\npage_size = 1000\n"), expect: ["bigcommerce.page_size: expected a whole number from 1 to 250"]),
                Case(label: "bad value: a boolean", setUp: append("[zoho]\nallow_custom_api_domain = maybe\n"), expect: ["zoho.allow_custom_api_domain: expected true or false"]),
                Case(label: "control characters in a value", setUp: append("[sync]\nlookback = 10m\u{7}\u{1B}[31mRED\n"),
                     expect: ["sync.lookback", "got '10m\\u{7}\\u{1B}[31mRED'"]),
                Case(label: "not UTF-8", setUp: { try (Data(original.utf8) + Data([0xFF, 0xFE, 0x0A])).write(to: scratch.configURL) },
                     expect: ["cannot read \(conf): not UTF-8 text"]),
                Case(label: "missing config file", setUp: { try fm.removeItem(at: scratch.configURL) }, expect: ["no config file at \(conf); run 'zbsync init'"]),
                Case(label: "a directory where the config file belongs", setUp: {
                    try fm.removeItem(at: scratch.configURL)
                    try fm.createDirectory(at: scratch.configURL, withIntermediateDirectories: false)
                }, expect: ["cannot read \(conf): it is a directory, not a file"]),
                Case(label: "master.key readable by others (0644)", setUp: { try fm.setAttributes([.posixPermissions: 0o644], ofItemAtPath: scratch.keyURL.path) },
                     expect: ["master key file \(scratch.keyURL.path) has mode 644", "chmod 600"]),
                Case(label: "master.key read-only (0400)", setUp: { try fm.setAttributes([.posixPermissions: 0o400], ofItemAtPath: scratch.keyURL.path) },
                     expect: ["has mode 400", "chmod 600"]),
                Case(label: "master.key not 32 bytes of base64", setUp: { try Data("garbage\n".utf8).write(to: scratch.keyURL) },
                     expect: ["master key file \(scratch.keyURL.path) does not hold base64 of exactly 32 bytes"]),
                Case(label: "master.key missing", setUp: { try fm.removeItem(at: scratch.keyURL) }, expect: ["no master key at \(scratch.keyURL.path)"]),
                Case(label: "ZBSYNC_KEY not base64", setUp: {}, expect: ["ZBSYNC_KEY must be base64 of exactly 32 bytes"], environment: ["ZBSYNC_KEY": "not base64!"]),
            ]
            if getuid() != 0 {
                cases.append(Case(label: "config file not readable (0000)", setUp: { try fm.setAttributes([.posixPermissions: 0], ofItemAtPath: conf) },
                                  expect: ["cannot read \(conf): permission denied"]))
            }
            func restore() throws {
                var isDirectory: ObjCBool = false
                if fm.fileExists(atPath: conf, isDirectory: &isDirectory) { try fm.removeItem(atPath: conf) }
                try original.write(to: scratch.configURL, atomically: true, encoding: .utf8)
                if fm.fileExists(atPath: scratch.keyURL.path) { try fm.removeItem(at: scratch.keyURL) }
                try key.write(to: scratch.keyURL)
                try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: scratch.keyURL.path)
            }
            func runsAndCursors() throws -> String {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
                p.arguments = [scratch.home.appendingPathComponent("state.db").path, "SELECT (SELECT count(*) FROM runs) || '/' || (SELECT count(*) FROM cursors)"]
                let pipe = Pipe()
                p.standardOutput = pipe
                try p.run()
                let out = pipe.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }

            for c in cases {
                try c.setUp()
                defer { try? restore() }
                let result = try scratch.run(["sync"], environment: c.environment)
                #expect(result.exitCode == 78, "\(c.label): expected exit 78\n\(result)")
                #expect(result.failureLines.count == 1 && result.stdout.isEmpty, "\(c.label): expected exactly one failure line\n\(result)")
                for text in c.expect {
                    #expect(result.stderr.contains(text), "\(c.label): the line does not say \(text.debugDescription)\n\(result.stderr)")
                }
                let rawControl = result.stderr.unicodeScalars.contains { $0.properties.generalCategory == .control && $0 != "\n" }
                #expect(!rawControl, "\(c.label): a raw control character reached the terminal: \(result.stderr.debugDescription)")
            }
            if getuid() == 0 { print("FAULT bad input, config: the unreadable-file case (mode 0000) is skipped when running as root") }
            #expect(try runsAndCursors() == "0/0", "a broken config still ran something")

            // Windows line endings are fine; the only complaint is the missing store, proving the file was read.
            try original.replacingOccurrences(of: "\n", with: "\r\n").write(to: scratch.configURL, atomically: true, encoding: .utf8)
            let crlf = try scratch.run(["sync"])
            #expect(crlf.exitCode == 78 && crlf.failureLines == ["zbsync: no BigCommerce store connected; run 'zbsync auth bigcommerce --store-hash HASH'"],
                    "a CRLF config file: \(crlf)")
            var tally = FaultTally()
            tally.add("broken config file or master key", cases.count)
            tally.record(suite: "FaultBadInputTests")
            print("FAULT bad input, config: \(cases.count) broken files or keys, each exit 78 with one line; CRLF file read")
        }

        // MARK: Command-line arguments

        /// Invariant: a wrong command line exits 64 before anything is opened: stdout stays empty and stderr holds
        /// exactly `Error: <what is wrong>` and `Try: zbsync <command> --help`, with control characters of the
        /// argument escaped. (Unknown options, typos, a missing value, flags with values, `--retry --all --op`
        /// and `-v -q` are in `HelpAndUsageTests`.)
        @Test(arguments: [
            (["status", "--limit", "abc"], "--limit needs a whole number, got 'abc'"),
            (["status", "--limit", "0"], "--limit must be at least 1"),
            (["status", "--limit"], "--limit needs a value"),
            (["status", "--limit", "3\n4\u{1B}[2J"], "--limit needs a whole number, got '3\\n4\\u{1B}[2J'"),
            (["replay", "--order", "abc"], "--order needs a whole number, got 'abc'"),
            (["replay", "--order", "-5"], "--order needs a BigCommerce order id (a positive number)"),
            (["retry", "--op", "x"], "--op needs an operation id (a positive number), got 'x'"),
            (["audit", "--order", "1.5"], "--order needs a whole number, got '1.5'"),
            (["audit", "--since", "nope"], "--since needs a date (YYYY-MM-DD) or an ISO 8601 time, got 'nope'"),
            (["backfill", "--since", "yesterday"], "--since needs a date (YYYY-MM-DD) or an ISO 8601 time, got 'yesterday'"),
            (["backfill", "--since", "2024-02-30"], "got '2024-02-30'"),
            (["backfill", "--since", "2024-01-01T00:00:00"], "got '2024-01-01T00:00:00'"),
            (["backfill", "--since", "2024-01-01", "--until", "2024-13-01"], "--until needs a date"),
            (["backfill", "--until", "2024-04-01"], "missing --since <date>"),
            (["backfill", "--since", "2024-05-01", "--until", "2024-04-01"], "--until must be after --since"),
            (["sync", "extra"], "unexpected argument 'extra'"),
            (["--log-format", "xml", "status"], "--log-format must be one of text, json; got 'xml'"),
            (["auth", "zoho", "--region", "mars", "--client-id", "x"], "--region must be one of us, eu, in, au, jp, ca, cn, sa, uk; got 'mars'"),
            (["auth", "bigcommerce"], "missing --store-hash"),
        ])
        func wrongCommandLinesAreUsageErrors(_ arguments: [String], _ message: String) throws {
            let scratch = try Scratch()
            let result = try scratch.run(arguments)
            let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(result.exitCode == 64, "\(arguments): expected exit 64\n\(result)")
            #expect(result.stdout.isEmpty, "\(arguments): stdout must stay empty\n\(result)")
            #expect(lines.count == 3 && lines[0].hasPrefix("Error: ") && lines[1].hasPrefix("Try: zbsync ") && lines[1].hasSuffix(" --help") && lines[2].isEmpty,
                    "\(arguments): expected `Error:` and `Try:` lines\n\(result.stderr.debugDescription)")
            #expect(lines.first?.contains(message) == true, "\(arguments): the error does not say \(message.debugDescription): \(lines.first ?? "")")
            #expect(!FileManager.default.fileExists(atPath: scratch.home.path), "\(arguments): a usage error created the home folder")
            var tally = FaultTally()
            tally.add("wrong command line")
            tally.record(suite: "FaultBadInputTests")
        }

        // MARK: Helpers

        /// `stream → "timestamp#id"` from `status --json`.
        func cursorMap(_ world: SandboxWorld) throws -> [String: String] {
            let list = try world.statusJSON()["cursors"] as? [[String: Any]] ?? []
            var map: [String: String] = [:]
            for c in list { map["\(c["stream"] ?? "?")"] = "\(c["timestamp"] ?? "?")#\(c["id"] ?? "?")" }
            return map
        }
    }
}

fileprivate extension Optional {
    /// The value, or an error naming what was missing.
    func orThrow(_ what: String) throws -> Wrapped {
        guard let value = self else { throw SandboxHarnessError.sandbox("no \(what)") }
        return value
    }
}
