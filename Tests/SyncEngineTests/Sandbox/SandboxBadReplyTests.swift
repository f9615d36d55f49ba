import Foundation
import Testing
@testable import SyncEngine
import Stores

/// What the clients do with replies that are broken, wrong or missing, injected by the sandbox's fault rules.
/// Backoff waits go through a ``TestClock`` so retries cost no wall time; the request log counts the attempts.
@Suite(.timeLimit(.minutes(2)))
struct SandboxBadReplyTests {
    static let ordersPath = "^/stores/[^/]+/v2/orders$"

    static func plainOrder(_ sandbox: SandboxProcess, sku: String) async throws -> Int64 {
        let order = try await sandbox.createOrder(["lines": [["name": .string(sku), "sku": .string(sku), "price": "10.00", "quantity": 1]],
                                                   "status_id": 11])
        return try #require(order["id"]?.int64)
    }

    static func window(_ ids: [Int64]) -> OrderQuery {
        var q = OrderQuery()
        q.minID = ids.min()
        q.maxID = ids.max()
        q.sort = "id:asc"
        return q
    }

    // MARK: BigCommerce

    @Test(arguments: ["truncate_after_apply", "garble"])
    func anUnreadableOrdersPageIsMalformed(_ action: String) async throws {
        let sandbox = try await SandboxProcess.start()
        defer { sandbox.stop() }
        let client = sandbox.bigCommerceClient(clock: TestClock())
        let ids = [try await Self.plainOrder(sandbox, sku: "M-1"), try await Self.plainOrder(sandbox, sku: "M-2")]
        try await sandbox.addFault(["match": ["api": "bc", "method": "GET", "path_regex": .string(Self.ordersPath)],
                                    "action": .string(action), "times": 1])
        let since = try await sandbox.lastSequence()
        await expectSandboxError("for a \(action) orders page", { _ = try await client.orders(Self.window(ids)) }) {
            if case .malformed(.bigcommerce, _) = $0 { return true }
            return false
        }
        let attempts = try await sandbox.requests(since: since, api: "bc")
        print("BigCommerce \(action) orders page: \(attempts.count) request(s): \(attempts.map(\.description))")
        #expect(attempts.count == 1, "\(attempts)")
        // The store itself is fine: the next read decodes both orders.
        #expect(try await client.orders(Self.window(ids)).records.map(\.id) == ids)
    }

    @Test func aRecordOfTheWrongTypeIsRejectedAndTheOthersDecode() async throws {
        let sandbox = try await SandboxProcess.start()
        defer { sandbox.stop() }
        let client = sandbox.bigCommerceClient(clock: TestClock())
        var ids: [Int64] = []
        for i in 0..<3 { ids.append(try await Self.plainOrder(sandbox, sku: "W-\(i)")) }
        // An object where the API sends a string.
        try await sandbox.editOrder(ids[1], JSONObject([("customer_message", ["unexpected": ["an", "object"]])]))
        let page = try await client.orders(Self.window(ids))
        print("BigCommerce wrong-type record: records \(page.records.map(\.id)), rejected \(page.rejected)")
        #expect(page.records.map(\.id) == [ids[0], ids[2]])
        #expect(page.rejected.map(\.entityKey) == ["order:\(ids[1])"])
        #expect(page.rejected.first?.reason.contains("customer_message") == true, "the reason names the field: \(page.rejected)")
        #expect(page.isLastPage)
    }

    @Test func aServerErrorStormOnABigCommerceReadIsRetriedABoundedNumberOfTimes() async throws {
        let sandbox = try await SandboxProcess.start()
        defer { sandbox.stop() }
        let clock = TestClock()
        let maxRetries = 4
        let client = sandbox.bigCommerceClient(clock: clock, maxRetries: maxRetries)
        let ids = [try await Self.plainOrder(sandbox, sku: "S-1")]
        try await sandbox.addFault(["match": ["api": "bc", "method": "GET", "path_regex": .string(Self.ordersPath)],
                                    "action": "status", "status": 503, "times": 50])
        let since = try await sandbox.lastSequence()
        var message = ""
        await expectSandboxError("for a 503 storm", { _ = try await client.orders(Self.window(ids)) }) {
            message = "\($0)"
            if case .unavailable(.bigcommerce, _) = $0 { return true }
            return false
        }
        let attempts = try await sandbox.requests(since: since, api: "bc")
        let figures = "\(attempts.count) attempts (maxRetries \(maxRetries)), \(String(format: "%.1f", clock.totalSlept)) s of backoff; error: \(message)"
        print("BigCommerce 503 storm: \(figures)")
        #expect(attempts.count <= maxRetries + 1 && attempts.count >= 2, "\(figures)")
        #expect(attempts.allSatisfy { $0.status == 503 }, "\(figures)")
        #expect(message.contains("HTTP 503") && message.contains("/v2/orders"), "a clear message: \(figures)")
        #expect(!message.contains(SandboxProcess.bcToken))
    }

    // MARK: Zoho

    static func zoho(_ sandbox: SandboxProcess, _ home: SandboxHome, clock: TestClock) throws -> SandboxZoho {
        try SandboxZoho.make(sandbox, home: home, clock: clock, requestsPerMinute: 6000)
    }

