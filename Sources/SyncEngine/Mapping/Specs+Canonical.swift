import Foundation

// The canonical JSON of every spec, written directly: the bytes `toJSON().serialized(sortedKeys: true)` gives
// (`Specs+JSON.swift` is the reference), so fingerprints are computed without building and sorting a JSON tree.
// Each writer lists the keys of its `toJSON()` in ascending order; a key added to `toJSON()` must be added here
// in its sorted place (the fingerprint tests compare the two for every spec kind).

extension LineSpec: CanonicalJSON {
    func writeCanonical(to w: inout CanonicalJSONWriter) {
        w.raw(#"{"bc_line_id":"#); w.optionalInt64(bcLineID)
        w.string(description, after: #","description":"#)
        w.money(discountAmount, after: #","discount_amount":"#)
        w.string(kind.rawValue, after: #","kind":"#)
        w.string(name, after: #","name":"#)
        w.string(productType, after: #","product_type":"#)
        w.money(quantity, after: #","quantity":"#)
        w.money(rate, after: #","rate":"#)
        w.raw(#","sku":"#); w.optionalString(sku)
        w.string(taxName, after: #","tax_name":"#)
        w.raw(#","tax_rate":"#); w.optionalMoney(taxRate)
        w.raw("}")
    }

    static func writeCanonical(_ lines: [LineSpec], to w: inout CanonicalJSONWriter) {
        w.raw("[")
        for i in lines.indices {
            if i > 0 { w.raw(",") }
            lines[i].writeCanonical(to: &w)
        }
        w.raw("]")
    }
}

extension ZohoAddress: CanonicalJSON {
    func writeCanonical(to w: inout CanonicalJSONWriter) {
        w.string(address, after: #"{"address":"#)
        w.string(attention, after: #","attention":"#)
        w.string(city, after: #","city":"#)
        w.string(country, after: #","country":"#)
        w.string(phone, after: #","phone":"#)
        w.string(state, after: #","state":"#)
        w.string(street2, after: #","street2":"#)
        w.string(zip, after: #","zip":"#)
        w.raw("}")
    }
}

extension ContactDraft: CanonicalJSON {
    func writeCanonical(to w: inout CanonicalJSONWriter) {
        w.raw(#"{"billing_address":"#)
        let billingStart = w.count
        billingAddress.writeCanonical(to: &w)
        let billing = billingStart..<w.count
        w.string(companyName, after: #","company_name":"#)
        w.string(contactName, after: #","contact_name":"#)
        w.string(currencyCode, after: #","currency_code":"#)
        w.string(email, after: #","email":"#)
        w.string(firstName, after: #","first_name":"#)
        w.string(lastName, after: #","last_name":"#)
        w.string(notes, after: #","notes":"#)
        w.string(phone, after: #","phone":"#)
        w.raw(#","shipping_address":"#)
        // Usually the same address: the same bytes.
        if shippingAddress == billingAddress { w.repeatBytes(billing) } else { shippingAddress.writeCanonical(to: &w) }
        w.raw("}")
    }
}

extension ContactSpec: CanonicalJSON {
    func writeCanonical(to w: inout CanonicalJSONWriter) {
        w.raw(#"{"draft":"#); draft.writeCanonical(to: &w)
        w.string(key, after: #","key":"#)
        w.raw("}")
    }
}

extension ItemDraft: CanonicalJSON {
    func writeCanonical(to w: inout CanonicalJSONWriter) {
        w.string(description, after: #"{"description":"#)
        w.string(name, after: #","name":"#)
        w.string(productType, after: #","product_type":"#)
        w.money(rate, after: #","rate":"#)
        w.string(sku, after: #","sku":"#)
        w.raw(#","tax_id":"#); w.optionalString(taxID)
        w.raw("}")
    }
}

extension ItemSpec: CanonicalJSON {
    func writeCanonical(to w: inout CanonicalJSONWriter) {
        w.raw(#"{"draft":"#); draft.writeCanonical(to: &w)
        w.string(sku, after: #","sku":"#)
        w.raw("}")
    }
}

extension InvoiceSpec: CanonicalJSON {
    func writeCanonical(to w: inout CanonicalJSONWriter) {
        w.money(adjustment, after: #"{"adjustment":"#)
        w.string(contactKey, after: #","contact_key":"#)
        w.string(currencyCode, after: #","currency_code":"#)
        w.string(date, after: #","date":"#)
        w.raw(#","exchange_rate":"#); w.optionalMoney(exchangeRate)
        w.string(invoiceNumber, after: #","invoice_number":"#)
        w.raw(#","is_inclusive_tax":"#); w.bool(isInclusiveTax)
        w.raw(#","lines":"#); LineSpec.writeCanonical(lines, to: &w)
        w.string(notes, after: #","notes":"#)
        w.raw(#","order_id":"#); w.int64(orderID)
        w.string(referenceNumber, after: #","reference_number":"#)
        w.money(targetTotal, after: #","target_total":"#)
        w.raw("}")
    }
}

extension PaymentSpec: CanonicalJSON {
    func writeCanonical(to w: inout CanonicalJSONWriter) {
        w.raw(#"{"account":"#); w.optionalString(account)
        w.money(amount, after: #","amount":"#)
        w.string(contactKey, after: #","contact_key":"#)
        w.string(date, after: #","date":"#)
        w.string(description, after: #","description":"#)
        w.raw(#","exchange_rate":"#); w.optionalMoney(exchangeRate)
        w.string(key, after: #","key":"#)
        w.raw(#","order_id":"#); w.int64(orderID)
        w.string(paymentMode, after: #","payment_mode":"#)
        w.string(referenceNumber, after: #","reference_number":"#)
        w.raw("}")
    }
}

extension CreditNoteSpec: CanonicalJSON {
    func writeCanonical(to w: inout CanonicalJSONWriter) {
        w.money(adjustment, after: #"{"adjustment":"#)
        w.string(contactKey, after: #","contact_key":"#)
        w.string(creditNoteNumber, after: #","creditnote_number":"#)
        w.string(currencyCode, after: #","currency_code":"#)
        w.string(date, after: #","date":"#)
        w.raw(#","exchange_rate":"#); w.optionalMoney(exchangeRate)
        w.raw(#","is_inclusive_tax":"#); w.bool(isInclusiveTax)
        w.raw(#","lines":"#); LineSpec.writeCanonical(lines, to: &w)
        w.raw(#","order_id":"#); w.int64(orderID)
        w.string(referenceNumber, after: #","reference_number":"#)
        w.raw(#","refund_account":"#); w.optionalString(refundAccount)
        w.raw(#","refund_id":"#); w.int64(refundID)
        w.string(refundMode, after: #","refund_mode":"#)
        w.money(refundedAmount, after: #","refunded_amount":"#)
        w.money(targetTotal, after: #","target_total":"#)
        w.raw("}")
    }
}

// MARK: JSON and fingerprint in one pass

// The planner needs both a spec's payload (`toJSON()`) and its fingerprint. `encoded()` gives the two from one
// pass: each number is formatted once, and its text serves both the JSON value and the canonical bytes. The result
// equals `(toJSON(), fingerprint)` (the tests compare them).

extension JSON {
    /// The text `JSON.optionalDecimal` gives a number (nil for nil: `null`).
    fileprivate static func numberText(_ value: Decimal?) -> String? { value.map(FixedPoint.plainString) }
}

extension LineSpec {
    /// `toJSON()`, writing the canonical bytes of the line to `w` on the way.
    func encode(into w: inout CanonicalJSONWriter) -> JSON {
        let lineID = bcLineID.map { String($0) }
        let discount = FixedPoint.plainString(discountAmount)
        let quantityText = FixedPoint.plainString(quantity)
        let rateText = FixedPoint.plainString(rate)
        let taxRateText = JSON.numberText(taxRate)
        if let lineID { w.number(lineID, after: #"{"bc_line_id":"#) } else { w.raw(#"{"bc_line_id":null"#) }
        w.string(description, after: #","description":"#)
        w.number(discount, after: #","discount_amount":"#)
        w.string(kind.rawValue, after: #","kind":"#)
        w.string(name, after: #","name":"#)
        w.string(productType, after: #","product_type":"#)
        w.number(quantityText, after: #","quantity":"#)
        w.number(rateText, after: #","rate":"#)
        w.raw(#","sku":"#); w.optionalString(sku)
        w.string(taxName, after: #","tax_name":"#)
        if let taxRateText { w.number(taxRateText, after: #","tax_rate":"#) } else { w.raw(#","tax_rate":null"#) }
        w.raw("}")
        return [
            "kind": .string(kind.rawValue),
            "sku": .optional(sku),
            "name": .string(name),
            "description": .string(description),
            "rate": .number(rateText),
            "quantity": .number(quantityText),
            "discount_amount": .number(discount),
            "tax_rate": taxRateText.map(JSON.number) ?? .null,
            "tax_name": .string(taxName),
            "product_type": .string(productType),
            "bc_line_id": lineID.map(JSON.number) ?? .null,
        ]
    }

    static func encode(_ lines: [LineSpec], into w: inout CanonicalJSONWriter) -> JSON {
        var array: [JSON] = []
        array.reserveCapacity(lines.count)
        w.raw("[")
        for i in lines.indices {
            if i > 0 { w.raw(",") }
            array.append(lines[i].encode(into: &w))
        }
        w.raw("]")
        return .array(array)
    }
}

extension InvoiceSpec {
    /// `(toJSON(), fingerprint)`, from one pass.
    func encoded() -> (json: JSON, fingerprint: String) {
        var w = CanonicalJSONWriter()
        let adjustmentText = FixedPoint.plainString(adjustment)
        let rateText = JSON.numberText(exchangeRate)
        let orderText = String(orderID)
        let targetText = FixedPoint.plainString(targetTotal)
        w.number(adjustmentText, after: #"{"adjustment":"#)
        w.string(contactKey, after: #","contact_key":"#)
        w.string(currencyCode, after: #","currency_code":"#)
        w.string(date, after: #","date":"#)
        if let rateText { w.number(rateText, after: #","exchange_rate":"#) } else { w.raw(#","exchange_rate":null"#) }
        w.string(invoiceNumber, after: #","invoice_number":"#)
        w.raw(#","is_inclusive_tax":"#); w.bool(isInclusiveTax)
        w.raw(#","lines":"#)
        let linesJSON = LineSpec.encode(lines, into: &w)
        w.string(notes, after: #","notes":"#)
        w.number(orderText, after: #","order_id":"#)
        w.string(referenceNumber, after: #","reference_number":"#)
        w.number(targetText, after: #","target_total":"#)
        w.raw("}")
        let json: JSON = [
            "order_id": .number(orderText),
            "invoice_number": .string(invoiceNumber),
            "reference_number": .string(referenceNumber),
            "contact_key": .string(contactKey),
            "date": .string(date),
            "currency_code": .string(currencyCode),
            "exchange_rate": rateText.map(JSON.number) ?? .null,
            "is_inclusive_tax": .bool(isInclusiveTax),
            "lines": linesJSON,
            "target_total": .number(targetText),
            "adjustment": .number(adjustmentText),
            "notes": .string(notes),
        ]
        return (json, w.sha256Hex)
    }
}

extension PaymentSpec {
    /// `(toJSON(), fingerprint)`, from one pass.
    func encoded() -> (json: JSON, fingerprint: String) {
        var w = CanonicalJSONWriter(capacity: 512)
        let amountText = FixedPoint.plainString(amount)
        let rateText = JSON.numberText(exchangeRate)
        let orderText = String(orderID)
        w.raw(#"{"account":"#); w.optionalString(account)
        w.number(amountText, after: #","amount":"#)
        w.string(contactKey, after: #","contact_key":"#)
        w.string(date, after: #","date":"#)
        w.string(description, after: #","description":"#)
        if let rateText { w.number(rateText, after: #","exchange_rate":"#) } else { w.raw(#","exchange_rate":null"#) }
        w.string(key, after: #","key":"#)
        w.number(orderText, after: #","order_id":"#)
        w.string(paymentMode, after: #","payment_mode":"#)
        w.string(referenceNumber, after: #","reference_number":"#)
        w.raw("}")
        let json: JSON = [
            "order_id": .number(orderText),
            "key": .string(key),
            "reference_number": .string(referenceNumber),
            "contact_key": .string(contactKey),
            "date": .string(date),
            "amount": .number(amountText),
            "payment_mode": .string(paymentMode),
            "account": .optional(account),
            "exchange_rate": rateText.map(JSON.number) ?? .null,
            "description": .string(description),
        ]
        return (json, w.sha256Hex)
    }
}

extension ItemSpec {
    /// `(toJSON(), fingerprint)`, from one pass.
    func encoded() -> (json: JSON, fingerprint: String) {
        var w = CanonicalJSONWriter(capacity: 512)
        let rateText = FixedPoint.plainString(draft.rate)
        w.string(draft.description, after: #"{"draft":{"description":"#)
        w.string(draft.name, after: #","name":"#)
        w.string(draft.productType, after: #","product_type":"#)
        w.number(rateText, after: #","rate":"#)
        w.string(draft.sku, after: #","sku":"#)
        w.raw(#","tax_id":"#); w.optionalString(draft.taxID)
        w.string(sku, after: #"},"sku":"#)
        w.raw("}")
        let draftJSON: JSON = ["name": .string(draft.name), "sku": .string(draft.sku), "rate": .number(rateText),
                               "description": .string(draft.description), "product_type": .string(draft.productType),
                               "tax_id": .optional(draft.taxID)]
        return (["sku": .string(sku), "draft": draftJSON], w.sha256Hex)
    }
}

extension ContactSpec {
    /// `(toJSON(), canonicalFingerprint)` (the whole spec's, key included), from one pass. Equal billing and
    /// shipping addresses (the common case) share their JSON.
    func encoded() -> (json: JSON, fingerprint: String) {
        var w = CanonicalJSONWriter()
        writeCanonical(to: &w)
        let billing = draft.billingAddress.toJSON()
        let shipping = draft.shippingAddress == draft.billingAddress ? billing : draft.shippingAddress.toJSON()
        let draftJSON: JSON = [
            "contact_name": .string(draft.contactName),
            "company_name": .string(draft.companyName),
            "first_name": .string(draft.firstName),
            "last_name": .string(draft.lastName),
            "email": .string(draft.email),
            "phone": .string(draft.phone),
            "currency_code": .string(draft.currencyCode),
            "billing_address": billing,
            "shipping_address": shipping,
            "notes": .string(draft.notes),
        ]
        return (["key": .string(key), "draft": draftJSON], w.sha256Hex)
    }
}
