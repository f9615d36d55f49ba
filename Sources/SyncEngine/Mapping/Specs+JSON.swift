import Foundation

// Journal payloads: every spec (and the drafts they embed) as JSON and back, exactly. Money is a JSON number
// written in plain notation (the text `JSON.decimal` gives) and read back with `JSON.decimal`, never through `Double`; an
// absent optional is `null`. Keys are snake_case.

/// Reads the fields of one JSON object, naming the path of a missing or mistyped field in the error.
struct JSONFields {
    let object: JSONObject
    let path: String

    init(_ json: JSON, path: String) throws {
        guard let o = json.object else { throw JSONError.field(path: path, problem: "expected an object") }
        object = o
        self.path = path
    }

    private func fail(_ key: String, _ problem: String) -> JSONError { .field(path: path + "." + key, problem: problem) }

    private func present(_ key: String) -> JSON? {
        guard let v = object[key], !v.isNull else { return nil }
        return v
    }

    func string(_ key: String) throws -> String {
        guard let v = present(key) else { throw fail(key, "missing") }
        guard let s = v.string else { throw fail(key, "expected a string") }
        return s
    }

    /// A string that defaults to "" when missing.
    func text(_ key: String) throws -> String { present(key) == nil ? "" : try string(key) }

    func optionalString(_ key: String) throws -> String? { present(key) == nil ? nil : try string(key) }

    func decimal(_ key: String) throws -> Decimal {
        guard let v = present(key) else { throw fail(key, "missing") }
        guard let d = v.decimal else { throw fail(key, "expected a number") }
        return d
    }

    func optionalDecimal(_ key: String) throws -> Decimal? { present(key) == nil ? nil : try decimal(key) }

    func int64(_ key: String) throws -> Int64 {
        guard let v = present(key) else { throw fail(key, "missing") }
        guard let i = v.int64 else { throw fail(key, "expected an integer") }
        return i
    }

    func optionalInt64(_ key: String) throws -> Int64? { present(key) == nil ? nil : try int64(key) }

    func bool(_ key: String) throws -> Bool {
        guard let v = present(key) else { throw fail(key, "missing") }
        guard case .bool(let b) = v else { throw fail(key, "expected true or false") }
        return b
    }

    func array(_ key: String) throws -> [JSON] {
        guard let v = present(key) else { throw fail(key, "missing") }
        guard let a = v.array else { throw fail(key, "expected an array") }
        return a
    }

    func json(_ key: String) throws -> JSON {
        guard let v = present(key) else { throw fail(key, "missing") }
        return v
    }
}

extension JSON {
    static func optionalDecimal(_ value: Decimal?) -> JSON { value.map(JSON.money) ?? .null }
    static func optionalInt64(_ value: Int64?) -> JSON { value.map(JSON.int64) ?? .null }
}

// MARK: Lines

extension LineSpec {
    public func toJSON() -> JSON {
        [
            "kind": .string(kind.rawValue),
            "sku": .optional(sku),
            "name": .string(name),
            "description": .string(description),
            "rate": .money(rate),
            "quantity": .money(quantity),
            "discount_amount": .money(discountAmount),
            "tax_rate": .optionalDecimal(taxRate),
            "tax_name": .string(taxName),
            "product_type": .string(productType),
            "bc_line_id": .optionalInt64(bcLineID),
        ]
    }

    /// The lines as a JSON array.
    static func toJSON(_ lines: [LineSpec]) -> JSON {
        var array: [JSON] = []
        array.reserveCapacity(lines.count)
        for i in lines.indices { array.append(lines[i].toJSON()) }
        return .array(array)
    }

    public init(json: JSON, path: String = "line") throws {
        let f = try JSONFields(json, path: path)
        let kindText = try f.string("kind")
        guard let kind = LineKind(rawValue: kindText) else {
            throw JSONError.field(path: path + ".kind", problem: "unknown line kind \(kindText)")
        }
        self.init(kind: kind, sku: try f.optionalString("sku"), name: try f.string("name"), rate: try f.decimal("rate"),
                  quantity: try f.decimal("quantity"), taxRate: try f.optionalDecimal("tax_rate"))
        description = try f.text("description")
        discountAmount = try f.optionalDecimal("discount_amount") ?? 0
        taxName = try f.text("tax_name")
        productType = try f.optionalString("product_type") ?? "goods"
        bcLineID = try f.optionalInt64("bc_line_id")
    }
}

