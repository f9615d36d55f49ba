import Foundation
import SyncEngine

/// The baseline: a straightforward per-order flow over the same clients, with no mapping table and no cache.
/// Per order: look the contact up by email (create it when missing), look each line's item up by SKU (create
/// it when missing), create the invoice, mark it sent, record one payment per captured transaction. A refund
/// looks the invoice up by number, creates the credit note and applies or refunds it; a cancellation looks
/// the invoice up and voids it.
///
/// To keep the comparison conservative, the baseline reuses zbsync's mapping (so its invoices are right), and
/// the organization and tax ids are resolved once for the whole benchmark and not counted per order.
final class NaiveSync: @unchecked Sendable {
    let sink: ZohoBooksSink
    let settings: MappingSettings
    private var taxes: [String: ZohoTax] = [:]
    private var refundAccount: String?
    private(set) var failures: [String] = []

    init(sink: ZohoBooksSink, settings: MappingSettings) {
        self.sink = sink
        self.settings = settings
    }

    /// Reads the organization's taxes once (the only state the baseline keeps).
    func prepare() async throws {
        for t in try await sink.taxes() where taxes[t.percentage.plainString] == nil { taxes[t.percentage.plainString] = t }
        let accounts = try await sink.accounts()
        refundAccount = (accounts.first { $0.type == "bank" } ?? accounts.first { $0.type == "cash" })?.accountID
    }

    private func tax(_ rate: Decimal, name: String) async throws -> ZohoTax {
        if let t = taxes[rate.plainString] { return t }
        let created = try await sink.createTax(name: name.isEmpty ? "Tax \(rate.plainString)%" : "\(name.prefix(40)) \(rate.plainString)%",
                                               percentage: rate)
        taxes[rate.plainString] = created
        return created
    }

    // MARK: Orders

    /// One order: contact, items, invoice, mark sent, payments. Skips orders that are not sales.
    func syncOrder(_ order: BCOrder, transactions: [BCTransaction]) async {
        guard OrderClassification.disposition(order: order, hasInvoice: false, settings: settings).isInvoice else { return }
        do {
            let contactSpec = ContactMapping.contactSpec(order: order, settings: settings)
            let contact = try await ensureContact(contactSpec.draft)
            let spec = try InvoiceMapping.invoiceSpec(order: order, contactKey: contactSpec.key, settings: settings)
            var items: [String: String] = [:]
            var generic: String? = nil
            var taxIDs: [String: ZohoTax] = [:]
            for line in spec.lines {
                if line.kind == .product {
                    if let sku = line.sku, !sku.isEmpty {
                        if items[sku] == nil { items[sku] = try await ensureItem(line: line, order: order) }
                    } else if generic == nil {
                        generic = try await ensureGenericItem()
                    }
                }
                if let rate = line.taxRate, rate != 0 { taxIDs[rate.plainString] = try await tax(rate, name: line.taxName) }
            }
            let draft = spec.resolve(customerID: contact.contactID, itemIDs: items, genericItemID: generic, taxIDs: taxIDs)
            let invoice = try await sink.createInvoice(draft)
            try await sink.markInvoiceSent(id: invoice.invoiceID)
            for payment in PaymentMapping.paymentSpecs(order: order, transactions: transactions, contactKey: contactSpec.key, settings: settings) {
                _ = try await sink.createPayment(payment.resolve(customerID: contact.contactID, invoiceID: invoice.invoiceID, accountID: nil))
            }
        } catch {
            failures.append("order \(order.id): \(error)")
        }
    }

    private func ensureContact(_ draft: ContactDraft) async throws -> ZohoContact {
        if !draft.email.isEmpty {
            let found = try await sink.contacts(email: draft.email).filter {
                $0.email.lowercased() == draft.email.lowercased()
                    && ($0.currencyCode.isEmpty || $0.currencyCode.uppercased() == draft.currencyCode.uppercased())
            }
            if let first = found.first { return first }
        }
        do {
            return try await sink.createContact(draft)
        } catch RemoteError.duplicate {
            var renamed = draft
            renamed.contactName = ContactMapping.disambiguated(name: draft.contactName, email: draft.email + " " + draft.currencyCode)
            return try await sink.createContact(renamed)
        }
    }

