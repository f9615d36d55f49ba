import Foundation
import Testing
@testable import SyncEngine

/// The shared contract, run against the in-memory fake.
@Suite struct ZohoInMemoryContractTests {
    @Test(arguments: ZohoBooksSinkContract.checks.keys.sorted())
    func contract(_ name: String) async throws {
        let contract = ZohoBooksSinkContract(sink: InMemoryZohoBooks())
        try await ZohoBooksSinkContract.checks[name]!(contract)
    }

    @Test(arguments: ZohoTaxRounding.allCases)
    func contractHoldsForBothRoundingModes(_ mode: ZohoTaxRounding) async throws {
        let contract = ZohoBooksSinkContract(sink: InMemoryZohoBooks(taxRounding: mode))
        try await contract.invoicesStartAsDraftWithZohosTotals()
    }
}

/// What the fake does beyond the contract: faults, counters, exact totals.
@Suite struct ZohoInMemoryFakeTests {
    func setUp(_ zoho: InMemoryZohoBooks = InMemoryZohoBooks()) async throws -> (InMemoryZohoBooks, ZohoContact, ZohoTax) {
        let contact = try await zoho.createContact(ContactDraft(contactName: "Jane <jane@example.com>", email: "jane@example.com", currencyCode: "USD"))
        let tax = try await zoho.createTax(name: "VAT", percentage: Decimal(string: "10.5")!)
        zoho.resetCounters()
        return (zoho, contact, tax)
    }

    func invoice(_ number: String, customer: ZohoContact, lines: [DocumentLine]) -> InvoiceDraft {
        var d = InvoiceDraft(invoiceNumber: number, referenceNumber: number, customerID: customer.contactID, date: "2026-03-14", currencyCode: "USD")
        d.lines = lines
        return d
    }

    func taxed(_ tax: ZohoTax, percentage: Decimal? = nil) -> DocumentLine {
        var l = DocumentLine(name: "Widget", rate: 1, quantity: 1)
        l.taxID = tax.taxID
        l.taxPercentage = percentage ?? tax.percentage
        return l
    }

    @Test func totalsFollowTheOrganizationsRoundingAndPercentages() async throws {
        let (zoho, contact, tax) = try await setUp(InMemoryZohoBooks(taxRounding: .itemLevel))
        // The caller's predicted percentage is ignored: Zoho uses its own.
        let lines = (0..<3).map { _ in taxed(tax, percentage: 99) }
        let created = try await zoho.createInvoice(invoice("BC-1", customer: contact, lines: lines))
        #expect(created.total == Decimal(string: "3.33")!)
        zoho.taxRounding = .entityLevel
        let second = try await zoho.createInvoice(invoice("BC-2", customer: contact, lines: lines))
        #expect(second.total == Decimal(string: "3.32")!)
        let stored = try #require(zoho.storedInvoice(number: "BC-2"))
        #expect(stored.taxTotal == Decimal(string: "0.32")!)
        #expect(stored.lines.allSatisfy { $0.taxPercentage == Decimal(string: "10.5")! })
    }

    @Test func replyLostAfterApplyingLeavesTheInvoiceToBeFound() async throws {
        let (zoho, contact, _) = try await setUp()
        zoho.applyThenFail(.createInvoice)
        let draft = invoice("BC-7", customer: contact, lines: [DocumentLine(name: "W", rate: 5, quantity: 1)])
        await expectRemoteError({ _ = try await zoho.createInvoice(draft) }) {
            if case .unknownOutcome = $0 { return true }
            return false
        }
        #expect(try await zoho.invoices(number: "BC-7").count == 1)
        await expectRemoteError({ _ = try await zoho.createInvoice(draft) }) { $0.zohoCode == 1001 }
        #expect(zoho.allInvoices.count == 1)
    }

    @Test func failNextChangesNothing() async throws {
        let (zoho, contact, _) = try await setUp()
        zoho.failNext(.createInvoice, with: RemoteError.unavailable(.zoho, "HTTP 503"), times: 2)
        let draft = invoice("BC-8", customer: contact, lines: [DocumentLine(name: "W", rate: 5, quantity: 1)])
        for _ in 0..<2 {
            await expectRemoteError({ _ = try await zoho.createInvoice(draft) }) { $0 == .unavailable(.zoho, "HTTP 503") }
        }
        #expect(zoho.allInvoices.isEmpty)
        _ = try await zoho.createInvoice(draft)
        #expect(zoho.requestCount(.createInvoice) == 3)
        #expect(zoho.writeCount == 3)
        #expect(zoho.readCount == 0)
    }

    @Test func countsReadsAndWritesAndWindows() async throws {
        let clock = TestClock()
        let (zoho, contact, _) = try await setUp(InMemoryZohoBooks(clock: clock))
        for i in 0..<5 {
            _ = try await zoho.invoices(number: "BC-\(i)")
            _ = try await zoho.createInvoice(invoice("BC-\(i)", customer: contact, lines: [DocumentLine(name: "W", rate: 5, quantity: 1)]))
            clock.advance(by: 20)
        }
        #expect(zoho.readCount == 5)
        #expect(zoho.writeCount == 5)
        #expect(zoho.totalRequests == 10)
        #expect(zoho.maxCalls(inAnyWindowOf: 60) == 6)
    }