// MARK: Contacts

extension ZohoAddress {
    public func toJSON() -> JSON {
        ["attention": .string(attention), "address": .string(address), "street2": .string(street2), "city": .string(city),
         "state": .string(state), "zip": .string(zip), "country": .string(country), "phone": .string(phone)]
    }

    public init(json: JSON, path: String = "address") throws {
        let f = try JSONFields(json, path: path)
        self.init()
        attention = try f.text("attention"); address = try f.text("address"); street2 = try f.text("street2")
        city = try f.text("city"); state = try f.text("state"); zip = try f.text("zip"); country = try f.text("country")
        phone = try f.text("phone")
    }
}

extension ContactDraft {
    public func toJSON() -> JSON {
        [
            "contact_name": .string(contactName),
            "company_name": .string(companyName),
            "first_name": .string(firstName),
            "last_name": .string(lastName),
            "email": .string(email),
            "phone": .string(phone),
            "currency_code": .string(currencyCode),
            "billing_address": billingAddress.toJSON(),
            "shipping_address": shippingAddress.toJSON(),
            "notes": .string(notes),
        ]
    }

    public init(json: JSON, path: String = "contact") throws {
        let f = try JSONFields(json, path: path)
        self.init(contactName: try f.string("contact_name"), email: try f.text("email"), currencyCode: try f.string("currency_code"))
        companyName = try f.text("company_name"); firstName = try f.text("first_name"); lastName = try f.text("last_name")
        phone = try f.text("phone"); notes = try f.text("notes")
        if let b = f.object["billing_address"], !b.isNull { billingAddress = try ZohoAddress(json: b, path: path + ".billing_address") }
        if let s = f.object["shipping_address"], !s.isNull { shippingAddress = try ZohoAddress(json: s, path: path + ".shipping_address") }
    }
}

extension ContactSpec {
    public func toJSON() -> JSON { ["key": .string(key), "draft": draft.toJSON()] }

    public init(json: JSON) throws {
        let f = try JSONFields(json, path: "contact_spec")
        self.init(key: try f.string("key"), draft: try ContactDraft(json: try f.json("draft"), path: "contact_spec.draft"))
    }
}

// MARK: Items

extension ItemDraft {
    public func toJSON() -> JSON {
        ["name": .string(name), "sku": .string(sku), "rate": .money(rate), "description": .string(description),
         "product_type": .string(productType), "tax_id": .optional(taxID)]
    }

    public init(json: JSON, path: String = "item") throws {
        let f = try JSONFields(json, path: path)
        self.init(name: try f.string("name"), sku: try f.string("sku"), rate: try f.decimal("rate"))
        description = try f.text("description")
        productType = try f.optionalString("product_type") ?? "goods"
        taxID = try f.optionalString("tax_id")
    }
}

extension ItemSpec {
    public func toJSON() -> JSON { ["sku": .string(sku), "draft": draft.toJSON()] }

    public init(json: JSON) throws {
        let f = try JSONFields(json, path: "item_spec")
        self.init(sku: try f.string("sku"), draft: try ItemDraft(json: try f.json("draft"), path: "item_spec.draft"))
    }
}

// MARK: Invoices

extension InvoiceSpec {
    public func toJSON() -> JSON {
        [
            "order_id": .int64(orderID),
            "invoice_number": .string(invoiceNumber),
            "reference_number": .string(referenceNumber),
            "contact_key": .string(contactKey),
            "date": .string(date),
            "currency_code": .string(currencyCode),
            "exchange_rate": .optionalDecimal(exchangeRate),
            "is_inclusive_tax": .bool(isInclusiveTax),
            "lines": LineSpec.toJSON(lines),
            "target_total": .money(targetTotal),
            "adjustment": .money(adjustment),
            "notes": .string(notes),
        ]
    }

