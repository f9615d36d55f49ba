import Foundation

/// The organization this home syncs to, resolved once and cached (in memory and in the session's `orgSettings`).
actor OrganizationContext {
    private(set) var organization: ZohoOrganization?
    private var inFlight: Task<ZohoOrganization, Error>?

    func resolve(_ work: @escaping @Sendable () async throws -> ZohoOrganization) async throws -> ZohoOrganization {
        if let organization { return organization }
        if let task = inFlight { return try await task.value }
        let task = Task { try await work() }
        inFlight = task
        defer { inFlight = nil }
        let value = try await task.value
        organization = value
        return value
    }

    func forget() { organization = nil }
}

extension ZohoBooksClient {
    /// The organization every call is made for. Resolved once per home: from the stored session when it matches
    /// `zoho.organization_id` (no call), else with `GET /organizations`, which must contain the configured id, or
    /// exactly one organization when none is configured (else ``ZohoConfigurationError``).
    public func organization() async throws -> ZohoOrganization {
        try await org.resolve { [self] in try await self.loadOrganization() }
    }

    /// Every organization the login can see (`GET /organizations`, no `organization_id`), for `doctor`.
    public func organizations() async throws -> [ZohoOrganization] {
        try await send(Call(method: "GET", path: "/organizations", needsOrganization: false)) { envelope in
            guard let rows = envelope["organizations"]?.array else {
                throw JSONError.field(path: "organizations", problem: "missing list")
            }
            return try rows.map(ZohoOrganization.init(zoho:))
        }
    }

    /// Forgets the cached organization, currencies, taxes and accounts; the next call reads them again.
    public func refreshOrganizationSettings() async throws {
        await org.forget()
        try await auth.updateOrganization(id: nil, settings: .null)
    }

    func organizationID() async throws -> String {
        try await organization().organizationID
    }

    private func loadOrganization() async throws -> ZohoOrganization {
        // The stored session as is: reading the cached organization needs no token request.
        let session = try await auth.storedSession()
        let configured = configuration.organizationID.flatMap { $0.isEmpty ? nil : $0 }
        if let session, let id = session.organizationID, configured == nil || configured == id,
           let cached = session.orgSettings["organization"], let o = try? ZohoOrganization(zoho: cached), o.organizationID == id {
            applyTimeZone(o)
            return o
        }
        let all = try await organizations()
        let chosen: ZohoOrganization
        if let configured {
            guard let o = all.first(where: { $0.organizationID == configured }) else {
                throw ZohoConfigurationError.organizationNotFound(configured, available: all)
            }
            chosen = o
        } else if all.count == 1 {
            chosen = all[0]
        } else if all.isEmpty {
            throw ZohoConfigurationError.noOrganization
        } else {
            throw ZohoConfigurationError.ambiguousOrganization(all)
        }
        var settings = JSONObject()
        if let session, session.organizationID == chosen.organizationID, let old = session.orgSettings.object { settings = old }
        settings["organization"] = chosen.zohoJSON
        try await auth.updateOrganization(id: chosen.organizationID, settings: .object(settings))
        applyTimeZone(chosen)
        logger.debug("zoho organization resolved", ["zoho.organization_id": chosen.organizationID])
        return chosen
    }

    private func applyTimeZone(_ o: ZohoOrganization) {
        if let zone = ZohoOrganization.timeZone(named: o.timeZone) { limiter.timeZone = zone }
    }

    // MARK: Settings cache (currencies, taxes, accounts)

    /// The cached list under `key` when it is younger than ``ZohoClientConfiguration/settingsCacheLifetime``.
    func cachedSettings(_ key: String) async throws -> [JSON]? {
        let id = try await organizationID()
        guard let session = try await auth.storedSession(), session.organizationID == id,
              let rows = session.orgSettings[key]?.array,
              let fetched = session.orgSettings["\(key)_fetched_at"]?.int else { return nil }
        let age = clock.now().timeIntervalSince1970 - Double(fetched)
        return age >= 0 && age < configuration.settingsCacheLifetime ? rows : nil
    }

    func storeSettings(_ key: String, _ rows: [JSON]) async throws {
        let id = try await organizationID()
        guard let session = try await auth.storedSession() else { return }
        var settings = session.orgSettings.object ?? JSONObject()
        settings[key] = .array(rows)
        settings["\(key)_fetched_at"] = .int(Int(clock.now().timeIntervalSince1970))
        try await auth.updateOrganization(id: id, settings: .object(settings))
    }
}

extension ZohoOrganization {
    /// Decodes an `organizations[]` row.
    init(zoho json: JSON) throws {
        self.init(organizationID: try ZohoField.id(json, "organization_id"),
                  name: ZohoField.string(json, "name"),
                  currencyCode: ZohoField.string(json, "currency_code"))
        currencyID = ZohoField.string(json, "currency_id")
        timeZone = ZohoField.string(json, "time_zone")
        pricePrecision = json["price_precision"]?.int ?? 2
        planName = ZohoField.string(json, "plan_name")
        taxRounding = json["tax_rounding"]?.string
        isDefault = json["is_default_org"]?.bool ?? false
    }

    /// The same fields in Zoho's shape (what the session cache stores).
    var zohoJSON: JSON {
        ["organization_id": .string(organizationID), "name": .string(name), "currency_code": .string(currencyCode),
         "currency_id": .string(currencyID), "time_zone": .string(timeZone), "price_precision": .int(pricePrecision),
         "plan_name": .string(planName), "is_default_org": .bool(isDefault), "tax_rounding": .optional(taxRounding)]
    }

    /// Zoho sends IANA names (`Asia/Kolkata`) or abbreviations (`PST`); nil when neither is known.
    static func timeZone(named name: String) -> TimeZone? {
        guard !name.isEmpty else { return nil }
        return TimeZone(identifier: name) ?? TimeZone(abbreviation: name)
    }
}
