import Foundation

// Customer payments (`/customerpayments`): captured BigCommerce transactions, keyed by `reference_number`.

extension ZohoBooksClient {
    /// Payments of `customerID` whose reference equals `reference` exactly (Zoho's filter matches loosely).
    public func payments(reference: String, customerID: String) async throws -> [ZohoPayment] {
        guard !reference.isEmpty else { return [] }
        let rows = try await all(path: "/customerpayments", key: "customer_payments",
                                 query: [("reference_number", reference), ("customer_id", customerID)], maxPages: 5,
                                 decode: ZohoPayment.init(zoho:))
        return rows.filter { $0.referenceNumber == reference && ($0.customerID.isEmpty || $0.customerID == customerID) }
    }

    /// `POST /customerpayments`, the whole amount applied to the draft's invoice. More than the invoice's balance
    /// throws `.rejected` (code 24016).
    public func createPayment(_ draft: PaymentDraft) async throws -> ZohoPayment {
        var o = JSONObject()
        o["customer_id"] = .string(draft.customerID)
        o["payment_mode"] = .string(draft.paymentMode)
        o["amount"] = .decimal(draft.amount)
        o["date"] = .string(draft.date)
        o["reference_number"] = .string(draft.referenceNumber)
        if !draft.description.isEmpty { o["description"] = .string(draft.description) }
        o["invoices"] = [["invoice_id": .string(draft.invoiceID), "amount_applied": .decimal(draft.amount)]]
        if let account = draft.accountID { o["account_id"] = .string(account) }
        if let rate = draft.exchangeRate { o["exchange_rate"] = .decimal(rate) }
        let payment = try await send(Call(method: "POST", path: "/customerpayments", body: .object(o),
                                          logContext: ["zoho.invoice_id": draft.invoiceID])) {
            try ZohoPayment(zoho: try ZohoField.object($0, "payment"))
        }
        logger.debug("zoho payment recorded", ["zoho.payment_id": payment.paymentID, "zoho.invoice_id": draft.invoiceID])
        return payment
    }
}

extension ZohoPayment {
    init(zoho json: JSON) throws {
        self.init(paymentID: try ZohoField.id(json, "payment_id"),
                  referenceNumber: ZohoField.string(json, "reference_number"),
                  amount: try ZohoField.money(json, "amount"))
        customerID = ZohoField.string(json, "customer_id")
    }
}
