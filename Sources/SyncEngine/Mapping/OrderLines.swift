import Foundation

/// The tax rate chosen for one line, and the name a Zoho tax created for it should get.
struct TaxChoice: Equatable {
    var rate: Decimal?
    var name: String

    static let untaxed = TaxChoice(rate: nil, name: "")
}

/// Tax rows of an order (`/taxes?details=true`), indexed for line lookups.
struct OrderTaxIndex {
    let rows: [BCOrderTax]

    init(rows: [BCOrderTax]) { self.rows = rows }

    static let snapTolerance = Decimal(sign: .plus, exponent: -3, significand: 5)

    /// Rates seen on the order (single rows and combined groups): the values a derived rate is snapped to.
    var candidates: [Decimal] {
        var set = Set<Decimal>()
        for r in rows where r.rate > 0 { set.insert(r.rate) }
        var groups: [String: Decimal] = [:]
        var byAddress: [Int64: Decimal] = [:]
        for r in rows {
            groups["\(Self.type(of: r))|\(r.orderProductID ?? -1)|\(r.orderAddressID ?? -1)", default: 0] += r.rate
            if r.lineItemType == nil { byAddress[r.orderAddressID ?? -1, default: 0] += r.rate }
        }
        for v in groups.values where v > 0 { set.insert(v) }
        for v in byAddress.values where v > 0 { set.insert(v) }
        return set.sorted()
    }

    /// `item`, `shipping`, `handling`, `gift-wrapping` (nil type = a row read without details).
    static func type(of row: BCOrderTax) -> String {
        switch row.lineItemType {
        case nil: return ""
        case "item", "shipping", "handling", "gift-wrapping": return row.lineItemType!
        case let other?: return other.lowercased().replacingOccurrences(of: "_", with: "-")
        }
    }

    func itemRows(orderProductID: Int64) -> [BCOrderTax] {
        rows.filter { $0.orderProductID == orderProductID && (Self.type(of: $0) == "item" || Self.type(of: $0).isEmpty) }
    }

    /// Rows of `type`; with an address id, rows of other addresses are left out (rows without one stay).
    func rows(type: String, orderAddressID: Int64?) -> [BCOrderTax] {
        rows.filter { r in
            guard Self.type(of: r) == type else { return false }
            guard let want = orderAddressID, let have = r.orderAddressID else { return true }
            return want == have
        }
    }

    func giftWrappingRows(orderProductID: Int64?) -> [BCOrderTax] {
        rows.filter { r in
            guard Self.type(of: r) == "gift-wrapping" else { return false }
            guard let want = orderProductID, let have = r.orderProductID else { return true }
            return want == have
        }
    }

    /// The line's rate: the sum of the rates of the rows that apply to it (several rows on one line, e.g. state +
    /// county, add up to one combined rate). When the rows disagree or are missing but the line carries tax, the
    /// rate is derived from BigCommerce's amounts (`tax / base`): snapped to a rate seen on the order when one
    /// reproduces the tax to the cent, else rounded to 4 decimals. A zero rate is an untaxed line.
    func choose(rows matched: [BCOrderTax], tax: Decimal, base: Decimal) -> TaxChoice {
        if let rate = Self.combinedRate(matched), rate > 0 {
            var names: [String] = []
            for r in matched where r.rate > 0 {
                let n = MappingText.clean(r.name)
                if !n.isEmpty, !names.contains(n) { names.append(n) }
            }
            return TaxChoice(rate: rate, name: names.isEmpty ? Self.defaultName(rate) : names.joined(separator: " + "))
        }
        guard let rate = derive(tax: tax, base: base) else { return .untaxed }
        return TaxChoice(rate: rate, name: Self.defaultName(rate))
    }

    /// Rows grouped per (line, address); each group's rates summed; one value when all groups agree.
    static func combinedRate(_ rows: [BCOrderTax]) -> Decimal? {
        guard let first = rows.first else { return nil }
        if rows.allSatisfy({ $0.orderProductID == first.orderProductID && $0.orderAddressID == first.orderAddressID }) {
            return rows.dropFirst().reduce(first.rate) { $0 + $1.rate }
        }
        var groups: [String: Decimal] = [:]
        for r in rows { groups["\(r.orderProductID ?? -1)|\(r.orderAddressID ?? -1)", default: 0] += r.rate }
        let distinct = Set(groups.values)
        return distinct.count == 1 ? distinct.first : nil
    }

