import Foundation
import Testing
@testable import SyncEngine

/// Expects `body` to throw a `RemoteError` for which `match` is true.
func expectRemoteError(sourceLocation: SourceLocation = #_sourceLocation,
                       _ body: () async throws -> Void, _ match: (RemoteError) -> Bool) async {
    await expectRemoteError("", sourceLocation: sourceLocation, body, match)
}

/// Expects `body` to throw a `RemoteError` for which `match` is true; `what` names the case in a failure.
func expectRemoteError(_ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                       _ body: () async throws -> Void, _ match: (RemoteError) -> Bool) async {
    do {
        try await body()
        Issue.record("expected a RemoteError \(what), got success", sourceLocation: sourceLocation)
    } catch let error as RemoteError {
        #expect(match(error), "unexpected \(error) \(what)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a RemoteError \(what), got \(error)", sourceLocation: sourceLocation)
    }
}

/// The behaviour every ``ZohoBooksSink`` must show, whatever is behind it: the in-memory fake today, the Zoho
/// client against the local sandbox later. Each check creates its own records under a per-run tag, so the
/// suite can run against a server that keeps state between runs.
struct ZohoBooksSinkContract {
    let sink: any ZohoBooksSink
    let tag: String

    init(sink: any ZohoBooksSink, tag: String = String(UInt32.random(in: 0...UInt32.max), radix: 36).uppercased()) {
        self.sink = sink
        self.tag = tag
    }

    /// Every check, by name, for parameterised tests.
    static let checks: [String: @Sendable (ZohoBooksSinkContract) async throws -> Void] = [
        "organization": { try await $0.organizationHasItsBaseCurrency() },
        "contacts": { try await $0.contactsAreUniqueByNameAndFoundByExactEmail() },
        "items": { try await $0.itemsAreUniqueByNameAndFoundByExactSKU() },
        "invoice-numbers": { try await $0.invoiceNumbersAreUniqueAndFoundExactly() },
        "invoice-totals": { try await $0.invoicesStartAsDraftWithZohosTotals() },
        "mark-sent": { try await $0.markSentIsIdempotent() },
        "draft-credit": { try await $0.creditOnADraftInvoiceIsRefused() },
        "credit-notes": { try await $0.creditNotesAreUniqueAndApplyToTheBalance() },
        "payments": { try await $0.paymentsCannotExceedTheBalanceAndAreFoundByReference() },
        "void": { try await $0.voidUnappliesPaymentsAndIsIdempotent() },
        "refund": { try await $0.creditNoteRefundsReduceTheBalance() },
        "update": { try await $0.updatingAnInvoiceRecomputesItsTotal() },
        "not-found": { try await $0.missingRecordsAreNotFound() },
    ]

    // MARK: Helpers

    func baseCurrency() async throws -> String { try await sink.organization().currencyCode }

    func makeContact(_ suffix: String = "") async throws -> ZohoContact {
        let email = "shopper.\(tag.lowercased())\(suffix)@example.com"
        var draft = ContactDraft(contactName: "Shopper \(tag)\(suffix) <\(email)>", email: email, currencyCode: try await baseCurrency())
        draft.firstName = "Shopper"
        draft.lastName = tag
        return try await sink.createContact(draft)
    }

    func tax(_ percentage: Decimal) async throws -> ZohoTax {
        if let t = try await sink.taxes().first(where: { $0.percentage == percentage && $0.type == "tax" }) { return t }
        return try await sink.createTax(name: "Contract tax \(percentage)% \(tag)", percentage: percentage)
    }

    func line(_ name: String, rate: String, quantity: String = "1", discount: String = "0", tax: ZohoTax? = nil) -> DocumentLine {
        var l = DocumentLine(name: name, rate: Decimal(string: rate)!, quantity: Decimal(string: quantity)!)
        l.discountAmount = Decimal(string: discount)!
        l.taxID = tax?.taxID
        l.taxPercentage = tax?.percentage ?? 0
        return l
    }

    func invoiceDraft(_ number: String, customer: ZohoContact, lines: [DocumentLine]) async throws -> InvoiceDraft {
        var d = InvoiceDraft(invoiceNumber: number, referenceNumber: number, customerID: customer.contactID,
                             date: "2026-03-14", currencyCode: try await baseCurrency())
        d.lines = lines
        return d
    }