    @Test func aServerErrorStormOnAZohoReadIsRetriedABoundedNumberOfTimes() async throws {
        let sandbox = try await SandboxProcess.start(["--zoho-rpm", "6000"])
        defer { sandbox.stop() }
        let home = try SandboxHome()
        defer { home.remove() }
        let clock = TestClock()
        let zoho = try Self.zoho(sandbox, home, clock: clock)
        _ = try await zoho.client.organization()
        try await sandbox.addFault(["match": ["api": "zoho", "method": "GET", "path_regex": "^/books/v3/items$"],
                                    "action": "status", "status": 503, "times": 50])
        let since = try await sandbox.lastSequence()
        var message = ""
        await expectSandboxError("for a 503 storm", { _ = try await zoho.client.items(sku: "STORM") }) {
            message = "\($0)"
            if case .unavailable(.zoho, _) = $0 { return true }
            return false
        }
        let attempts = try await sandbox.requests(since: since, api: "zoho")
        let maxRetries = ZohoClientConfiguration().maxReadRetries
        let figures = "\(attempts.count) attempts (maxReadRetries \(maxRetries)), \(String(format: "%.1f", clock.totalSlept)) s of backoff; error: \(message)"
        print("Zoho 503 storm: \(figures)")
        #expect(attempts.count <= maxRetries + 1 && attempts.count >= 2, "\(figures)")
        #expect(attempts.allSatisfy { $0.status == 503 && $0.path == "/books/v3/items" }, "\(figures)")
        #expect(message.contains("HTTP 503") && message.contains("/books/v3/items"), "a clear message: \(figures)")
    }

    @Test func anUnreadableZohoReadIsRetriedThenMalformed() async throws {
        let sandbox = try await SandboxProcess.start(["--zoho-rpm", "6000"])
        defer { sandbox.stop() }
        let home = try SandboxHome()
        defer { home.remove() }
        let clock = TestClock()
        let zoho = try Self.zoho(sandbox, home, clock: clock)
        _ = try await zoho.client.organization()

        // Once: the retry reads it.
        try await sandbox.addFault(["match": ["api": "zoho", "method": "GET", "path_regex": "^/books/v3/items$"],
                                    "action": "truncate_after_apply", "times": 1])
        var since = try await sandbox.lastSequence()
        #expect(try await zoho.client.items(sku: "ONCE").isEmpty)
        let once = try await sandbox.requests(since: since, api: "zoho")
        #expect(once.count == 2 && once.first?.fault == "truncate_after_apply", "\(once)")

        // Every time: bounded, then malformed.
        try await sandbox.addFault(["match": ["api": "zoho", "method": "GET", "path_regex": "^/books/v3/items$"],
                                    "action": "garble", "times": 50])
        since = try await sandbox.lastSequence()
        await expectSandboxError("for garbled replies", { _ = try await zoho.client.items(sku: "ALWAYS") }) {
            if case .malformed(.zoho, _) = $0 { return true }
            return false
        }
        let attempts = try await sandbox.requests(since: since, api: "zoho")
        let maxRetries = ZohoClientConfiguration().maxReadRetries
        print("Zoho garbled read: truncated once → \(once.count) requests; garbled always → \(attempts.count) requests (maxReadRetries \(maxRetries))")
        #expect(attempts.count <= maxRetries + 1 && attempts.count >= 2, "\(attempts)")
    }

    @Test func aGatewayErrorAfterAnInvoiceWasCreatedIsAnUnknownOutcomeSentOnce() async throws {
        let sandbox = try await SandboxProcess.start(["--zoho-rpm", "6000"])
        defer { sandbox.stop() }
        let home = try SandboxHome()
        defer { home.remove() }
        let zoho = try Self.zoho(sandbox, home, clock: TestClock())
        let contact = try await zoho.client.createContact(ContactDraft(contactName: "Gateway Shopper <gw@example.com>",
                                                                       email: "gw@example.com", currencyCode: "USD"))
        var draft = InvoiceDraft(invoiceNumber: "BC-502", referenceNumber: "502", customerID: contact.contactID,
                                 date: "2026-03-14", currencyCode: "USD")
        draft.lines = [DocumentLine(name: "Widget", rate: 12, quantity: 1)]
        try await sandbox.addFault(["match": ["api": "zoho", "method": "POST", "path_regex": "^/books/v3/invoices$"],
                                    "action": "status_after_apply", "status": 502, "times": 1])
        let since = try await sandbox.lastSequence()
        var message = ""
        await expectSandboxError("for a 502 after the invoice was created", { _ = try await zoho.client.createInvoice(draft) }) {
            message = "\($0)"
            if case .unknownOutcome(.zoho, _) = $0 { return true }
            return false
        }
        let posts = try await sandbox.requests(since: since, api: "zoho").filter { $0.method == "POST" && $0.path == "/books/v3/invoices" }
        print("Zoho 502 after apply: \(posts.count) POST(s) \(posts.map(\.description)); error: \(message)")
        #expect(posts.count == 1, "the write is never resent on an unknown outcome: \(posts)")
        #expect(posts.first?.status == 502 && posts.first?.applied == true, "\(posts)")
        // The invoice exists: a lookup by its number finds it, so the executor can adopt it.
        #expect(try await zoho.client.invoices(number: "BC-502").count == 1)
    }
}
