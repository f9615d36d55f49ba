import Foundation

// Credit notes (`/creditnotes`): one per BigCommerce refund, numbered `BCR-<refund id>`.

extension ZohoBooksClient {
    /// Credit notes whose number equals `number` exactly, any status.
    public func creditNotes(number: String) async throws -> [ZohoCreditNote] {
        guard !number.isEmpty else { return [] }
        let rows = try await all(path: "/creditnotes", key: "creditnotes",
                                 query: [("creditnote_number", number), ("filter_by", "Status.All")], maxPages: 5,
                                 decode: ZohoCreditNote.init(zoho:))
        return rows.filter { $0.creditNoteNumber == number }
    }

    public func creditNote(id: String) async throws -> ZohoCreditNote {
        try await send(Call(method: "GET", path: "/creditnotes/\(ZohoQuery.encode(id))", logContext: ["zoho.creditnote_id": id])) {
            try ZohoCreditNote(zoho: try ZohoField.object($0, "creditnote"))
        }
    }

    /// `POST /creditnotes?ignore_auto_number_generation=true[&invoice_id=…]`. The `invoice_id` query parameter
    /// links the note to the invoice (for reporting); it does not apply the credit. A number already in use throws
    /// `.duplicate(code: 12018)`.
    public func createCreditNote(_ draft: CreditNoteDraft) async throws -> ZohoCreditNote {
        let o = try await creditNoteJSON(draft)
        var query = [("ignore_auto_number_generation", "true")]
        var context = ["zoho.creditnote_number": draft.creditNoteNumber]
        if let invoiceID = draft.invoiceID {
            query.append(("invoice_id", invoiceID))
            context["zoho.invoice_id"] = invoiceID
        }
        let note = try await send(Call(method: "POST", path: "/creditnotes", query: query, body: o, logContext: context)) {
            try ZohoCreditNote(zoho: try ZohoField.object($0, "creditnote"))
        }
        logger.debug("zoho credit note created", ["zoho.creditnote_id": note.creditNoteID])
        return note
    }

    /// `PUT /creditnotes/{id}` with the same body as the create (used to correct the adjustment right after it).
    public func updateCreditNote(id: String, _ draft: CreditNoteDraft) async throws -> ZohoCreditNote {
        let o = try await creditNoteJSON(draft)
        return try await send(Call(method: "PUT", path: "/creditnotes/\(ZohoQuery.encode(id))", query: [("ignore_auto_number_generation", "true")],
                                   body: o, logContext: ["zoho.creditnote_id": id])) {
            try ZohoCreditNote(zoho: try ZohoField.object($0, "creditnote"))
        }
    }

    func creditNoteJSON(_ draft: CreditNoteDraft) async throws -> JSON {
        let currencyID = try await currencyID(for: draft.currencyCode)
        var o = JSONObject()
        o["customer_id"] = .string(draft.customerID)
        o["creditnote_number"] = .string(draft.creditNoteNumber)
        o["reference_number"] = .string(draft.referenceNumber)
        o["date"] = .string(draft.date)
        o["currency_id"] = .string(currencyID)
        if let rate = draft.exchangeRate { o["exchange_rate"] = .decimal(rate) }
        o["is_inclusive_tax"] = .bool(draft.isInclusiveTax)
        o["line_items"] = .array(draft.lines.map { $0.zohoJSON(forCreditNote: true) })
        if draft.adjustment != 0 { o["adjustment"] = .decimal(draft.adjustment) }
        return .object(o)
    }

    /// `POST /creditnotes/{id}/invoices`: applies `amount` of the credit to the invoice. A draft invoice refuses
    /// (`.rejected`, code 12005): mark it sent first.
    public func applyCreditNote(id: String, invoiceID: String, amount: Decimal) async throws {
        let body: JSON = ["invoices": [["invoice_id": .string(invoiceID), "amount_applied": .decimal(amount)]]]
        try await send(Call(method: "POST", path: "/creditnotes/\(ZohoQuery.encode(id))/invoices", body: body,
                            logContext: ["zoho.creditnote_id": id, "zoho.invoice_id": invoiceID])) { _ in () }
    }

    /// `GET /creditnotes/{id}/refunds` (rows under `creditnote_refunds`), bounded like every listing.
    public func creditNoteRefunds(id: String) async throws -> [ZohoCreditNoteRefund] {
        try await all(path: "/creditnotes/\(ZohoQuery.encode(id))/refunds", key: "creditnote_refunds", query: [], maxPages: 5,
                      logContext: ["zoho.creditnote_id": id]) { row in
            ZohoCreditNoteRefund(refundID: ZohoField.string(row, "creditnote_refund_id"), amount: try ZohoField.money(row, "amount"),
                                 referenceNumber: ZohoField.string(row, "reference_number"))
        }
    }

    /// `POST /creditnotes/{id}/refunds`: money paid back to the shopper from `fromAccountID`.
    public func refundCreditNote(id: String, _ draft: CreditNoteRefundDraft) async throws {
        var o = JSONObject()
        o["date"] = .string(draft.date)
        o["refund_mode"] = .string(draft.refundMode)
        o["reference_number"] = .string(draft.referenceNumber)
        o["amount"] = .decimal(draft.amount)
        if let rate = draft.exchangeRate { o["exchange_rate"] = .decimal(rate) }
        if let account = draft.fromAccountID { o["from_account_id"] = .string(account) }
        try await send(Call(method: "POST", path: "/creditnotes/\(ZohoQuery.encode(id))/refunds", body: .object(o),
                            logContext: ["zoho.creditnote_id": id])) { envelope in
            _ = try ZohoField.object(envelope, "creditnote_refund")
        }
    }
}

extension ZohoCreditNote {
    init(zoho json: JSON) throws {
        self.init(creditNoteID: try ZohoField.id(json, "creditnote_id"),
                  creditNoteNumber: try ZohoField.requiredString(json, "creditnote_number"),
                  status: ZohoField.string(json, "status"))
        total = try ZohoField.money(json, "total")
        balance = try ZohoField.money(json, "balance")
        totalKnown = ZohoField.present(json, "total")
        balanceKnown = ZohoField.present(json, "balance")
    }
}
