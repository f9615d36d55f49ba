import Foundation
import Testing
@testable import SyncEngine

/// A create whose earlier attempt may have reached Zoho stays "maybe created" until its key is looked up: a failed
/// lookup, a newer plan of the same entity, a cancellation or a refund step retried after a lost reply never turn
/// it into "not created". Each case here made a duplicate (or left a live invoice) before.
@Suite struct UncertainOutcomeTests {
    /// The payment's reply is lost, then the lookup that should find it fails: the next try must look again, not
    /// post a second payment (Zoho does not refuse duplicate payments).
    @Test func aLostPaymentIsLookedUpEvenAfterTheLookupFailed() async throws {
        let h = try EngineHarness()
        h.addOrder(id: 901)
        h.zoho.applyThenFail(.createPayment)
        h.zoho.failNext(.paymentsByReference, with: RemoteError.unavailable(.zoho, "HTTP 503"))
        try await h.sync()
        try await h.sync(advance: 3600)
        try await h.sync(advance: 3600)
        let payments = h.zoho.allPayments.filter { $0.draft.referenceNumber == "BC-TXN-9010" }
        #expect(payments.count == 1, "payments for the one transaction: \(payments.map(\.draft.amount))")
        #expect(try h.store.counts()[.failed, default: 0] + h.store.counts()[.dead, default: 0] == 0)
        try h.checkInvariants(orders: [901])
    }

    /// The payment's reply is lost and the order changes before the next run, so the payment is planned again:
    /// the new plan inherits the doubt and looks the reference up first.
    @Test func aLostPaymentIsLookedUpWhenTheOrderChangedMeanwhile() async throws {
        let h = try EngineHarness()
        h.addOrder(id: 902)
        h.zoho.applyThenFail(.createPayment)
        // Keeps the row unresolved in this run even if the push comes back to it.
        h.zoho.failNext(.paymentsByReference, with: RemoteError.unavailable(.zoho, "HTTP 503"))
        try await h.sync()
        h.zoho.clearFaults()
        _ = h.bc.editOrder(id: 902) { $0.statusID = 10 }
        try await h.sync(advance: 3600)
        let payments = h.zoho.allPayments.filter { $0.draft.referenceNumber == "BC-TXN-9020" }
        #expect(payments.count == 1, "payments for the one transaction: \(payments.map(\.draft.amount))")
        #expect(try h.store.counts()[.failed, default: 0] + h.store.counts()[.dead, default: 0] == 0, "no second payment tried")
        try h.checkInvariants(orders: [902])
    }

    /// The order is cancelled while its invoice is still queued (Zoho was unavailable): the void is planned
    /// behind the queued invoice, so no live invoice is left for a cancelled order.
    @Test func aCancellationWhileTheInvoiceIsQueuedVoidsIt() async throws {
        let h = try EngineHarness()
        h.addOrder(id: 903)
        h.zoho.failNext(.createInvoice, with: RemoteError.unavailable(.zoho, "HTTP 503"))
        try await h.sync()
        #expect(h.zoho.storedInvoice(number: "BC-903") == nil, "the invoice is still queued")
        _ = h.bc.editOrder(id: 903) { $0.statusID = 5 }
        try await h.sync(advance: 3600)
        try await h.sync(advance: 3600)
        let invoice = try #require(h.zoho.storedInvoice(number: "BC-903"))
        #expect(invoice.status == "void", "invoice of a cancelled order is \(invoice.status)")
        #expect(h.zoho.allInvoices.filter { $0.invoiceNumber == "BC-903" }.count == 1)
        #expect(try h.store.counts()[.failed, default: 0] + h.store.counts()[.dead, default: 0] == 0)
    }

    /// A guest without an email has no key Zoho can search; after a lost reply the create meets its own name
    /// (3062) and adopts that contact instead of making a renamed second one.
    @Test func aLostContactOfAGuestWithoutEmailIsAdoptedByName() async throws {
        let h = try EngineHarness()
        h.addOrder(id: 904, email: "")
        h.zoho.applyThenFail(.createContact)
        try await h.sync()
        try await h.sync(advance: 3600)
        let contacts = h.zoho.allContacts.filter { $0.contactName.hasPrefix("Ada Shopper 904") }
        #expect(contacts.map(\.contactName) == ["Ada Shopper 904"], "one contact for the guest: \(contacts.map(\.contactName))")
        try h.checkInvariants(orders: [904])
    }

    /// Another shopper with the same name and no email is not adopted by a first, certain create.
    @Test func aNewGuestWithoutEmailDoesNotTakeAnotherGuestsContact() async throws {
        let h = try EngineHarness()
        h.addOrder(id: 906, email: "")
        try await h.sync()
        var second = h.addOrder(id: 907, email: "")
        second = h.bc.editOrder(id: 907) { $0.billingAddress.lastName = "Shopper 906" } ?? second
        try await h.sync()
        let contacts = h.zoho.allContacts.filter { $0.contactName.hasPrefix("Ada Shopper 906") }
        #expect(contacts.count == 2, "two guests, two contacts: \(contacts.map(\.contactName))")
        #expect(h.zoho.allInvoices.map(\.invoiceNumber).sorted() == ["BC-906", "BC-907"])
    }

    /// The refund of a credit note is applied but its reply is lost, and the note's balance does not show it:
    /// the retry counts the refunds Zoho lists and pays nothing twice.
    @Test func aLostCreditNoteRefundIsNotPaidTwice() async throws {
        let h = try EngineHarness()
        h.zoho.creditNoteRefundsLowerTheBalance = false
        let order = h.addOrder(id: 905)
        try await h.sync()
        h.addRefund(id: 9905, orderID: 905, amount: order.totalIncTax)
        h.zoho.applyThenFail(.refundCreditNote)
        try await h.sync()
        try await h.sync(advance: 3600)
        let note = try #require(h.zoho.storedCreditNote(number: "BCR-9905"))
        #expect(note.refunds.map(\.amount) == [order.totalIncTax], "refunds paid out: \(note.refunds.map(\.amount))")
        #expect(try h.store.counts()[.failed, default: 0] + h.store.counts()[.dead, default: 0] == 0)
        try h.checkInvariants(orders: [905])
    }

    /// `store/order/archived`, and BigCommerce answers 404 for the order by id: the order counts as archived and
    /// its invoice is voided. An order without an invoice is left alone.
    @Test func anArchivedOrderThatIsGoneVoidsItsInvoice() async throws {
        let h = try EngineHarness()
        h.addOrder(id: 911, paid: false)
        try await h.sync()
        #expect(h.zoho.storedInvoice(number: "BC-911")?.status == "sent")
        h.bc.removeOrder(id: 911)
        let at = h.clock.now()
        #expect(try h.store.insertDelivery(InboxDelivery(deliveryID: "d-911", scope: "store/order/archived", entityID: 911, receivedAt: at)))
        #expect(try h.store.insertDelivery(InboxDelivery(deliveryID: "d-912", scope: "store/order/archived", entityID: 912, receivedAt: at)))
        var options = SyncOptions()
        options.inboxOnly = true
        try await h.sync(options)
        #expect(h.zoho.storedInvoice(number: "BC-911")?.status == "void")
        #expect(h.zoho.storedInvoice(number: "BC-912") == nil)
        #expect(try h.store.unprocessedDeliveries(limit: 10).isEmpty)
    }
}