    /// A sent invoice of 100.00 (no tax).
    func sentInvoice(_ suffix: String) async throws -> (ZohoContact, ZohoInvoice) {
        let customer = try await makeContact(suffix)
        let draft = try await invoiceDraft("CT-\(tag)-\(suffix)", customer: customer, lines: [line("Widget", rate: "50.00", quantity: "2")])
        let invoice = try await sink.createInvoice(draft)
        try await sink.markInvoiceSent(id: invoice.invoiceID)
        return (customer, try await sink.invoice(id: invoice.invoiceID))
    }

    func creditNoteDraft(_ number: String, customer: ZohoContact, invoiceID: String?, amount: String) async throws -> CreditNoteDraft {
        var d = CreditNoteDraft(creditNoteNumber: number, referenceNumber: number, customerID: customer.contactID,
                                date: "2026-03-20", currencyCode: try await baseCurrency())
        d.invoiceID = invoiceID
        d.lines = [line("Refund", rate: amount)]
        return d
    }

    func refundAccount() async throws -> ZohoAccount? {
        try await sink.accounts().first { $0.type == "bank" || $0.type == "cash" }
    }

    // MARK: Checks

    func organizationHasItsBaseCurrency() async throws {
        let org = try await sink.organization()
        #expect(!org.organizationID.isEmpty)
        let currencies = try await sink.currencies()
        #expect(currencies.contains { $0.currencyCode == org.currencyCode })
    }

    func contactsAreUniqueByNameAndFoundByExactEmail() async throws {
        let c = try await makeContact("c")
        #expect(try await sink.contacts(email: c.email.uppercased()).map(\.contactID) == [c.contactID])
        #expect(try await sink.contacts(name: c.contactName).map(\.contactID) == [c.contactID])
        #expect(try await sink.contacts(email: String(c.email.dropLast(4))).isEmpty)
        #expect(try await sink.contacts(name: String(c.contactName.dropLast())).isEmpty)
        let again = ContactDraft(contactName: c.contactName, email: "other.\(tag.lowercased())@example.com", currencyCode: try await baseCurrency())
        await expectRemoteError("for a second contact with the same name", { _ = try await sink.createContact(again) }) {
            $0.zohoCode == 3062 && $0.isZohoDuplicate
        }
        var renamed = ContactDraft(contactName: c.contactName + " (renamed)", email: c.email, currencyCode: try await baseCurrency())
        renamed.firstName = "Renamed"
        let updated = try await sink.updateContact(id: c.contactID, renamed)
        #expect(updated.contactName == renamed.contactName)
    }

    func itemsAreUniqueByNameAndFoundByExactSKU() async throws {
        let sku = "SKU-\(tag)"
        let item = try await sink.createItem(ItemDraft(name: "Contract item \(tag)", sku: sku, rate: Decimal(string: "12.34")!))
        #expect(item.rate == Decimal(string: "12.34")!)
        #expect(try await sink.items(sku: sku).map(\.itemID) == [item.itemID])
        #expect(try await sink.items(sku: String(sku.dropLast())).isEmpty)
        await expectRemoteError("for a second item with the same name", {
            _ = try await sink.createItem(ItemDraft(name: "Contract item \(tag)", sku: sku + "-2", rate: 1))
        }) { $0.zohoCode == 1000 && $0.isZohoDuplicate }
    }

    func invoiceNumbersAreUniqueAndFoundExactly() async throws {
        let customer = try await makeContact("n")
        let number = "CT-\(tag)-N1"
        let draft = try await invoiceDraft(number, customer: customer, lines: [line("Widget", rate: "10.00")])
        let first = try await sink.createInvoice(draft)
        await expectRemoteError("for a second invoice with the same number", { _ = try await sink.createInvoice(draft) }) {
            $0.zohoCode == 1001 && $0.isZohoDuplicate
        }
        #expect(try await sink.invoices(number: number).map(\.invoiceID) == [first.invoiceID])
        #expect(try await sink.invoices(number: "CT-\(tag)-N").isEmpty)
    }

