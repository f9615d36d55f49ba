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
    static func type(of row: BCOrderTax) -> String { type(row.lineItemType) }

    /// ``type(of:)`` from the row's `line_item_type`.
    static func type(_ lineItemType: String?) -> String {
        switch lineItemType {
        case nil: return ""
        case "item", "shipping", "handling", "gift-wrapping": return lineItemType!
        case let other?: return other.lowercased().replacingOccurrences(of: "_", with: "-")
        }
    }

    func itemRows(orderProductID: Int64) -> [BCOrderTax] {
        rows.filter { $0.orderProductID == orderProductID && Self.isItemRow($0) }
    }

    static func isItemRow(_ row: BCOrderTax) -> Bool { isItemType(row.lineItemType) }

    static func isItemType(_ lineItemType: String?) -> Bool {
        let type = Self.type(lineItemType)
        return type == "item" || type.isEmpty
    }

    /// `choose(rows: itemRows(orderProductID:), tax:, base:)`; the common case of one matching row is decided
    /// without building the list.
    func chooseForItem(orderProductID: Int64, tax: Decimal, base: Decimal) -> TaxChoice {
        var match = -1
        for i in rows.indices where rows[i].orderProductID == orderProductID && Self.isItemType(rows[i].lineItemType) {
            guard match < 0 else { return choose(rows: itemRows(orderProductID: orderProductID), tax: tax, base: base) }
            match = i
        }
        return match < 0 ? choose(rows: [], tax: tax, base: base) : choose(rate: rows[match].rate, name: rows[match].name, tax: tax, base: base)
    }

    /// `choose(rows: rows(type:orderAddressID:), tax:, base:)`, likewise.
    func choose(type: String, orderAddressID: Int64?, tax: Decimal, base: Decimal) -> TaxChoice {
        var match = -1
        for i in rows.indices where Self.matches(lineItemType: rows[i].lineItemType, orderAddressID: rows[i].orderAddressID,
                                                 type: type, wanted: orderAddressID) {
            guard match < 0 else { return choose(rows: rows(type: type, orderAddressID: orderAddressID), tax: tax, base: base) }
            match = i
        }
        return match < 0 ? choose(rows: [], tax: tax, base: base) : choose(rate: rows[match].rate, name: rows[match].name, tax: tax, base: base)
    }

    /// `choose(rows: [row], tax:, base:)` for a row of `rate` and `name`: one row's rate is the combined rate, its
    /// cleaned name the tax's name.
    func choose(rate rowRate: Decimal, name rowName: String, tax: Decimal, base: Decimal) -> TaxChoice {
        if FixedPoint.isPositive(rowRate) {
            let name = MappingText.clean(rowName)
            return TaxChoice(rate: rowRate, name: name.isEmpty ? Self.defaultName(rowRate) : name)
        }
        guard let rate = derive(tax: tax, base: base) else { return .untaxed }
        return TaxChoice(rate: rate, name: Self.defaultName(rate))
    }

    /// Rows of `type`; with an address id, rows of other addresses are left out (rows without one stay).
    func rows(type: String, orderAddressID: Int64?) -> [BCOrderTax] {
        rows.filter { Self.matches($0, type: type, orderAddressID: orderAddressID) }
    }

    static func matches(_ r: BCOrderTax, type: String, orderAddressID: Int64?) -> Bool {
        matches(lineItemType: r.lineItemType, orderAddressID: r.orderAddressID, type: type, wanted: orderAddressID)
    }

    static func matches(lineItemType: String?, orderAddressID have: Int64?, type: String, wanted: Int64?) -> Bool {
        guard Self.type(lineItemType) == type else { return false }
        guard let want = wanted, let have else { return true }
        return want == have
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
        if let rate = Self.combinedRate(matched), FixedPoint.isPositive(rate) {
            var names: [String] = []
            for r in matched where FixedPoint.isPositive(r.rate) {
                let n = MappingText.clean(r.name)
                if !n.isEmpty, !names.contains(n) { names.append(n) }
            }
            let name = names.isEmpty ? Self.defaultName(rate) : names.count == 1 ? names[0] : names.joined(separator: " + ")
            return TaxChoice(rate: rate, name: name)
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
///
/// A class, so the closures of the line builders share it instead of copying it. It keeps the order fields the
/// lines are made of, not the whole order.
final class OrderLines {
    let orderID: Int64
    let shipping: [BCShipping]?
    let fees: [BCFee]?
    let shippingCostExTax: Decimal, shippingCostIncTax: Decimal, shippingCostTax: Decimal
    let handlingCostExTax: Decimal, handlingCostIncTax: Decimal, handlingCostTax: Decimal
    let wrappingCostExTax: Decimal, wrappingCostIncTax: Decimal, wrappingCostTax: Decimal
    let products: [BCOrderProduct]
    /// Products by id (the first of a repeated id); built when first needed.
    private(set) lazy var productsByID: [Int64: BCOrderProduct] = Self.byID(products)
    /// Bundle children by parent id (only children whose parent is on the order).
    let children: [Int64: [BCOrderProduct]]
    let taxes: OrderTaxIndex
    let storeInclusive: Bool
    let documentInclusive: Bool
    let singleLine: Bool

    static let nameLimit = 100
    static let descriptionLimit = 2000

    /// The lines of `order`. Throws when the lines are needed but were not loaded, or the order has tax but its
    /// rows were not loaded. (A static function rather than an initializer: it borrows `order` and `settings`
    /// where an initializer would take copies.)
    static func make(order: BCOrder, settings: MappingSettings, requireProducts: Bool = true, requireTaxes: Bool = true) throws -> OrderLines {
        try OrderLines(order: order, taxMode: settings.taxMode, requireProducts: requireProducts, requireTaxes: requireTaxes)
    }

    private init(order: borrowing BCOrder, taxMode: MappingSettings.TaxMode, requireProducts: Bool, requireTaxes: Bool) throws {
        guard let products = order.products ?? (requireProducts ? nil : []) else {
            throw MappingProblem.order(order.id, "order lines were not loaded")
        }
        orderID = order.id
        shipping = order.shipping
        fees = order.fees
        shippingCostExTax = order.shippingCostExTax; shippingCostIncTax = order.shippingCostIncTax; shippingCostTax = order.shippingCostTax
        handlingCostExTax = order.handlingCostExTax; handlingCostIncTax = order.handlingCostIncTax; handlingCostTax = order.handlingCostTax
        wrappingCostExTax = order.wrappingCostExTax; wrappingCostIncTax = order.wrappingCostIncTax; wrappingCostTax = order.wrappingCostTax
        self.products = products
        var children: [Int64: [BCOrderProduct]] = [:]
        if products.contains(where: { $0.parentOrderProductID != nil }) {
            let byID = Self.byID(products)
            for p in products {
                if let parent = p.parentOrderProductID, byID[parent] != nil, parent != p.id { children[parent, default: []].append(p) }
            }
        }
        self.children = children
        singleLine = taxMode == .singleLine
        if requireTaxes, order.taxes == nil, FixedPoint.isNonZero(order.totalTax), !singleLine {
            throw MappingProblem.order(order.id, "tax rows were not loaded although the order has \(order.totalTax.centsString) tax")
        }
        taxes = OrderTaxIndex(rows: order.taxes ?? [])
        storeInclusive = order.isTaxInclusivePricing
        documentInclusive = order.isTaxInclusivePricing && !singleLine
    }

    private static func byID(_ products: [BCOrderProduct]) -> [Int64: BCOrderProduct] {
        var byID: [Int64: BCOrderProduct] = [:]
        for p in products where byID[p.id] == nil { byID[p.id] = p }
        return byID
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

    /// Products that become invoice lines, in order. Only a product listed as a child can be folded, so with no
    /// children every product is a line.
    var invoicedProducts: [BCOrderProduct] { children.isEmpty ? products : products.filter { !isFoldedIntoParent($0) } }

    func productTax(_ p: BCOrderProduct) -> TaxChoice {
        let unitPriced = FixedPoint.isNonZero(p.priceExTax)
        let base = unitPriced ? p.priceExTax : p.totalExTax
        let tax = unitPriced ? p.priceTax : p.totalTax
        return taxes.chooseForItem(orderProductID: p.id, tax: tax, base: base)
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
        } else if let discounted = p.discountedTotalIncTax, FixedPoint.less(discounted, p.totalIncTax) {
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
        // No options and no bundle children: nothing to describe.
        if p.options.isEmpty && children[p.id] == nil { return "" }
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
        guard FixedPoint.isPositive(p.quantity) else {
            throw MappingProblem.order(orderID, "line \(p.id) has quantity \(p.quantity.plainString)")
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
        guard let ships = shipping, !ships.isEmpty else { return nil }
        if ships.count == 1 {
            let only = amount(ships[0])
            guard FixedPoint.equal(only.ex, orderLevel.ex), FixedPoint.equal(only.inc, orderLevel.inc) else { return nil }
            return ships
        }
        let sumEx = ships.reduce(Decimal(0)) { $0 + amount($1).ex }
        let sumInc = ships.reduce(Decimal(0)) { $0 + amount($1).inc }
        guard sumEx == orderLevel.ex, sumInc == orderLevel.inc else { return nil }
        return ships
    }

    func chargeLine(kind: LineKind, name: String, description: String = "", ex: Decimal, inc: Decimal, tax: Decimal,
                    rows: [BCOrderTax]) -> LineSpec? {
        guard !ex.isZero || !inc.isZero else { return nil }
        return chargeLine(kind: kind, name: name, description: description, ex: ex, inc: inc,
                          choice: taxes.choose(rows: rows, tax: tax, base: ex))
    }

    /// As above, with the rows of a tax type (see ``OrderTaxIndex/rows(type:orderAddressID:)``).
    func chargeLine(kind: LineKind, name: String, description: String = "", ex: Decimal, inc: Decimal, tax: Decimal,
                    taxType: String, orderAddressID: Int64?) -> LineSpec? {
        guard !ex.isZero || !inc.isZero else { return nil }
        return chargeLine(kind: kind, name: name, description: description, ex: ex, inc: inc,
                          choice: taxes.choose(type: taxType, orderAddressID: orderAddressID, tax: tax, base: ex))
    }

    private func chargeLine(kind: LineKind, name: String, description: String, ex: Decimal, inc: Decimal, choice: TaxChoice) -> LineSpec {
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
        let orderLevel = (ex: shippingCostExTax, inc: shippingCostIncTax)
        if let ships = perAddress({ ($0.costExTax, $0.costIncTax) }, orderLevel: orderLevel) {
            let many = ships.count > 1
            var lines: [LineSpec] = []
            for i in ships.indices {
                if let line = chargeLine(kind: .shipping, name: shippingName(ships[i].method),
                                         description: many ? addressSummary(ships[i].address) : "",
                                         ex: ships[i].costExTax, inc: ships[i].costIncTax, tax: ships[i].costTax,
                                         taxType: "shipping", orderAddressID: many ? ships[i].id : nil) {
                    lines.append(line)
                }
            }
            return lines
        }
        let method = shipping?.count == 1 ? shipping![0].method : ""
        guard let line = chargeLine(kind: .shipping, name: shippingName(method), ex: shippingCostExTax, inc: shippingCostIncTax,
                                    tax: shippingCostTax, taxType: "shipping", orderAddressID: nil) else { return [] }
        return [line]
    }

    func handlingLines() -> [LineSpec] {
        // No handling anywhere: every candidate line below would be a zero charge, which `chargeLine` drops.
        if handlingCostExTax.isZero, handlingCostIncTax.isZero,
           (shipping ?? []).allSatisfy({ $0.handlingCostExTax.isZero && $0.handlingCostIncTax.isZero }) {
            return []
        }
        let orderLevel = (ex: handlingCostExTax, inc: handlingCostIncTax)
        if let ships = perAddress({ ($0.handlingCostExTax, $0.handlingCostIncTax) }, orderLevel: orderLevel) {
            let many = ships.count > 1
            return ships.compactMap { s in
                chargeLine(kind: .handling, name: "Handling", description: many ? addressSummary(s.address) : "",
                           ex: s.handlingCostExTax, inc: s.handlingCostIncTax, tax: s.handlingCostTax,
                           rows: taxes.rows(type: "handling", orderAddressID: many ? s.id : nil))
            }
        }
        return [chargeLine(kind: .handling, name: "Handling", ex: handlingCostExTax, inc: handlingCostIncTax,
                           tax: handlingCostTax, rows: taxes.rows(type: "handling", orderAddressID: nil))].compactMap { $0 }
    }

    /// One gift-wrapping line: the order-level wrapping cost, or the sum of the lines' wrapping when the order
    /// level is empty.
    func wrappingLine() -> LineSpec? {
        var ex = wrappingCostExTax, inc = wrappingCostIncTax, tax = wrappingCostTax
        if ex.isZero && inc.isZero {
            // Nothing wrapped on any line: no line (what `chargeLine` decides for zero amounts), without the sums.
            if products.allSatisfy({ $0.wrappingCostExTax.isZero && $0.wrappingCostIncTax.isZero }) {
                return nil
            }
            for p in products {
                ex += p.wrappingCostExTax; inc += p.wrappingCostIncTax; tax += p.wrappingCostTax
            }
        }
        guard !ex.isZero || !inc.isZero else { return nil }
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
        (fees ?? []).compactMap { f in
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
