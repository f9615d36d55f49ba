import Foundation

/// Organization facts the executor resolves lazily and caches in the mappings table so later runs make
/// no calls for them: taxes by rate (`tax:<rate>`), accounts by name (`account:<name>`), the generic item.
public actor OrgContext {
    private let sink: ZohoBooksSink
    private let store: MappingStore
    private let clock: SyncClock
    private let settings: MappingSettings
    private var taxesListed = false
    private var accountsListed = false

    public init(sink: ZohoBooksSink, store: MappingStore, clock: SyncClock, settings: MappingSettings) {
        self.sink = sink; self.store = store; self.clock = clock; self.settings = settings
    }

    /// The Zoho tax with exactly `rate` percent, created when missing and `taxes.mode = create`.
    public func tax(rate: Decimal, name: String) async throws -> ZohoTax {
        let key = "tax:" + rate.plainString
        if let m = try store.mapping(key) {
            return ZohoTax(taxID: m.zohoID, name: m.zohoNumber ?? name, percentage: rate)
        }
        if !taxesListed {
            let taxes = try await sink.taxes()
            taxesListed = true
            var records: [MappingRecord] = []
            var seen = Set<String>()
            for t in taxes where t.type != "compound_tax" {
                let k = "tax:" + t.percentage.plainString
                guard !seen.contains(k) else { continue }
                seen.insert(k)
                records.append(MappingRecord(entityKey: k, zohoID: t.taxID, zohoNumber: t.name, fingerprint: "",
                                             zohoStatus: "active", updatedAt: clock.now()))
            }
            try store.upsertMappings(records)
            if let m = try store.mapping(key) {
                return ZohoTax(taxID: m.zohoID, name: m.zohoNumber ?? name, percentage: rate)
            }
        }
        guard settings.taxMode == .create else {
            throw RemoteError.rejected(.zoho, status: 0, code: nil,
                message: "Zoho has no tax of \(rate.plainString)%; create one in Zoho Books or set taxes.mode = create")
        }
        let taxName = name.isEmpty ? "Tax \(rate.plainString)%" : name
        let created: ZohoTax
        do {
            created = try await sink.createTax(name: String(taxName.prefix(50)), percentage: rate)
        } catch RemoteError.duplicate {
            // The name is taken: by this rate's tax from an earlier create whose reply was lost (adopt it), or by a
            // tax of another rate (make the name carry the rate).
            if let same = try await sink.taxes().first(where: { $0.type != "compound_tax" && $0.percentage == rate }) {
                created = same
            } else {
                created = try await sink.createTax(name: "\(taxName.prefix(40)) \(rate.plainString)%", percentage: rate)
            }
        } catch {
            // The outcome may be unknown: list again before the next create.
            taxesListed = false
            throw error
        }
        try store.upsertMapping(MappingRecord(entityKey: key, zohoID: created.taxID, zohoNumber: created.name, fingerprint: "",
                                              zohoStatus: "active", updatedAt: clock.now()))
        return created
    }

    /// The account id for a configured account name or id (nil config → nil, Zoho's default).
    public func accountID(_ nameOrID: String?) async throws -> String? {
        guard let wanted = nameOrID?.trimmingCharacters(in: .whitespaces), !wanted.isEmpty else { return nil }
        let key = "account:" + wanted.lowercased()
        if let m = try store.mapping(key) { return m.zohoID }
        if !accountsListed {
            let accounts = try await sink.accounts()
            accountsListed = true
            if let a = accounts.first(where: { $0.accountID == wanted || $0.name.lowercased() == wanted.lowercased() }) {
                try store.upsertMapping(MappingRecord(entityKey: key, zohoID: a.accountID, zohoNumber: a.name, fingerprint: "",
                                                      zohoStatus: "active", updatedAt: clock.now()))
                return a.accountID
            }
        }
        throw RemoteError.rejected(.zoho, status: 0, code: nil,
            message: "Zoho has no account named \"\(wanted)\"; fix payments.account or refunds.account in zbsync.conf")
    }

    /// The account a credit-note refund is paid from: the configured one, else the organization's first bank
    /// account, else its first cash account (Zoho requires one; `doctor` shows which was chosen).
    public func refundAccountID(_ configured: String?) async throws -> String {
        if let id = try await accountID(configured) { return id }
        let key = "account:default-refund"
        if let m = try store.mapping(key) { return m.zohoID }
        let accounts = try await sink.accounts()
        guard let chosen = accounts.first(where: { $0.type == "bank" }) ?? accounts.first(where: { $0.type == "cash" }) else {
            throw RemoteError.rejected(.zoho, status: 0, code: nil,
                message: "Zoho has no bank or cash account to pay refunds from; create one or set refunds.account in zbsync.conf")
        }
        try store.upsertMapping(MappingRecord(entityKey: key, zohoID: chosen.accountID, zohoNumber: chosen.name, fingerprint: "",
                                              zohoStatus: "active", updatedAt: clock.now()))
        return chosen.accountID
    }

    /// SKU of the item used for lines whose product has no SKU or no item.
    public static let genericSKU = "ZBSYNC-GENERIC"

    /// The generic item's id (found by SKU or created once).
    public func genericItemID() async throws -> String {
        let key = EntityKey.sku(Self.genericSKU)
        if let m = try store.mapping(key) { return m.zohoID }
        let item: ZohoItem
        if let found = try await sink.items(sku: Self.genericSKU).first {
            item = found
        } else {
            var draft = ItemDraft(name: String(settings.genericItemName.prefix(100)), sku: Self.genericSKU, rate: 0)
            draft.productType = "goods"
            draft.description = "Lines from BigCommerce without a SKU"
            do {
                item = try await sink.createItem(draft)
            } catch RemoteError.duplicate {
                // Another item has that name: the generic item carries its SKU in its name instead.
                draft.name = ItemMapping.uniqueItemName(draft.name, sku: Self.genericSKU)
                item = try await sink.createItem(draft)
            }
        }
        try store.upsertMapping(MappingRecord(entityKey: key, zohoID: item.itemID, zohoNumber: item.name, fingerprint: "",
                                              zohoStatus: "active", updatedAt: clock.now()))
        return item.itemID
    }
}