    func invoicesStartAsDraftWithZohosTotals() async throws {
        let customer = try await makeContact("t")
        let vat = try await tax(Decimal(string: "10.5")!)
        let lines = [line("A", rate: "1.00", tax: vat), line("B", rate: "1.00", tax: vat), line("C", rate: "1.00", tax: vat),
                     line("D", rate: "19.99", quantity: "3", discount: "5.00", tax: vat), line("Shipping", rate: "4.95")]
        var draft = try await invoiceDraft("CT-\(tag)-T1", customer: customer, lines: lines)
        draft.adjustment = Decimal(string: "-0.01")!
        let invoice = try await sink.createInvoice(draft)
        #expect(invoice.status == "draft")
        #expect(invoice.lineItemIDs.count == lines.count)
        let predictions = ZohoTaxRounding.allCases.map {
            ZohoTotals.compute(lines: lines, isInclusiveTax: false, adjustment: draft.adjustment, taxRounding: $0).total
        }
        #expect(predictions.contains(invoice.total), "total \(invoice.total) is neither of \(predictions)")
        #expect(invoice.balance == invoice.total)

        var inclusive = try await invoiceDraft("CT-\(tag)-T2", customer: customer, lines: [line("E", rate: "10.00", tax: vat)])
        inclusive.isInclusiveTax = true
        let inc = try await sink.createInvoice(inclusive)
        #expect(inc.total == Decimal(string: "10.00")!)
    }

    func markSentIsIdempotent() async throws {
        let (_, invoice) = try await sentInvoice("s")
        #expect(invoice.status == "sent")
        try await sink.markInvoiceSent(id: invoice.invoiceID)
        #expect(try await sink.invoice(id: invoice.invoiceID).status == "sent")
    }

    func creditOnADraftInvoiceIsRefused() async throws {
        let customer = try await makeContact("d")
        let invoice = try await sink.createInvoice(try await invoiceDraft("CT-\(tag)-D1", customer: customer,
                                                                          lines: [line("Widget", rate: "30.00")]))
        let note = try await sink.createCreditNote(try await creditNoteDraft("CTR-\(tag)-D1", customer: customer,
                                                                             invoiceID: invoice.invoiceID, amount: "5.00"))
        await expectRemoteError("for a credit on a draft invoice", {
            try await sink.applyCreditNote(id: note.creditNoteID, invoiceID: invoice.invoiceID, amount: Decimal(5))
        }) { $0.zohoCode == 12005 }
        #expect(try await sink.invoice(id: invoice.invoiceID).balance == Decimal(30))
    }

    func creditNotesAreUniqueAndApplyToTheBalance() async throws {
        let (customer, invoice) = try await sentInvoice("cn")
        let draft = try await creditNoteDraft("CTR-\(tag)-C1", customer: customer, invoiceID: invoice.invoiceID, amount: "25.00")
        let note = try await sink.createCreditNote(draft)
        #expect(note.total == Decimal(25))
        #expect(note.balance == Decimal(25))
        await expectRemoteError("for a second credit note with the same number", { _ = try await sink.createCreditNote(draft) }) {
            $0.zohoCode == 12018 && $0.isZohoDuplicate
        }
        #expect(try await sink.creditNotes(number: draft.creditNoteNumber).map(\.creditNoteID) == [note.creditNoteID])
        #expect(try await sink.creditNotes(number: "CTR-\(tag)-C").isEmpty)
        try await sink.applyCreditNote(id: note.creditNoteID, invoiceID: invoice.invoiceID, amount: Decimal(25))
        let after = try await sink.invoice(id: invoice.invoiceID)
        #expect(after.balance == Decimal(75))
        #expect(after.creditsApplied == Decimal(25))
        #expect(try await sink.creditNote(id: note.creditNoteID).balance == 0)
    }

