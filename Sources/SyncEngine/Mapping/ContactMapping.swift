import Foundation

/// BigCommerce customers and guests → Zoho contacts.
///
/// Keys: a registered customer is `customer:<id>`; a guest (customer_id 0) is `guest:<lower-cased trimmed
/// billing email>`; a guest without any email is `guest:order-<order id>` (one contact per such order, since
/// nothing else identifies the shopper). A contact in a second currency gets the key suffix `|<CUR>` and the
/// display-name suffix ` (<CUR>)`, because a Zoho contact has exactly one currency.
public enum ContactMapping {
    /// Zoho field limits (UTF-16 units).
    public static let nameLimit = 200
    public static let attentionLimit = 100
    public static let emailLimit = 100
    public static let phoneLimit = 50

    // MARK: Keys

    /// `customer:<id>`.
    public static func baseKey(customer: BCCustomer) -> String { "customer:" + String(customer.id) }

    /// The key without a currency suffix: `customer:<id>`, `guest:<email>` or `guest:order-<id>`.
    public static func baseKey(order: BCOrder) -> String {
        baseKey(customerID: order.customerID, billingEmail: order.billingAddress.email, orderID: order.id)
    }

    /// ``baseKey(order:)`` from the three fields it reads.
    static func baseKey(customerID: Int64, billingEmail: String, orderID: Int64) -> String {
        if customerID != 0 { return EntityKey.key("customer:", customerID) }
        let email = normalizedEmail(billingEmail)
        return email.isEmpty ? EntityKey.key("guest:order-", orderID) : "guest:" + email
    }

    /// `base|currency`, built in one go.
    static func suffixed(_ base: String, currency: String) -> String {
        var key = String()
        key.reserveCapacity(base.utf8.count + 1 + currency.utf8.count)
        key += base
        key += "|"
        key += currency
        return key
    }

    /// `base` for the contact's first currency, `base|CUR` for any other.
    public static func key(base: String, currency: String, secondCurrency: Bool) -> String {
        secondCurrency ? base + "|" + currency.uppercased() : base
    }

    /// The key for an order when "first currency" means the organization's base currency: orders in the base
    /// currency use the plain key, orders in any other currency `base|CUR`. (The planner may instead treat the
    /// customer's first-seen currency as primary and call ``key(base:currency:secondCurrency:)`` itself.)
    public static func key(order: BCOrder, settings: MappingSettings) -> String {
        let currency = InvoiceMapping.currency(of: order, settings: settings)
        return key(base: baseKey(order: order), currency: currency, secondCurrency: currency != settings.baseCurrency.uppercased())
    }

    /// The currency suffix of a key (`customer:5|EUR` → `EUR`), nil for a plain key.
    public static func currencySuffix(of key: String) -> String? {
        // ASCII: characters are bytes ("|" never joins another character).
        let ascii: String?? = MappingText.withBytes(key) { bytes -> String?? in
            guard !bytes.contains(where: { $0 >= 0x80 }) else { return .none }
            guard let bar = bytes.lastIndex(of: UInt8(ascii: "|")) else { return .some(nil) }
            let suffix = UnsafeBufferPointer(rebasing: bytes[(bar + 1)...])
            return .some(suffix.isEmpty ? nil : String(decoding: suffix, as: UTF8.self))
        }
        if let ascii { return ascii }
        guard let bar = key.lastIndex(of: "|") else { return nil }
        let suffix = key[key.index(after: bar)...]
        return suffix.isEmpty ? nil : String(suffix)
    }

    // MARK: Specs

    /// A registered customer read from `/v3/customers`.
    public static func contactSpec(customer: BCCustomer, key: String, currency: String) -> ContactSpec {
        let address = customer.addresses.first
        let name = displayName(first: customer.firstName, last: customer.lastName, company: customer.company,
                               email: customer.email, fallback: "Customer \(customer.id)")
        var draft = ContactDraft(contactName: contactName(name, key: key), email: contactEmail(customer.email),
                                 currencyCode: MappingText.uppercased(currency))
        draft.companyName = MappingText.field(customer.company, limit: nameLimit)
        draft.firstName = MappingText.field(customer.firstName, limit: attentionLimit)
        draft.lastName = MappingText.field(customer.lastName, limit: attentionLimit)
        draft.phone = MappingText.field(customer.phone.isEmpty ? (address?.phone ?? "") : customer.phone, limit: phoneLimit)
        if let address {
            draft.billingAddress = zohoAddress(address)
            draft.shippingAddress = zohoAddress(customer.addresses.count > 1 ? customer.addresses[1] : address)
        }
        draft.notes = "BigCommerce customer \(customer.id)"
        return ContactSpec(key: key, draft: draft)
    }

