import Foundation

// Taxes (`/settings/taxes`), currencies (`/settings/currencies`) and the chart of accounts (`/chartofaccounts`).
// All three change rarely: they are cached in the session's `orgSettings` for a day, so a run that has nothing to
// do makes no call for them.

extension ZohoBooksClient {
    /// The organization's taxes (tax groups included), cached.
    public func taxes() async throws -> [ZohoTax] {
        if let rows = try await cachedSettings("taxes") { return try rows.map(ZohoTax.init(zoho:)) }
        let rows = try await all(path: "/settings/taxes", key: "taxes", query: []) { $0 }
        let taxes = try rows.map(ZohoTax.init(zoho:))
        try await storeSettings("taxes", taxes.map(\.zohoJSON))
        return taxes
    }

    /// `POST /settings/taxes` (a simple tax). The new tax is added to the cache.
    public func createTax(name: String, percentage: Decimal) async throws -> ZohoTax {
        let body: JSON = ["tax_name": .string(name), "tax_percentage": .decimal(percentage), "tax_type": "tax"]
        let tax = try await send(Call(method: "POST", path: "/settings/taxes", body: body)) { envelope in
            try ZohoTax(zoho: try ZohoField.object(envelope, "tax"))
        }
        if let rows = try await cachedSettings("taxes") {
            try await storeSettings("taxes", rows + [tax.zohoJSON])
        }
        return tax
    }

    /// The organization's currencies (base currency included), cached.
    public func currencies() async throws -> [ZohoCurrency] {
        if let rows = try await cachedSettings("currencies") { return try rows.map(ZohoCurrency.init(zoho:)) }
        return try await fetchCurrencies()
    }

    private func fetchCurrencies() async throws -> [ZohoCurrency] {
        let rows = try await all(path: "/settings/currencies", key: "currencies", query: []) { $0 }
        let currencies = try rows.map(ZohoCurrency.init(zoho:))
        try await storeSettings("currencies", currencies.map(\.zohoJSON))
        return currencies
    }

    /// The `currency_id` of an ISO code. A code missing from the cache is looked up once more (the merchant may
    /// have just enabled it); still missing → `.rejected` with Zoho's code 9004.
    func currencyID(for code: String) async throws -> String {
        let wanted = code.uppercased()
        if let c = try await currencies().first(where: { $0.currencyCode.uppercased() == wanted }) { return c.currencyID }
        if let c = try await fetchCurrencies().first(where: { $0.currencyCode.uppercased() == wanted }) { return c.currencyID }
        throw RemoteError.rejected(.zoho, status: 400, code: 9004,
                                   message: "currency \(wanted) is not enabled in the Zoho organization (Settings → Currencies)")
    }

    /// The chart of accounts (to pick deposit and refund accounts), cached.
    public func accounts() async throws -> [ZohoAccount] {
        if let rows = try await cachedSettings("accounts") { return try rows.map(ZohoAccount.init(zoho:)) }
        let rows = try await all(path: "/chartofaccounts", key: "chartofaccounts", query: []) { $0 }
        let accounts = try rows.map(ZohoAccount.init(zoho:))
        try await storeSettings("accounts", accounts.map(\.zohoJSON))
        return accounts
    }
}

extension ZohoTax {
    init(zoho json: JSON) throws {
        self.init(taxID: try ZohoField.id(json, "tax_id"), name: ZohoField.string(json, "tax_name"),
                  percentage: try ZohoField.money(json, "tax_percentage"))
        let t = ZohoField.string(json, "tax_type")
        if !t.isEmpty { type = t }
    }

    var zohoJSON: JSON {
        ["tax_id": .string(taxID), "tax_name": .string(name), "tax_percentage": .decimal(percentage), "tax_type": .string(type)]
    }
}

extension ZohoCurrency {
    init(zoho json: JSON) throws {
        self.init(currencyID: try ZohoField.id(json, "currency_id"),
                  currencyCode: try ZohoField.requiredString(json, "currency_code"))
        isBase = json["is_base_currency"]?.bool ?? false
    }

    var zohoJSON: JSON {
        ["currency_id": .string(currencyID), "currency_code": .string(currencyCode), "is_base_currency": .bool(isBase)]
    }
}

extension ZohoAccount {
    init(zoho json: JSON) throws {
        self.init(accountID: try ZohoField.id(json, "account_id"), name: ZohoField.string(json, "account_name"),
                  type: ZohoField.string(json, "account_type"))
    }

    var zohoJSON: JSON {
        ["account_id": .string(accountID), "account_name": .string(name), "account_type": .string(type)]
    }
}