    private func ensureItem(line: LineSpec, order: BCOrder) async throws -> String {
        let sku = line.sku ?? ""
        if let found = try await sink.items(sku: sku).first(where: { $0.sku == sku }) { return found.itemID }
        guard let spec = ItemMapping.itemSpec(line: line, order: order, settings: settings) else { return try await ensureGenericItem() }
        do {
            return try await sink.createItem(spec.draft).itemID
        } catch RemoteError.duplicate {
            var draft = spec.draft
            draft.name = ItemMapping.uniqueItemName(draft.name, sku: sku)
            return try await sink.createItem(draft).itemID
        }
    }

    private func ensureGenericItem() async throws -> String {
        if let found = try await sink.items(sku: OrgContext.genericSKU).first(where: { $0.sku == OrgContext.genericSKU }) { return found.itemID }
        var draft = ItemDraft(name: settings.genericItemName, sku: OrgContext.genericSKU, rate: 0)
        draft.productType = "goods"
        return try await sink.createItem(draft).itemID
    }

    // MARK: Refunds and cancellations

    /// Looks the invoice up by number, creates the credit note against it, then applies it (open invoice) or
    /// records the money paid back (paid invoice).
    func refund(_ refund: BCRefund, order: BCOrder) async {
        do {
            let number = InvoiceMapping.invoiceNumber(orderID: order.id, settings: settings)
            guard let invoice = try await sink.invoices(number: number).first(where: { $0.invoiceNumber == number }) else {
                failures.append("refund \(refund.id): invoice \(number) not found")
                return
            }
            let key = ContactMapping.key(order: order, settings: settings)
            let spec = try RefundMapping.creditNoteSpec(refund: refund, order: order, contactKey: key, settings: settings)
            var items: [String: String] = [:]
            var generic: String? = nil
            var taxIDs: [String: ZohoTax] = [:]
            for line in spec.lines {
                if line.kind == .product {
                    if let sku = line.sku, !sku.isEmpty {
                        if items[sku] == nil { items[sku] = try await ensureItem(line: line, order: order) }
                    } else if generic == nil {
                        generic = try await ensureGenericItem()
                    }
                }
                if let rate = line.taxRate, rate != 0 { taxIDs[rate.plainString] = try await tax(rate, name: line.taxName) }
            }
            let draft = spec.resolve(customerID: invoice.customerID, invoiceID: invoice.invoiceID, itemIDs: items, genericItemID: generic,
                                     taxIDs: taxIDs, invoiceLineItemIDs: [:])
            let note = try await sink.createCreditNote(draft)
            let apply = min(invoice.balance, note.total)
            if apply > 0 {
                try await sink.applyCreditNote(id: note.creditNoteID, invoiceID: invoice.invoiceID, amount: apply)
            }
            let rest = min(note.total - apply, spec.refundedAmount)
            if rest > 0 {
                try await sink.refundCreditNote(id: note.creditNoteID, CreditNoteRefundDraft(
                    date: spec.date, amount: rest, refundMode: spec.refundMode, referenceNumber: spec.referenceNumber, fromAccountID: refundAccount))
            }
        } catch {
            failures.append("refund \(refund.id): \(error)")
        }
    }

    /// Looks the invoice up by number and voids it.
    func cancel(_ order: BCOrder) async {
        do {
            let number = InvoiceMapping.invoiceNumber(orderID: order.id, settings: settings)
            guard let invoice = try await sink.invoices(number: number).first(where: { $0.invoiceNumber == number }) else { return }
            if invoice.status != "void" { try await sink.voidInvoice(id: invoice.invoiceID) }
        } catch {
            failures.append("cancel \(order.id): \(error)")
        }
    }
}
