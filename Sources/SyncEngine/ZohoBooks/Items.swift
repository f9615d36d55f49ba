import Foundation

// Items (`/items`, scope `ZohoBooks.settings.*`): BigCommerce products by SKU.

extension ZohoBooksClient {
    /// Zoho's limit on item names.
    public static let itemNameLimit = 100

    /// One page (200) of items, active and inactive.
    public func itemsPage(_ page: Int) async throws -> (items: [ZohoItem], hasMore: Bool) {
        let result = try await self.page(path: "/items", key: "items", page: page, query: [("filter_by", "Status.All")],
                                         decode: ZohoItem.init(zoho:))
        return (result.records, result.hasMore)
    }

    /// Items whose SKU equals `sku` exactly (the `sku` filter is not in Zoho's spec, so the match is re-checked here).
    public func items(sku: String) async throws -> [ZohoItem] {
        guard !sku.isEmpty else { return [] }
        let rows = try await all(path: "/items", key: "items", query: [("sku", sku), ("filter_by", "Status.All")], maxPages: 5,
                                 decode: ZohoItem.init(zoho:))
        return rows.filter { $0.sku == sku }
    }

    /// `POST /items`. The name is cut to 100 characters (Zoho's limit); a name already in use throws
    /// `.duplicate(code: 1000)`.
    public func createItem(_ draft: ItemDraft) async throws -> ZohoItem {
        var o = JSONObject()
        o["name"] = .string(String(draft.name.prefix(Self.itemNameLimit)))
        o["rate"] = .decimal(draft.rate)
        if !draft.sku.isEmpty { o["sku"] = .string(draft.sku) }
        if !draft.description.isEmpty { o["description"] = .string(draft.description) }
        o["product_type"] = .string(draft.productType)
        if let tax = draft.taxID { o["tax_id"] = .string(tax) }
        return try await send(Call(method: "POST", path: "/items", body: .object(o))) { envelope in
            try ZohoItem(zoho: try ZohoField.object(envelope, "item"))
        }
    }
}

extension ZohoItem {
    init(zoho json: JSON) throws {
        self.init(itemID: try ZohoField.id(json, "item_id"), name: ZohoField.string(json, "name"))
        sku = ZohoField.string(json, "sku")
        rate = try ZohoField.money(json, "rate")
        let s = ZohoField.string(json, "status")
        if !s.isEmpty { status = s }
    }
}