    func derive(tax: Decimal, base: Decimal) -> Decimal? {
        guard !tax.isZero, !base.isZero else { return nil }
        var best: (rate: Decimal, error: Decimal)? = nil
        for c in candidates {
            let error = abs(base * c / 100 - tax)
            if error <= Self.snapTolerance, best == nil || error < best!.error { best = (c, error) }
        }
        if let best { return best.rate }
        let rate = (tax / base * 100).rounded(scale: 4)
        return rate > 0 ? rate : nil
    }

    static func defaultName(_ rate: Decimal) -> String { "Tax \(rate.plainString)%" }
}

/// Builds the document lines of one order. Shared by invoices and credit notes so a refunded line gets the
/// same rate, discount basis and tax as the invoiced one.
///
/// Money basis: the document is tax-inclusive exactly when the store prices include tax and the tax mode is
/// not `single-line` (a single tax line only adds up on a tax-exclusive document). Rates are BigCommerce's
/// 4-decimal unit prices in that basis.
struct OrderLines {
    let order: BCOrder
    let settings: MappingSettings
    let products: [BCOrderProduct]
    let productsByID: [Int64: BCOrderProduct]
    /// Bundle children by parent id (only children whose parent is on the order).
    let children: [Int64: [BCOrderProduct]]
    let taxes: OrderTaxIndex
    let storeInclusive: Bool
    let documentInclusive: Bool
    let singleLine: Bool

    static let nameLimit = 100
    static let descriptionLimit = 2000

    /// Throws when the lines are needed but were not loaded, or the order has tax but its rows were not loaded.
    init(order: BCOrder, settings: MappingSettings, requireProducts: Bool = true, requireTaxes: Bool = true) throws {
        guard let products = order.products ?? (requireProducts ? nil : []) else {
            throw MappingProblem.order(order.id, "order lines were not loaded")
        }
        self.order = order
        self.settings = settings
        self.products = products
        var byID: [Int64: BCOrderProduct] = [:]
        for p in products where byID[p.id] == nil { byID[p.id] = p }
        productsByID = byID
        var children: [Int64: [BCOrderProduct]] = [:]
        for p in products {
            if let parent = p.parentOrderProductID, byID[parent] != nil, parent != p.id { children[parent, default: []].append(p) }
        }
        self.children = children
        singleLine = settings.taxMode == .singleLine
        if requireTaxes, order.taxes == nil, order.totalTax != 0, !singleLine {
            throw MappingProblem.order(order.id, "tax rows were not loaded although the order has \(order.totalTax.centsString) tax")
        }
        taxes = OrderTaxIndex(rows: order.taxes ?? [])
        storeInclusive = order.isTaxInclusivePricing
        documentInclusive = order.isTaxInclusivePricing && !singleLine
    }

    /// `inc` or `ex` as the document's basis asks.
    func money(ex: Decimal, inc: Decimal) -> Decimal { (documentInclusive ? inc : ex).bcMoney }

    // MARK: Products

    /// True for a bundle child whose parent is on the order and carries the price (the child is described on
    /// the parent's line instead of getting its own). When the parent has no price of its own, children keep
    /// their lines so no money is lost.
    func isFoldedIntoParent(_ p: BCOrderProduct) -> Bool {
        guard let parentID = p.parentOrderProductID, parentID != p.id, let parent = productsByID[parentID] else { return false }
        return !Self.isUnpricedParent(parent, children: children[parentID] ?? [])
    }

    static func isUnpricedParent(_ parent: BCOrderProduct, children: [BCOrderProduct]) -> Bool {
        parent.totalExTax == 0 && parent.totalIncTax == 0 && parent.priceExTax == 0 && parent.priceIncTax == 0
            && children.contains { $0.totalExTax != 0 || $0.totalIncTax != 0 }
    }

    /// Products that become invoice lines, in order.
    var invoicedProducts: [BCOrderProduct] { products.filter { !isFoldedIntoParent($0) } }

    func productTax(_ p: BCOrderProduct) -> TaxChoice {
        let base = p.priceExTax != 0 ? p.priceExTax : p.totalExTax
        let tax = p.priceExTax != 0 ? p.priceTax : p.totalTax
        return taxes.choose(rows: taxes.itemRows(orderProductID: p.id), tax: tax, base: base)
    }

