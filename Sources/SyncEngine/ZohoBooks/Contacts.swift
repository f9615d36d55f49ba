import Foundation

// Contacts (`/contacts`): BigCommerce customers and guests become Zoho customers.

extension ZohoBooksClient {
    /// One page (200) of customer contacts, active and inactive.
    public func contactsPage(_ page: Int) async throws -> (contacts: [ZohoContact], hasMore: Bool) {
        let result = try await self.page(path: "/contacts", key: "contacts", page: page,
                                         query: [("contact_type", "customer"), ("filter_by", "Status.All")],
                                         decode: ZohoContact.init(zoho:))
        return (result.records, result.hasMore)
    }

    /// Contacts whose primary email equals `email`, compared case-insensitively on this side (Zoho's `email`
    /// filter matches loosely). Inactive contacts are included.
    public func contacts(email: String) async throws -> [ZohoContact] {
        let wanted = email.trimmingCharacters(in: .whitespaces).lowercased()
        guard !wanted.isEmpty else { return [] }
        let rows = try await all(path: "/contacts", key: "contacts",
                                 query: [("email", wanted), ("filter_by", "Status.All")], maxPages: 5,
                                 decode: ZohoContact.init(zoho:))
        return rows.filter { $0.email.lowercased() == wanted }
    }

    /// Contacts whose display name equals `name` exactly.
    public func contacts(name: String) async throws -> [ZohoContact] {
        guard !name.isEmpty else { return [] }
        let rows = try await all(path: "/contacts", key: "contacts",
                                 query: [("contact_name", name), ("filter_by", "Status.All")], maxPages: 5,
                                 decode: ZohoContact.init(zoho:))
        return rows.filter { $0.contactName == name }
    }

    /// `POST /contacts` with one primary contact person holding the email; `currency_id` comes from the code.
    /// A display name already in use throws `.duplicate(code: 3062)`.
    public func createContact(_ draft: ContactDraft) async throws -> ZohoContact {
        let currencyID = try await currencyID(for: draft.currencyCode)
        let body = draft.zohoJSON(currencyID: currencyID, contactPersonID: nil)
        return try await send(Call(method: "POST", path: "/contacts", body: body)) { envelope in
            try ZohoContact(zoho: try ZohoField.object(envelope, "contact"))
        }
    }

    /// `PUT /contacts/{id}`: name, company, addresses, notes and the primary person. The currency is not sent
    /// (Zoho refuses to change it once the contact has transactions). The primary person's id is read first so
    /// the update changes that person instead of adding another one.
    public func updateContact(id: String, _ draft: ContactDraft) async throws -> ZohoContact {
        let context = ["zoho.contact_id": id]
        let current = try await send(Call(method: "GET", path: "/contacts/\(ZohoQuery.encode(id))", logContext: context)) {
            try ZohoField.object($0, "contact")
        }
        let persons = current["contact_persons"]?.array ?? []
        let primary = persons.first(where: { $0["is_primary_contact"]?.bool == true }) ?? persons.first
        let personID = primary?["contact_person_id"]?.stringOrNumberText
        let body = draft.zohoJSON(currencyID: nil, contactPersonID: personID)
        return try await send(Call(method: "PUT", path: "/contacts/\(ZohoQuery.encode(id))", body: body, logContext: context)) {
            try ZohoContact(zoho: try ZohoField.object($0, "contact"))
        }
    }
}

extension ZohoAddress {
    var zohoJSON: JSON {
        ["attention": .string(attention), "address": .string(address), "street2": .string(street2), "city": .string(city),
         "state": .string(state), "zip": .string(zip), "country": .string(country), "phone": .string(phone)]
    }
}

extension ContactDraft {
    func zohoJSON(currencyID: String?, contactPersonID: String?) -> JSON {
        var person = JSONObject()
        if let contactPersonID { person["contact_person_id"] = .string(contactPersonID) }
        person["first_name"] = .string(firstName)
        person["last_name"] = .string(lastName)
        person["email"] = .string(email)
        person["phone"] = .string(phone)
        person["is_primary_contact"] = true
        var o = JSONObject()
        o["contact_name"] = .string(contactName)
        if !companyName.isEmpty { o["company_name"] = .string(companyName) }
        o["contact_type"] = "customer"
        if let currencyID { o["currency_id"] = .string(currencyID) }
        o["billing_address"] = billingAddress.zohoJSON
        o["shipping_address"] = shippingAddress.zohoJSON
        o["contact_persons"] = .array([.object(person)])
        if !notes.isEmpty { o["notes"] = .string(notes) }
        return .object(o)
    }
}

extension ZohoContact {
    /// Decodes a `contact` or a `contacts[]` row. The primary person's email is repeated at the top level in list
    /// rows; a full record may carry it only in `contact_persons`.
    init(zoho json: JSON) throws {
        self.init(contactID: try ZohoField.id(json, "contact_id"), contactName: ZohoField.string(json, "contact_name"))
        var mail = ZohoField.string(json, "email")
        if mail.isEmpty, let persons = json["contact_persons"]?.array {
            let primary = persons.first(where: { $0["is_primary_contact"]?.bool == true }) ?? persons.first
            mail = primary.map { ZohoField.string($0, "email") } ?? ""
        }
        email = mail
        currencyCode = ZohoField.string(json, "currency_code")
        status = ZohoField.string(json, "status")
    }
}