    public init(json: JSON) throws {
        let f = try JSONFields(json, path: "invoice_spec")
        let lines = try f.array("lines").enumerated().map { try LineSpec(json: $1, path: "invoice_spec.lines[\($0)]") }
        self.init(orderID: try f.int64("order_id"), invoiceNumber: try f.string("invoice_number"),
                  referenceNumber: try f.text("reference_number"), contactKey: try f.string("contact_key"), date: try f.string("date"),
                  currencyCode: try f.string("currency_code"), exchangeRate: try f.optionalDecimal("exchange_rate"),
                  isInclusiveTax: try f.bool("is_inclusive_tax"), lines: lines, targetTotal: try f.decimal("target_total"),
                  adjustment: try f.decimal("adjustment"))
        notes = try f.text("notes")
    }

    /// The Zoho invoice to send, once the contact, items and taxes are known.
    ///
    /// - `itemIDs`: SKU → Zoho item id. A product line whose SKU is not in it (or that has no SKU) uses
    ///   `genericItemID`, or is sent item-less when that is nil. Shipping, handling, wrapping, fee and amount
    ///   lines are always item-less.
    /// - `taxIDs`: `rate.plainString` → Zoho tax. Callers resolve every rate of ``taxRates`` first; a rate
    ///   missing from the map leaves its line untaxed (and Zoho's total then differs from the prediction).
    public func resolve(customerID: String, itemIDs: [String: String], genericItemID: String?, taxIDs: [String: ZohoTax]) -> InvoiceDraft {
        var draft = InvoiceDraft(invoiceNumber: invoiceNumber, referenceNumber: referenceNumber, customerID: customerID,
                                 date: date, currencyCode: currencyCode)
        draft.exchangeRate = exchangeRate
        draft.isInclusiveTax = isInclusiveTax
        draft.lines = lines.map { $0.resolve(itemIDs: itemIDs, genericItemID: genericItemID, taxIDs: taxIDs, invoiceLineItemIDs: [:]) }
        draft.adjustment = adjustment
        draft.adjustmentDescription = adjustment == 0 ? ""
            : Reconciliation.isRounding(adjustment, target: targetTotal) ? InvoiceMapping.adjustmentDescription : InvoiceMapping.differenceDescription
        draft.notes = notes
        return draft
    }

    /// Distinct tax rates of the lines, ascending.
    public var taxRates: [Decimal] { LineSpec.taxRates(lines) }
}

extension LineSpec {
    static func taxRates(_ lines: [LineSpec]) -> [Decimal] {
        Array(Set(lines.compactMap { $0.taxRate }.filter { $0 != 0 })).sorted()
    }

    func resolve(itemIDs: [String: String], genericItemID: String?, taxIDs: [String: ZohoTax],
                 invoiceLineItemIDs: [Int64: String]) -> DocumentLine {
        var line = DocumentLine(name: name, rate: rate, quantity: quantity)
        if kind == .product {
            line.itemID = sku.flatMap { itemIDs[$0] } ?? genericItemID
        }
        line.description = description
        line.discountAmount = discountAmount
        if let rate = taxRate, rate != 0, let tax = taxIDs[rate.plainString] {
            line.taxID = tax.taxID
            line.taxPercentage = tax.percentage
        }
        line.productType = productType
        line.invoiceLineItemID = bcLineID.flatMap { invoiceLineItemIDs[$0] }
        return line
    }
}

// MARK: Payments

extension PaymentSpec {
    public func toJSON() -> JSON {
        [
            "order_id": .int64(orderID),
            "key": .string(key),
            "reference_number": .string(referenceNumber),
            "contact_key": .string(contactKey),
            "date": .string(date),
            "amount": .money(amount),
            "payment_mode": .string(paymentMode),
            "account": .optional(account),
            "exchange_rate": .optionalDecimal(exchangeRate),
            "description": .string(description),
        ]
    }