    /// The whole line's discount in the document basis, rounded to cents.
    ///
    /// BigCommerce's `applied_discounts` amounts (coupons, manual and automatic discounts) are in the store's
    /// price basis: ex-tax for tax-exclusive stores, inc-tax for tax-inclusive ones. Without them, the
    /// difference between `total_inc_tax` and `discounted_total_inc_tax` is used (converted to ex-tax with the
    /// line's rate for exclusive stores). When the document basis differs from the store basis (inclusive
    /// store, `single-line` mode) the discount is converted with the line's rate.
    func lineDiscount(_ p: BCOrderProduct, taxRate: Decimal?) -> Decimal {
        let rate = taxRate ?? 0
        var discount: Decimal
        if !p.appliedDiscounts.isEmpty {
            discount = p.appliedDiscounts.reduce(Decimal(0)) { $0 + $1.amount }
        } else if let discounted = p.discountedTotalIncTax, discounted < p.totalIncTax {
            let inc = p.totalIncTax - discounted
            discount = storeInclusive ? inc : inc * 100 / (100 + rate)
        } else {
            discount = 0
        }
        if storeInclusive && !documentInclusive {
            discount = discount * 100 / (100 + rate)
        }
        return discount.cents
    }

    func productName(_ p: BCOrderProduct) -> String {
        let name = MappingText.field(p.name, limit: Self.nameLimit)
        if !name.isEmpty { return name }
        let sku = MappingText.clean(p.sku)
        return sku.isEmpty ? "Product \(p.productID)" : MappingText.truncate("Product \(sku)", to: Self.nameLimit)
    }

    func productDescription(_ p: BCOrderProduct) -> String {
        var parts: [String] = []
        let options = p.options.map(MappingText.clean).filter { !$0.isEmpty }
        if !options.isEmpty { parts.append(options.joined(separator: ", ")) }
        let folded = (children[p.id] ?? []).filter(isFoldedIntoParent)
        if !folded.isEmpty {
            let names = folded.map { c -> String in
                let n = MappingText.clean(c.name)
                return c.quantity == 1 ? n : "\(n) × \(c.quantity.plainString)"
            }
            parts.append("Includes: " + names.joined(separator: ", "))
        }
        return MappingText.truncate(parts.joined(separator: "; "), to: Self.descriptionLimit)
    }

    static func sku(_ p: BCOrderProduct) -> String? {
        let s = MappingText.clean(p.sku)
        return s.isEmpty ? nil : s
    }

    static func lineProductType(_ p: BCOrderProduct) -> String { p.type == "physical" ? "goods" : "services" }

    /// The invoice line of one product.
    func productLine(_ p: BCOrderProduct) throws -> LineSpec {
        guard p.quantity > 0 else {
            throw MappingProblem.order(order.id, "line \(p.id) has quantity \(p.quantity.plainString)")
        }
        let tax = productTax(p)
        var line = LineSpec(kind: .product, sku: Self.sku(p), name: productName(p),
                            rate: money(ex: p.priceExTax, inc: p.priceIncTax), quantity: p.quantity,
                            taxRate: singleLine ? nil : tax.rate)
        line.description = productDescription(p)
        line.discountAmount = lineDiscount(p, taxRate: tax.rate)
        line.taxName = singleLine ? "" : tax.name
        line.productType = Self.lineProductType(p)
        line.bcLineID = p.id
        return line
    }

    // MARK: Shipping, handling, wrapping, fees

    /// Shipping destinations to turn into lines: per address when the addresses are loaded and add up to the
    /// order-level amount, else nil (use the order-level amount).
    func perAddress(_ amount: (BCShipping) -> (ex: Decimal, inc: Decimal), orderLevel: (ex: Decimal, inc: Decimal)) -> [BCShipping]? {
        guard let ships = order.shipping, !ships.isEmpty else { return nil }
        let sumEx = ships.reduce(Decimal(0)) { $0 + amount($1).ex }
        let sumInc = ships.reduce(Decimal(0)) { $0 + amount($1).inc }
        guard sumEx == orderLevel.ex, sumInc == orderLevel.inc else { return nil }
        return ships
    }

    func chargeLine(kind: LineKind, name: String, description: String = "", ex: Decimal, inc: Decimal, tax: Decimal,
                    rows: [BCOrderTax]) -> LineSpec? {
        guard !ex.isZero || !inc.isZero else { return nil }
        let choice = taxes.choose(rows: rows, tax: tax, base: ex)
        var line = LineSpec(kind: kind, sku: nil, name: MappingText.truncate(name, to: Self.nameLimit),
                            rate: money(ex: ex, inc: inc), quantity: 1, taxRate: singleLine ? nil : choice.rate)
        line.description = MappingText.truncate(description, to: Self.descriptionLimit)
        line.taxName = singleLine ? "" : choice.name
        line.productType = "services"
        return line
    }