    /// The contact for an order: the registered customer when `customer` is given (its data wins), else the
    /// order's billing address (guests, or a customer that was not read).
    public static func contactSpec(order: BCOrder, customer: BCCustomer?, key: String, currency: String) -> ContactSpec {
        if let customer, customer.id == order.customerID {
            var spec = contactSpec(customer: customer, key: key, currency: currency)
            if customer.addresses.isEmpty {
                spec.draft.billingAddress = zohoAddress(order.billingAddress)
                spec.draft.shippingAddress = zohoAddress(order.shipping?.first?.address ?? order.billingAddress)
                if spec.draft.phone.isEmpty { spec.draft.phone = MappingText.field(order.billingAddress.phone, limit: phoneLimit) }
            }
            return spec
        }
        let billing = order.billingAddress
        var name = displayName(first: billing.firstName, last: billing.lastName, company: billing.company,
                               email: billing.email, fallback: "")
        if name.isEmpty {
            // Nothing names the shopper.
            name = order.customerID != 0 ? "Customer " + String(order.customerID) : "Guest order " + String(order.id)
        }
        // Built in place, field by field.
        var spec = ContactSpec(key: key, draft: ContactDraft(contactName: contactName(name, key: key), email: contactEmail(billing.email),
                                                             currencyCode: MappingText.uppercased(currency)))
        spec.draft.companyName = MappingText.field(billing.company, limit: nameLimit)
        spec.draft.firstName = MappingText.field(billing.firstName, limit: attentionLimit)
        spec.draft.lastName = MappingText.field(billing.lastName, limit: attentionLimit)
        spec.draft.phone = MappingText.field(billing.phone, limit: phoneLimit)
        spec.draft.billingAddress = zohoAddress(billing)
        if let shipping = order.shipping?.first?.address, shipping != billing {
            spec.draft.shippingAddress = zohoAddress(shipping)
        } else {
            spec.draft.shippingAddress = spec.draft.billingAddress
        }
        if order.customerID != 0 {
            spec.draft.notes = "BigCommerce customer " + String(order.customerID)
        } else if normalizedEmail(billing.email).isEmpty {
            spec.draft.notes = "BigCommerce guest checkout, order \(order.id) (no email)"
        } else {
            spec.draft.notes = "BigCommerce guest checkout"
        }
        return spec
    }

    /// Convenience: the key from ``key(order:settings:)`` and the order's contact.
    public static func contactSpec(order: BCOrder, customer: BCCustomer? = nil, settings: MappingSettings) -> ContactSpec {
        contactSpec(order: order, customer: customer, key: key(order: order, settings: settings),
                    currency: InvoiceMapping.currency(of: order, settings: settings))
    }

    // MARK: Names

    /// `First Last`, else the company, else the email, else `fallback`; cleaned of control characters.
    public static func displayName(first: String, last: String, company: String, email: String = "", fallback: String) -> String {
        let person = MappingText.clean(MappingText.clean(first) + " " + MappingText.clean(last))
        if !person.isEmpty { return person }
        let company = MappingText.clean(company)
        if !company.isEmpty { return company }
        let email = normalizedEmail(email)
        return email.isEmpty ? fallback : email
    }

    /// The name to use when `name` is already taken by another Zoho contact: `Name (email)`, cutting the name,
    /// never the email, to fit 200 characters. Deterministic; with an empty email the name is returned as is.
    public static func disambiguated(name: String, email: String) -> String {
        let email = normalizedEmail(email)
        guard !email.isEmpty else { return MappingText.field(name, limit: nameLimit) }
        let suffix = " (" + MappingText.truncate(email, to: emailLimit) + ")"
        return MappingText.withSuffix(MappingText.clean(name), suffix, limit: nameLimit)
    }

    /// As ``disambiguated(name:email:)``; without an email the mapping key is the tie-breaker
    /// (`Name (guest:order-17)`).
    public static func disambiguated(name: String, email: String, key: String) -> String {
        if !normalizedEmail(email).isEmpty { return disambiguated(name: name, email: email) }
        return MappingText.withSuffix(MappingText.clean(name), " (" + MappingText.truncate(key, to: 100) + ")", limit: nameLimit)
    }

    /// Lower-cased, trimmed, control characters removed.
    public static func normalizedEmail(_ email: String) -> String {
        // Clean text without spaces or capitals is its own normal form.
        let normal = MappingText.withBytes(email) { bytes in
            MappingText.isClean(bytes) && !bytes.contains(where: { $0 == 0x20 || ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) })
        }
        if normal { return email }
        let cleaned = MappingText.clean(email)
        return (cleaned.utf8.contains(0x20) ? cleaned.replacingOccurrences(of: " ", with: "") : cleaned).lowercased()
    }

    /// The display name with the currency suffix the key asks for, within 200 characters.
    static func contactName(_ name: String, key: String) -> String {
        if let currency = currencySuffix(of: key) {
            return MappingText.withSuffix(name, " (\(currency))", limit: nameLimit)
        }
        return MappingText.truncate(name, to: nameLimit)
    }

    /// An email longer than Zoho's 100 characters cannot be stored; the contact is then created without one
    /// (the mapping key still carries the full address).
    static func contactEmail(_ email: String) -> String {
        let e = normalizedEmail(email)
        return e.utf16.count <= emailLimit ? e : ""
    }

    static func zohoAddress(_ a: BCAddress) -> ZohoAddress {
        var z = ZohoAddress()
        let person = MappingText.clean(MappingText.clean(a.firstName) + " " + MappingText.clean(a.lastName))
        z.attention = MappingText.truncate(person.isEmpty ? MappingText.clean(a.company) : person, to: attentionLimit)
        z.address = MappingText.field(a.street1, limit: 500)
        z.street2 = MappingText.field(a.street2, limit: 255)
        z.city = MappingText.field(a.city, limit: 100)
        z.state = MappingText.field(a.state, limit: 100)
        z.zip = MappingText.field(a.zip, limit: 50)
        z.country = MappingText.field(a.country, limit: 100)
        z.phone = MappingText.field(a.phone, limit: phoneLimit)
        return z
    }
}

extension ContactSpec {
    /// Hash of the mapped fields: the contact is updated in Zoho only when this changes.
    public var fingerprint: String { draft.canonicalFingerprint }
}