    public init(json: JSON) throws {
        let f = try JSONFields(json, path: "payment_spec")
        self.init(orderID: try f.int64("order_id"), key: try f.string("key"), referenceNumber: try f.string("reference_number"),
                  contactKey: try f.string("contact_key"), date: try f.string("date"), amount: try f.decimal("amount"),
                  paymentMode: try f.string("payment_mode"), account: try f.optionalString("account"),
                  exchangeRate: try f.optionalDecimal("exchange_rate"))
        description = try f.text("description")
    }

    /// The Zoho payment, applied in full to `invoiceID`. `accountID` is the resolved deposit account.
    public func resolve(customerID: String, invoiceID: String, accountID: String?) -> PaymentDraft {
        var draft = PaymentDraft(customerID: customerID, referenceNumber: referenceNumber, date: date, amount: amount,
                                 paymentMode: paymentMode, invoiceID: invoiceID)
        draft.accountID = accountID
        draft.exchangeRate = exchangeRate
        draft.description = description
        return draft
    }
}

// MARK: Credit notes

extension CreditNoteSpec {
    public func toJSON() -> JSON {
        [
            "refund_id": .int64(refundID),
            "order_id": .int64(orderID),
            "creditnote_number": .string(creditNoteNumber),
            "reference_number": .string(referenceNumber),
            "contact_key": .string(contactKey),
            "date": .string(date),
            "currency_code": .string(currencyCode),
            "exchange_rate": .optionalDecimal(exchangeRate),
            "is_inclusive_tax": .bool(isInclusiveTax),
            "lines": LineSpec.toJSON(lines),
            "target_total": .money(targetTotal),
            "adjustment": .money(adjustment),
            "refunded_amount": .money(refundedAmount),
            "refund_mode": .string(refundMode),
            "refund_account": .optional(refundAccount),
        ]
    }

    public init(json: JSON) throws {
        let f = try JSONFields(json, path: "creditnote_spec")
        let lines = try f.array("lines").enumerated().map { try LineSpec(json: $1, path: "creditnote_spec.lines[\($0)]") }
        self.init(refundID: try f.int64("refund_id"), orderID: try f.int64("order_id"), creditNoteNumber: try f.string("creditnote_number"),
                  referenceNumber: try f.text("reference_number"), contactKey: try f.string("contact_key"), date: try f.string("date"),
                  currencyCode: try f.string("currency_code"), exchangeRate: try f.optionalDecimal("exchange_rate"),
                  isInclusiveTax: try f.bool("is_inclusive_tax"), lines: lines, targetTotal: try f.decimal("target_total"),
                  adjustment: try f.decimal("adjustment"), refundedAmount: try f.decimal("refunded_amount"),
                  refundMode: try f.string("refund_mode"), refundAccount: try f.optionalString("refund_account"))
    }

    /// The Zoho credit note to send, linked to `invoiceID`. Product lines point at the invoice line they
    /// credit through `invoiceLineItemIDs` (BigCommerce order-product id → Zoho invoice `line_item_id`).
    /// Items and taxes resolve as in ``InvoiceSpec/resolve(customerID:itemIDs:genericItemID:taxIDs:)``.
    public func resolve(customerID: String, invoiceID: String?, itemIDs: [String: String], genericItemID: String?,
                        taxIDs: [String: ZohoTax], invoiceLineItemIDs: [Int64: String]) -> CreditNoteDraft {
        var draft = CreditNoteDraft(creditNoteNumber: creditNoteNumber, referenceNumber: referenceNumber, customerID: customerID,
                                    date: date, currencyCode: currencyCode)
        draft.exchangeRate = exchangeRate
        draft.isInclusiveTax = isInclusiveTax
        draft.invoiceID = invoiceID
        draft.lines = lines.map {
            $0.resolve(itemIDs: itemIDs, genericItemID: genericItemID, taxIDs: taxIDs, invoiceLineItemIDs: invoiceLineItemIDs)
        }
        draft.adjustment = adjustment
        return draft
    }

    /// Distinct tax rates of the lines, ascending.
    public var taxRates: [Decimal] { LineSpec.taxRates(lines) }
}