    func shippingName(_ method: String) -> String {
        let m = MappingText.clean(method)
        return m.isEmpty ? "Shipping" : "Shipping: " + m
    }

    func addressSummary(_ a: BCAddress) -> String {
        [MappingText.clean(a.firstName + " " + a.lastName), MappingText.clean(a.city), MappingText.clean(a.zip)]
            .filter { !$0.isEmpty }.joined(separator: ", ")
    }

    func shippingLines() -> [LineSpec] {
        let orderLevel = (ex: order.shippingCostExTax, inc: order.shippingCostIncTax)
        if let ships = perAddress({ ($0.costExTax, $0.costIncTax) }, orderLevel: orderLevel) {
            let many = ships.count > 1
            return ships.compactMap { s in
                chargeLine(kind: .shipping, name: shippingName(s.method), description: many ? addressSummary(s.address) : "",
                           ex: s.costExTax, inc: s.costIncTax, tax: s.costTax,
                           rows: taxes.rows(type: "shipping", orderAddressID: many ? s.id : nil))
            }
        }
        let method = order.shipping?.count == 1 ? order.shipping![0].method : ""
        return [chargeLine(kind: .shipping, name: shippingName(method), ex: order.shippingCostExTax, inc: order.shippingCostIncTax,
                           tax: order.shippingCostTax, rows: taxes.rows(type: "shipping", orderAddressID: nil))].compactMap { $0 }
    }

    func handlingLines() -> [LineSpec] {
        let orderLevel = (ex: order.handlingCostExTax, inc: order.handlingCostIncTax)
        if let ships = perAddress({ ($0.handlingCostExTax, $0.handlingCostIncTax) }, orderLevel: orderLevel) {
            let many = ships.count > 1
            return ships.compactMap { s in
                chargeLine(kind: .handling, name: "Handling", description: many ? addressSummary(s.address) : "",
                           ex: s.handlingCostExTax, inc: s.handlingCostIncTax, tax: s.handlingCostTax,
                           rows: taxes.rows(type: "handling", orderAddressID: many ? s.id : nil))
            }
        }
        return [chargeLine(kind: .handling, name: "Handling", ex: order.handlingCostExTax, inc: order.handlingCostIncTax,
                           tax: order.handlingCostTax, rows: taxes.rows(type: "handling", orderAddressID: nil))].compactMap { $0 }
    }

    /// One gift-wrapping line: the order-level wrapping cost, or the sum of the lines' wrapping when the order
    /// level is empty.
    func wrappingLine() -> LineSpec? {
        var ex = order.wrappingCostExTax, inc = order.wrappingCostIncTax, tax = order.wrappingCostTax
        if ex.isZero && inc.isZero {
            for p in products {
                ex += p.wrappingCostExTax; inc += p.wrappingCostIncTax; tax += p.wrappingCostTax
            }
        }
        let names = Array(Set(products.map { MappingText.clean($0.wrappingName) }.filter { !$0.isEmpty })).sorted()
        let name = names.count == 1 ? "Gift wrapping: " + names[0] : "Gift wrapping"
        return chargeLine(kind: .giftWrapping, name: name, ex: ex, inc: inc, tax: tax,
                          rows: taxes.giftWrappingRows(orderProductID: nil))
    }

    func feeName(_ fee: BCFee) -> String {
        let n = MappingText.clean(fee.name)
        return n.isEmpty ? "Fee" : n
    }

    /// Fees carry no tax rows; their rate is derived from `cost_tax / cost_ex_tax`.
    func feeLines() -> [LineSpec] {
        (order.fees ?? []).compactMap { f in
            chargeLine(kind: .fee, name: feeName(f), ex: f.costExTax, inc: f.costIncTax, tax: f.costTax, rows: [])
        }
    }

    /// `single-line` mode: the tax as one untaxed line.
    func salesTaxLine(amount: Decimal) -> LineSpec? {
        let amount = amount.cents
        guard !amount.isZero else { return nil }
        var line = LineSpec(kind: .orderAmount, sku: nil, name: InvoiceMapping.salesTaxLineName, rate: amount, quantity: 1, taxRate: nil)
        line.productType = "services"
        return line
    }
}
