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
