import Foundation

// Invoices (`/invoices`): one per BigCommerce order, numbered `BC-<order id>`.

extension ZohoBooksClient {
    /// Invoices whose number equals `number` exactly, any status.
    public func invoices(number: String) async throws -> [ZohoInvoice] {
        guard !number.isEmpty else { return [] }
        let rows = try await all(path: "/invoices", key: "invoices",
                                 query: [("invoice_number", number), ("filter_by", "Status.All")], maxPages: 5,
                                 decode: ZohoInvoice.init(zoho:))
        return rows.filter { $0.invoiceNumber == number }
    }

    public func invoice(id: String) async throws -> ZohoInvoice {
        try await send(Call(method: "GET", path: "/invoices/\(ZohoQuery.encode(id))", logContext: ["zoho.invoice_id": id])) {
            try ZohoInvoice(zoho: try ZohoField.object($0, "invoice"))
        }
    }

    /// `POST /invoices?ignore_auto_number_generation=true`: created as a draft under the draft's own number.
    /// A number already in use throws `.duplicate(code: 1001)`; an unreadable 2xx, a timeout or a 5xx throws
    /// `.unknownOutcome` (look the number up before sending again).
    public func createInvoice(_ draft: InvoiceDraft) async throws -> ZohoInvoice {
        let body = try await invoiceJSON(draft)
        let invoice = try await send(Call(method: "POST", path: "/invoices",
                                          query: [("ignore_auto_number_generation", "true")], body: body,
                                          logContext: ["zoho.invoice_number": draft.invoiceNumber])) {
            try ZohoInvoice(zoho: try ZohoField.object($0, "invoice"))
        }
        logger.debug("zoho invoice created", ["zoho.invoice_id": invoice.invoiceID, "zoho.invoice_number": invoice.invoiceNumber])
        return invoice
    }

    /// `PUT /invoices/{id}` with the full desired content (lines left out are deleted by Zoho).
    public func updateInvoice(id: String, _ draft: InvoiceDraft) async throws -> ZohoInvoice {
        let body = try await invoiceJSON(draft)
        return try await send(Call(method: "PUT", path: "/invoices/\(ZohoQuery.encode(id))",
                                   query: [("ignore_auto_number_generation", "true")], body: body,
                                   logContext: ["zoho.invoice_id": id])) {
            try ZohoInvoice(zoho: try ZohoField.object($0, "invoice"))
        }
    }

    /// `POST /invoices/{id}/status/sent` (no email). Idempotent: when Zoho refuses because the invoice is no
    /// longer a draft, the invoice is read and a non-draft status counts as success.
    public func markInvoiceSent(id: String) async throws {
        try await statusChange(id: id, to: "sent") { $0 != "draft" }
    }

    /// `POST /invoices/{id}/status/void`. Zoho unapplies payments and credits (they become customer credit).
    /// Idempotent: an invoice already void is success.
    public func voidInvoice(id: String) async throws {
        try await statusChange(id: id, to: "void") { $0 == "void" }
    }

    private func statusChange(id: String, to status: String, alreadyDone: (String) -> Bool) async throws {
        let call = Call(method: "POST", path: "/invoices/\(ZohoQuery.encode(id))/status/\(status)",
                        logContext: ["zoho.invoice_id": id])
        do {
            try await send(call) { _ in () }
        } catch RemoteError.rejected(let system, let httpStatus, let code, let message) {
            let current = try await invoice(id: id)
            if alreadyDone(current.status) { return }
            throw RemoteError.rejected(system, status: httpStatus, code: code, message: message)
        }
    }

    func invoiceJSON(_ draft: InvoiceDraft) async throws -> JSON {
        let currencyID = try await currencyID(for: draft.currencyCode)
        var o = JSONObject()
        o["customer_id"] = .string(draft.customerID)
        o["invoice_number"] = .string(draft.invoiceNumber)
        o["reference_number"] = .string(draft.referenceNumber)
        o["date"] = .string(draft.date)
        o["currency_id"] = .string(currencyID)
        if let rate = draft.exchangeRate { o["exchange_rate"] = .decimal(rate) }
        o["is_inclusive_tax"] = .bool(draft.isInclusiveTax)
        o["line_items"] = .array(draft.lines.map { $0.zohoJSON(forCreditNote: false) })
        // Line discounts are per line (`discount_amount`); say so, so they are not read as one invoice discount.
        if draft.lines.contains(where: { $0.discountAmount != 0 }) { o["discount_type"] = .string("item_level") }
        o["adjustment"] = .decimal(draft.adjustment)
        if !draft.adjustmentDescription.isEmpty { o["adjustment_description"] = .string(draft.adjustmentDescription) }
        if !draft.notes.isEmpty { o["notes"] = .string(draft.notes) }
        return .object(o)
    }
}

extension DocumentLine {
    func zohoJSON(forCreditNote: Bool) -> JSON {
        var o = JSONObject()
        if let itemID { o["item_id"] = .string(itemID) }
        o["name"] = .string(String(name.prefix(ZohoBooksClient.itemNameLimit)))
        if !description.isEmpty { o["description"] = .string(description) }
        o["rate"] = .decimal(rate)
        o["quantity"] = .decimal(quantity)
        if discountAmount != 0 { o["discount_amount"] = .decimal(discountAmount) }
        if let taxID { o["tax_id"] = .string(taxID) }
        if let productType { o["product_type"] = .string(productType) }
        if forCreditNote, let line = invoiceLineItemID { o["invoice_item_id"] = .string(line) }
        return .object(o)
    }
}

extension ZohoInvoice {
    /// Decodes an `invoice` or an `invoices[]` row (list rows have no lines).
    init(zoho json: JSON) throws {
        self.init(invoiceID: try ZohoField.id(json, "invoice_id"),
                  invoiceNumber: try ZohoField.requiredString(json, "invoice_number"),
                  status: ZohoField.string(json, "status"))
        referenceNumber = ZohoField.string(json, "reference_number")
        customerID = ZohoField.string(json, "customer_id")
        currencyCode = ZohoField.string(json, "currency_code")
        total = try ZohoField.money(json, "total")
        totalKnown = ZohoField.present(json, "total")
        balance = try ZohoField.money(json, "balance")
        adjustment = try ZohoField.money(json, "adjustment")
        paymentMade = try ZohoField.money(json, "payment_made")
        creditsApplied = try ZohoField.money(json, "credits_applied")
        lineItemIDs = try (json["line_items"]?.array ?? []).map { try ZohoField.id($0, "line_item_id") }
    }
}