    @Test func voidUnappliesPaymentsAndCredits() async throws {
        let (zoho, contact, _) = try await setUp()
        let inv = try await zoho.createInvoice(invoice("BC-9", customer: contact, lines: [DocumentLine(name: "W", rate: 100, quantity: 1)]))
        await expectRemoteError("payment on a draft", {
            _ = try await zoho.createPayment(PaymentDraft(customerID: contact.contactID, referenceNumber: "t1", date: "2026-03-14",
                                                          amount: 10, paymentMode: "cash", invoiceID: inv.invoiceID))
        }) { $0.zohoCode == nil }
        try await zoho.markInvoiceSent(id: inv.invoiceID)
        _ = try await zoho.createPayment(PaymentDraft(customerID: contact.contactID, referenceNumber: "t1", date: "2026-03-14",
                                                      amount: 30, paymentMode: "cash", invoiceID: inv.invoiceID))
        var cnDraft = CreditNoteDraft(creditNoteNumber: "BCR-9", referenceNumber: "9", customerID: contact.contactID,
                                      date: "2026-03-15", currencyCode: "USD")
        cnDraft.lines = [DocumentLine(name: "Refund", rate: 20, quantity: 1)]
        cnDraft.invoiceID = inv.invoiceID
        let cn = try await zoho.createCreditNote(cnDraft)
        try await zoho.applyCreditNote(id: cn.creditNoteID, invoiceID: inv.invoiceID, amount: 20)
        #expect(try await zoho.invoice(id: inv.invoiceID).balance == 50)
        #expect(try await zoho.creditNote(id: cn.creditNoteID).status == "closed")

        try await zoho.voidInvoice(id: inv.invoiceID)
        let void = try await zoho.invoice(id: inv.invoiceID)
        #expect(void.status == "void" && void.paymentMade == 0 && void.creditsApplied == 0)
        let note = try await zoho.creditNote(id: cn.creditNoteID)
        #expect(note.status == "open" && note.balance == 20)
        #expect(zoho.allPayments.first?.amountApplied == 0)
        await expectRemoteError("payment on a void invoice", {
            _ = try await zoho.createPayment(PaymentDraft(customerID: contact.contactID, referenceNumber: "t2", date: "2026-03-16",
                                                          amount: 1, paymentMode: "cash", invoiceID: inv.invoiceID))
        }) { if case .rejected = $0 { return true }; return false }
    }

    @Test func invoicesNeedTheContactsCurrencyAndKnownTaxes() async throws {
        let (zoho, contact, _) = try await setUp()
        var eur = invoice("BC-10", customer: contact, lines: [DocumentLine(name: "W", rate: 5, quantity: 1)])
        eur.currencyCode = "EUR"
        await expectRemoteError({ _ = try await zoho.createInvoice(eur) }) { $0.zohoCode == 2 }
        var unknownTax = invoice("BC-11", customer: contact, lines: [DocumentLine(name: "W", rate: 5, quantity: 1)])
        unknownTax.lines[0].taxID = "1"
        await expectRemoteError({ _ = try await zoho.createInvoice(unknownTax) }) { $0.zohoCode == 2 }
        var unknownCustomer = invoice("BC-12", customer: contact, lines: [DocumentLine(name: "W", rate: 5, quantity: 1)])
        unknownCustomer.customerID = "404"
        await expectRemoteError({ _ = try await zoho.createInvoice(unknownCustomer) }) { if case .notFound = $0 { return true }; return false }
        let jpy = ContactDraft(contactName: "Yen", email: "yen@example.com", currencyCode: "JPY")
        await expectRemoteError({ _ = try await zoho.createContact(jpy) }) { $0.zohoCode == 9004 }
    }

    @Test func updatesCannotDropTheTotalBelowWhatWasPaid() async throws {
        let (zoho, contact, _) = try await setUp()
        var draft = invoice("BC-13", customer: contact, lines: [DocumentLine(name: "W", rate: 100, quantity: 1)])
        let inv = try await zoho.createInvoice(draft)
        try await zoho.markInvoiceSent(id: inv.invoiceID)
        _ = try await zoho.createPayment(PaymentDraft(customerID: contact.contactID, referenceNumber: "t", date: "2026-03-14",
                                                      amount: 60, paymentMode: "cash", invoiceID: inv.invoiceID))
        draft.lines[0].rate = 50
        await expectRemoteError({ _ = try await zoho.updateInvoice(id: inv.invoiceID, draft) }) { if case .rejected = $0 { return true }; return false }
        draft.lines[0].rate = 80
        let updated = try await zoho.updateInvoice(id: inv.invoiceID, draft)
        #expect(updated.balance == 20 && updated.status == "partially_paid")
        #expect(zoho.storedInvoice(number: "BC-13")?.updates == 1)
    }
}
