import Foundation

/// Order lines → Zoho items to create when their SKU is not in Zoho yet (DESIGN §4 "Item").
///
/// Only lines with a SKU become items. A line without one keeps `sku = nil` on the invoice and is resolved at
/// push time to the generic item or an item-less line (`items.missing`); it is never dropped.
public enum ItemMapping {
    public static let nameLimit = 100

    /// The item for one order line; nil when the line has no SKU.
    ///
    /// Name: the product name plus ` (SKU)` (cutting the name, never the SKU, to fit 100 characters). Zoho item
    /// names must be unique and BigCommerce variants share a product name, so the SKU is added by default; pass
    /// `qualifyName: false` when the caller knows the bare name is free. Rate: the unit price in the store's
    /// basis of the invoice (ex-tax, or inc-tax for tax-inclusive stores outside `single-line` mode). Type: `goods` for physical products, `service` for
    /// digital products and gift certificates.
    public static func itemSpec(product p: BCOrderProduct, isTaxInclusive: Bool, qualifyName: Bool = true) -> ItemSpec? {
        guard let sku = OrderLines.sku(p) else { return nil }
        var base = MappingText.clean(p.name)
        if base.isEmpty { base = "Product" }
        let name: String
        if qualifyName && !contains(base, sku) {
            name = MappingText.withSuffix(base, " (" + sku + ")", limit: nameLimit)
        } else {
            name = MappingText.truncate(base, to: nameLimit)
        }
        var draft = ItemDraft(name: name, sku: sku, rate: (isTaxInclusive ? p.priceIncTax : p.priceExTax).bcMoney)
        draft.productType = p.type == "physical" ? "goods" : "service"
        if !p.options.isEmpty {
            let options = p.options.map(MappingText.clean).filter { !$0.isEmpty }
            draft.description = MappingText.truncate(options.joined(separator: ", "), to: 2000)
        }
        return ItemSpec(sku: sku, draft: draft)
    }

    /// `text.contains(part)` (Foundation's search); for clean ASCII texts, whose characters are single bytes,
    /// a byte search finds the same.
    static func contains(_ text: String, _ part: String) -> Bool {
        let found: Bool? = MappingText.withBytes(text) { t in
            MappingText.withBytes(part) { p -> Bool? in
                guard MappingText.isClean(t), MappingText.isClean(p), !p.isEmpty else { return nil }
                guard p.count <= t.count else { return false }
                for start in 0...(t.count - p.count) where t[start] == p[0] {
                    if UnsafeBufferPointer(rebasing: t[start..<(start + p.count)]).elementsEqual(p) { return true }
                }
                return false
            }
        }
        return found ?? text.contains(part)
    }

    /// Items for every invoiced line of the order that has a SKU, first occurrence of each SKU, in line order.
    /// Bundle children folded into their parent's line are left out.
    public static func itemSpecs(order: BCOrder, settings: MappingSettings) -> [ItemSpec] {
        guard order.products != nil, let ctx = try? OrderLines.make(order: order, settings: settings) else {
            return (order.products ?? []).compactMap { itemSpec(product: $0, isTaxInclusive: order.isTaxInclusivePricing) }
        }
        var seen = Set<String>()
        var out: [ItemSpec] = []
        for p in ctx.invoicedProducts {
            guard let spec = itemSpec(product: p, isTaxInclusive: ctx.documentInclusive), !seen.contains(spec.sku) else { continue }
            seen.insert(spec.sku)
            out.append(spec)
        }
        return out
    }

    /// The item for an invoice line's SKU, looked up in the order (nil for lines without a SKU).
    public static func itemSpec(line: LineSpec, order: BCOrder, settings: MappingSettings) -> ItemSpec? {
        guard let sku = line.sku else { return nil }
        return itemSpec(sku: sku, kind: line.kind, bcLineID: line.bcLineID, order: order, settings: settings)
    }

    /// ``itemSpec(line:order:settings:)`` from the line's SKU, kind and order-product id.
    static func itemSpec(sku: String, kind: LineKind, bcLineID: Int64?, order: BCOrder, settings: MappingSettings) -> ItemSpec? {
        guard kind == .product, let products = order.products else { return nil }
        let documentInclusive = order.isTaxInclusivePricing && settings.taxMode != .singleLine
        if let id = bcLineID, let i = products.firstIndex(where: { $0.id == id }) {
            return itemSpec(product: products[i], isTaxInclusive: documentInclusive)
        }
        guard let i = products.firstIndex(where: { OrderLines.sku($0) == sku }) else { return nil }
        return itemSpec(product: products[i], isTaxInclusive: documentInclusive)
    }

    /// Another name for an item whose name Zoho says is taken (by an item with another SKU):
    /// `<name> - SKU <sku>`, cutting the name, never the SKU, to fit 100 characters.
    public static func uniqueItemName(_ name: String, sku: String) -> String {
        var base = MappingText.clean(name)
        let qualified = " (\(sku))"
        if base.hasSuffix(qualified) { base.removeLast(qualified.count) }
        return MappingText.withSuffix(base, " - SKU \(sku)", limit: nameLimit)
    }
}