    func paymentsCannotExceedTheBalanceAndAreFoundByReference() async throws {
        let (customer, invoice) = try await sentInvoice("p")
        let account = try await refundAccount()
        var tooMuch = PaymentDraft(customerID: customer.contactID, referenceNumber: "txn-\(tag)-X", date: "2026-03-14",
                                   amount: Decimal(string: "100.01")!, paymentMode: "creditcard", invoiceID: invoice.invoiceID)
        tooMuch.accountID = account?.accountID
        await expectRemoteError("for a payment above the balance", { _ = try await sink.createPayment(tooMuch) }) {
            $0.zohoCode == 24016
        }
        var exact = tooMuch
        exact.referenceNumber = "txn-\(tag)-1"
        exact.amount = Decimal(100)
        let payment = try await sink.createPayment(exact)
        #expect(payment.amount == Decimal(100))
        let paid = try await sink.invoice(id: invoice.invoiceID)
        #expect(paid.status == "paid")
        #expect(paid.balance == 0)
        #expect(try await sink.payments(reference: exact.referenceNumber, customerID: customer.contactID).map(\.paymentID) == [payment.paymentID])
        #expect(try await sink.payments(reference: "txn-\(tag)-", customerID: customer.contactID).isEmpty)
    }

    func voidUnappliesPaymentsAndIsIdempotent() async throws {
        let (customer, invoice) = try await sentInvoice("v")
        var pay = PaymentDraft(customerID: customer.contactID, referenceNumber: "txn-\(tag)-V", date: "2026-03-14",
                               amount: Decimal(40), paymentMode: "creditcard", invoiceID: invoice.invoiceID)
        pay.accountID = try await refundAccount()?.accountID
        _ = try await sink.createPayment(pay)
        #expect(try await sink.invoice(id: invoice.invoiceID).status == "partially_paid")
        try await sink.voidInvoice(id: invoice.invoiceID)
        let void = try await sink.invoice(id: invoice.invoiceID)
        #expect(void.status == "void")
        #expect(void.paymentMade == 0)
        try await sink.voidInvoice(id: invoice.invoiceID)
        #expect(try await sink.invoice(id: invoice.invoiceID).status == "void")
    }

    func creditNoteRefundsReduceTheBalance() async throws {
        let (customer, invoice) = try await sentInvoice("r")
        let note = try await sink.createCreditNote(try await creditNoteDraft("CTR-\(tag)-R1", customer: customer,
                                                                             invoiceID: invoice.invoiceID, amount: "20.00"))
        let refund = CreditNoteRefundDraft(date: "2026-03-21", amount: Decimal(20), refundMode: "creditcard",
                                           referenceNumber: "R1", fromAccountID: try await refundAccount()?.accountID)
        try await sink.refundCreditNote(id: note.creditNoteID, refund)
        let after = try await sink.creditNote(id: note.creditNoteID)
        #expect(after.balance == 0)
        #expect(after.status == "closed")
        let listed = try await sink.creditNoteRefunds(id: note.creditNoteID)
        #expect(listed.map(\.amount) == [Decimal(20)])
        #expect(listed.map(\.referenceNumber) == ["R1"])
    }

    func updatingAnInvoiceRecomputesItsTotal() async throws {
        let customer = try await makeContact("u")
        var draft = try await invoiceDraft("CT-\(tag)-U1", customer: customer, lines: [line("Widget", rate: "10.00")])
        let invoice = try await sink.createInvoice(draft)
        draft.lines.append(line("Extra", rate: "2.50", quantity: "2"))
        draft.adjustment = Decimal(string: "0.02")!
        let updated = try await sink.updateInvoice(id: invoice.invoiceID, draft)
        #expect(updated.invoiceID == invoice.invoiceID)
        #expect(updated.total == Decimal(string: "15.02")!)
        #expect(updated.lineItemIDs.count == 2)
        #expect(try await sink.invoices(number: draft.invoiceNumber).count == 1)
    }

    func missingRecordsAreNotFound() async throws {
        await expectRemoteError("for an unknown invoice id", { _ = try await sink.invoice(id: "982999999999999") }) {
            if case .notFound = $0 { return true }
            return false
        }
        await expectRemoteError("for an unknown credit note id", { _ = try await sink.creditNote(id: "982999999999998") }) {
            if case .notFound = $0 { return true }
            return false
        }
    }
}

extension RemoteError {
    var isZohoDuplicate: Bool { if case .duplicate = self { return true }; return false }
}
