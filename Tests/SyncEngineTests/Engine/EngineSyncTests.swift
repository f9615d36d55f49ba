import Foundation
import Testing
@testable import Stores
@testable import SyncEngine

@Suite struct EngineSyncTests {
    @Test func syncsOrdersPaymentsAndConvergesWithZeroWrites() async throws {
        let h = try EngineHarness()
        h.addOrder(id: 101, customerID: 7)
        h.addOrder(id: 102)                         // guest
        h.addOrder(id: 103, customerID: 7, lines: [("SKU-1", 1, 10), ("SKU-2", 3, 4.99)], paid: false)
        let report = try await h.sync()
        #expect(report.push.stop == nil)
        #expect(report.push.dead == 0 && report.push.failed == 0)
        try h.checkInvariants(orders: [101, 102, 103])
        #expect(h.zoho.allContacts.count == 2)
        #expect(h.zoho.allPayments.count == 2)
        #expect(h.zoho.allInvoices.allSatisfy { $0.status != "draft" })

        h.zoho.resetCounters()
        let again = try await h.sync()
        #expect(again.planned == 0)
        #expect(h.zohoWrites == 0)
        #expect(h.zohoReads <= 1)
    }

    @Test func dryRunWritesNothingAndMovesNoCursor() async throws {
        let h = try EngineHarness()
        h.addOrder(id: 201)
        var options = SyncOptions()
        options.dryRun = true
        let report = try await h.sync(options)
        #expect(report.plan.operations.contains { $0.kind == "invoice.ensure" && $0.zohoKey == "BC-201" })
        #expect(h.zohoWrites == 0)
        #expect(try h.store.cursor("orders") == nil)
        #expect(try h.store.counts().values.reduce(0, +) == 0)
    }

    @Test func cancellationAfterPostingVoidsTheInvoice() async throws {
        let h = try EngineHarness()
        h.addOrder(id: 301)
        try await h.sync()
        _ = h.bc.editOrder(id: 301) { $0.statusID = 5 }
        try await h.sync()
        #expect(h.zoho.storedInvoice(number: "BC-301")?.status == "void")
        #expect(try h.store.mapping("order:301")?.zohoStatus == "void")
        h.zoho.resetCounters()
        try await h.sync()
        #expect(h.zohoWrites == 0)
    }

    @Test func notASaleIsNeverInvoiced() async throws {
        let h = try EngineHarness()
        h.addOrder(id: 401, status: 0)
        h.addOrder(id: 402, status: 1)
        h.addOrder(id: 403, status: 6)
        try await h.sync()
        #expect(h.zoho.allInvoices.isEmpty)
    }

    @Test func refundBecomesCreditNoteRefundedWhenInvoicePaid() async throws {
        let h = try EngineHarness()
        h.addOrder(id: 501)
        try await h.sync()
        h.addRefund(id: 9001, orderID: 501, amount: 5)
        try await h.sync()
        let note = try #require(h.zoho.storedCreditNote(number: "BCR-9001"))
        #expect(note.total == 5)
        #expect(note.refunds.map(\.amount) == [5])
        try h.checkInvariants(orders: [501])
    }

    /// A full refund of a new paid order whose payment could not be recorded at the first attempt (a lost reply
    /// that Zoho never applied, then a transient refusal): the credit note must not take the invoice's balance
    /// before the payment is recorded, or the payment is refused for good (24016) and the books stay wrong.
    @Test(arguments: ["lost reply", "refused once"])
    func aRefundWaitsForThePaymentsOfItsOrder(_ fault: String) async throws {
        let h = try EngineHarness()
        let order = h.addOrder(id: 801)
        h.addRefund(id: 9801, orderID: 801, amount: order.totalIncTax)
        let error: RemoteError = fault == "lost reply"
            ? .unknownOutcome(.zoho, "the request timed out before Zoho applied it")
            : .rejected(.zoho, status: 400, code: 9, message: "temporarily refused")
        h.zoho.failNext(.createPayment, with: error)
        try await h.sync()
        try await h.sync(advance: 3600)
        let payments = h.zoho.allPayments.filter { $0.draft.referenceNumber == "BC-TXN-8010" }
        #expect(payments.map(\.draft.amount) == [order.totalIncTax], "one payment of the order total: \(payments)")
        let note = try #require(h.zoho.storedCreditNote(number: "BCR-9801"))
        #expect(note.refunds.map(\.amount) == [order.totalIncTax], "the whole refund paid back in cash, nothing applied to the invoice")
        #expect(try h.store.counts()[.failed, default: 0] + h.store.counts()[.dead, default: 0] == 0, "no operation left failing")
        #expect(try h.store.openAttention(limit: 10).isEmpty)
        try h.checkInvariants(orders: [801])
    }

    @Test func editBeforePaymentUpdatesInvoice() async throws {
        let h = try EngineHarness()
        h.addOrder(id: 601, paid: false)
        try await h.sync()
        _ = h.bc.editOrder(id: 601) { order in
            order.customerMessage = "changed"
        }
        // A content change: replace the order with two lines.
        h.addOrder(id: 601, lines: [("SKU-1", 3, 10)], paid: false)
        try await h.sync()
        try h.checkInvariants(orders: [601])
        #expect(h.zoho.storedInvoice(number: "BC-601")?.total == h.bc.storedOrder(id: 601)?.totalIncTax)
    }

    @Test func editAfterPaymentNeedsAttention() async throws {
        let h = try EngineHarness()
        h.addOrder(id: 701)
        try await h.sync()
        h.addOrder(id: 701, lines: [("SKU-1", 5, 10)], paid: false)
        try await h.sync()
        #expect(try h.store.openAttention(limit: 10).contains { $0.entityKey == "order:701" })
        #expect(h.zoho.allInvoices.filter { $0.invoiceNumber == "BC-701" }.count == 1)
    }
}

/// A large first sync: many pages, many more than 200 journal rows, items first seen on one page and needed
/// again on later pages. Every row must be pushed in one run (no row left behind a full batch of waiting rows).
@Suite struct EngineLargeStoreTests {
    @Test func onePushDrainsAJournalOfHundredsOfRows() async throws {
        let h = try EngineHarness()
        h.settings.pageSize = 40
        for i in Int64(0)..<260 {
            // SKUs repeat across pages, with a product name that changes (a different item spec each time).
            h.addOrder(id: 20_000 + i, customerID: i % 37, lines: [("SKU-\(i % 23)", 1, Decimal(5 + i % 7))], taxRate: 0)
            _ = h.bc.editOrder(id: 20_000 + i) { order in
                order.products = order.products?.map { var p = $0; p.name = "Product \(p.sku) v\(i % 3)"; return p }
            }
        }
        // The customers stream (read after the orders) carries other names than the orders' billing addresses,
        // so each contact is planned again at the end of the journal, behind every invoice that waits for it.
        for c in Int64(1)..<37 {
            var customer = BCCustomer(id: c, email: "customer\(c)@example.com", dateCreated: h.serverClock.now(), dateModified: h.serverClock.now())
            customer.firstName = "Grace"
            customer.lastName = "Customer \(c)"
            h.bc.addCustomer(customer)
        }
        let report = try await h.sync()
        #expect(report.push.stop == nil)
        #expect(try h.store.counts()[.pending, default: 0] == 0, "rows left pending after one run")
        try h.checkInvariants(orders: (Int64(0)..<260).map { 20_000 + $0 })
        #expect(h.zoho.allItems.count == 23)
        h.zoho.resetCounters()
        try await h.sync()
        #expect(h.zohoWrites == 0)
    }
}
