import Foundation

/// BigCommerce refunds → Zoho credit notes (DESIGN §4 "Refund").
///
/// Lines come from the refund items, priced like the order's invoice lines (same basis, rates and taxes):
/// - `PRODUCT` by quantity: the order line's unit rate, the line's discount in proportion to the quantity, the
///   line's tax rate; with `requested_amount`: one line of that amount with the line's tax rate;
/// - `SHIPPING` / `HANDLING` (item id = order address id), `GIFT_WRAPPING` (item id = order product id), `FEE`:
///   `requested_amount`, else the full charge, with the charge's tax rate;
/// - `ORDER`: a tax-exempt custom amount (`requested_amount`);
/// - no items (a tax-adjustment refund): one untaxed line of `total_amount`.
///
/// `requested_amount` is what the shopper gets back, normally tax included. For taxed lines on a
/// tax-exclusive document, both readings (tax included / excluded) are priced and the one whose predicted
/// total is nearer `total_amount` wins (tax included on a tie). The rest is the adjustment; beyond the rounding
/// tolerance it is flagged for a person, as for invoices.
public enum RefundMapping {
    public static func creditNoteNumber(refundID: Int64, settings: MappingSettings) -> String {
        settings.creditNotePrefix + String(refundID)
    }

    public static func creditNoteSpec(refund: BCRefund, order: BCOrder, contactKey: String, settings: MappingSettings) throws -> CreditNoteSpec {
        let needsProducts = refund.items.contains { $0.itemType.uppercased() == "PRODUCT" || $0.itemType.uppercased() == "GIFT_WRAPPING" }
        let needsTaxes = refund.items.contains { $0.itemType.uppercased() != "ORDER" }
        let ctx: OrderLines
        do {
            ctx = try OrderLines.make(order: order, settings: settings, requireProducts: needsProducts, requireTaxes: needsTaxes)
        } catch let problem as MappingProblem {
            throw MappingProblem.refund(refund.id, problem.message)
        }
        let target = refund.totalAmount.cents
        let hasRequested = refund.items.contains { $0.requestedAmount != nil && $0.itemType.uppercased() != "ORDER" }

        var best: (lines: [LineSpec], adjustment: Decimal, ok: Bool, predicted: Decimal)? = nil
        for includesTax in (hasRequested ? [true, false] : [true]) {
            let lines = try creditLines(refund: refund, order: order, ctx: ctx, requestedIncludesTax: includesTax)
            let r = Reconciliation.adjustment(lines: lines, isInclusiveTax: ctx.documentInclusive, target: target,
                                              taxRounding: settings.taxRounding)
            if best == nil || abs(r.adjustment) < abs(best!.adjustment) {
                best = (lines, r.adjustment, r.withinTolerance, r.predictedTotal)
            }
        }
        guard let chosen = best else { throw MappingProblem.refund(refund.id, "has no lines") }
        // Beyond rounding, the difference still goes in the adjustment (the credit note equals the refund) and the
        // executor raises an attention entry that names it.

        let refunded = refund.payments.filter { !$0.isDeclined }.reduce(Decimal(0)) { $0 + $1.amount }
        let currency = InvoiceMapping.currency(of: order, settings: settings)
        return CreditNoteSpec(refundID: refund.id, orderID: order.id,
                              creditNoteNumber: creditNoteNumber(refundID: refund.id, settings: settings),
                              referenceNumber: "Refund \(refund.id), order \(order.id)", contactKey: contactKey,
                              date: MappingText.day(refund.created, in: settings.storeTimeZone), currencyCode: currency,
                              exchangeRate: InvoiceMapping.exchangeRate(order: order, currency: currency, settings: settings),
                              isInclusiveTax: ctx.documentInclusive, lines: chosen.lines, targetTotal: target,
                              adjustment: chosen.adjustment,
                              refundedAmount: max(0, min(refunded.cents, target)),
                              refundMode: settings.refundMode, refundAccount: settings.refundAccount)
    }

    static func creditLines(refund: BCRefund, order: BCOrder, ctx: OrderLines, requestedIncludesTax: Bool) throws -> [LineSpec] {
        let reason = MappingText.truncate(MappingText.clean(refund.reason), to: OrderLines.descriptionLimit)
        var lines: [LineSpec] = []

        /// A requested amount in the document's basis.
        func basis(_ amount: Decimal, rate: Decimal?) -> Decimal {
            let r = rate ?? 0
            if r == 0 || requestedIncludesTax == ctx.documentInclusive { return amount }
            return (requestedIncludesTax ? amount * 100 / (100 + r) : amount * (100 + r) / 100).bcMoney
        }

        func charge(kind: LineKind, name: String, ex: Decimal, inc: Decimal, tax: Decimal, rows: [BCOrderTax], requested: Decimal?) -> LineSpec? {
            let choice = ctx.taxes.choose(rows: rows, tax: tax, base: ex)
            let rate: Decimal
            if let requested { rate = basis(requested, rate: choice.rate) } else { rate = ctx.money(ex: ex, inc: inc) }
            guard rate != 0 else { return nil }
            var line = LineSpec(kind: kind, sku: nil, name: MappingText.truncate(name, to: OrderLines.nameLimit), rate: rate,
                                quantity: 1, taxRate: ctx.singleLine ? nil : choice.rate)
            line.taxName = ctx.singleLine ? "" : choice.name
            line.description = reason
            line.productType = "services"
            return line
        }

        func shipping(_ itemID: Int64) -> BCShipping? {
            if let s = order.shipping?.first(where: { $0.id == itemID }) { return s }
            // Without loaded addresses, a single-destination order's charges are the order-level ones.
            guard (order.shipping ?? []).count <= 1 else { return nil }
            var s = BCShipping(id: itemID)
            s.costExTax = order.shippingCostExTax; s.costIncTax = order.shippingCostIncTax; s.costTax = order.shippingCostTax
            s.handlingCostExTax = order.handlingCostExTax; s.handlingCostIncTax = order.handlingCostIncTax
            s.handlingCostTax = order.handlingCostTax
            s.method = order.shipping?.first?.method ?? ""
            return s
        }
        let manyAddresses = (order.shipping ?? []).count > 1

        for item in refund.items {
            switch item.itemType.uppercased() {
            case "PRODUCT":
                guard let p = ctx.productsByID[item.itemID] else {
                    throw MappingProblem.refund(refund.id, "refunds order line \(item.itemID), which is not on order \(order.id)")
                }
                let tax = ctx.productTax(p)
                var line: LineSpec
                if let requested = item.requestedAmount {
                    line = LineSpec(kind: .product, sku: OrderLines.sku(p), name: ctx.productName(p),
                                    rate: basis(requested, rate: tax.rate), quantity: 1, taxRate: ctx.singleLine ? nil : tax.rate)
                    if let q = item.quantity { line.description = "Quantity \(q.plainString)" }
                } else {
                    let quantity = item.quantity ?? p.quantity
                    guard quantity > 0 else {
                        throw MappingProblem.refund(refund.id, "refunds quantity \(quantity.plainString) of line \(p.id)")
                    }
                    line = LineSpec(kind: .product, sku: OrderLines.sku(p), name: ctx.productName(p),
                                    rate: ctx.money(ex: p.priceExTax, inc: p.priceIncTax), quantity: quantity,
                                    taxRate: ctx.singleLine ? nil : tax.rate)
                    if p.quantity > 0 {
                        line.discountAmount = (ctx.lineDiscount(p, taxRate: tax.rate) * quantity / p.quantity).cents
                    }
                }
                line.taxName = ctx.singleLine ? "" : tax.name
                line.productType = OrderLines.lineProductType(p)
                line.bcLineID = p.id
                if line.description.isEmpty { line.description = reason }
                lines.append(line)
            case "SHIPPING":
                guard let s = shipping(item.itemID) else {
                    throw MappingProblem.refund(refund.id, "refunds shipping of address \(item.itemID), which is not on order \(order.id)")
                }
                if let l = charge(kind: .shipping, name: ctx.shippingName(s.method), ex: s.costExTax, inc: s.costIncTax, tax: s.costTax,
                                  rows: ctx.taxes.rows(type: "shipping", orderAddressID: manyAddresses ? s.id : nil),
                                  requested: item.requestedAmount) { lines.append(l) }
            case "HANDLING":
                guard let s = shipping(item.itemID) else {
                    throw MappingProblem.refund(refund.id, "refunds handling of address \(item.itemID), which is not on order \(order.id)")
                }
                if let l = charge(kind: .handling, name: "Handling", ex: s.handlingCostExTax, inc: s.handlingCostIncTax,
                                  tax: s.handlingCostTax,
                                  rows: ctx.taxes.rows(type: "handling", orderAddressID: manyAddresses ? s.id : nil),
                                  requested: item.requestedAmount) { lines.append(l) }
            case "GIFT_WRAPPING":
                guard let p = ctx.productsByID[item.itemID] else {
                    throw MappingProblem.refund(refund.id, "refunds gift wrapping of line \(item.itemID), which is not on order \(order.id)")
                }
                let name = MappingText.clean(p.wrappingName).isEmpty ? "Gift wrapping" : "Gift wrapping: " + MappingText.clean(p.wrappingName)
                if let l = charge(kind: .giftWrapping, name: name, ex: p.wrappingCostExTax, inc: p.wrappingCostIncTax, tax: p.wrappingCostTax,
                                  rows: ctx.taxes.giftWrappingRows(orderProductID: p.id), requested: item.requestedAmount) { lines.append(l) }
            case "FEE":
                if let f = order.fees?.first(where: { $0.id == item.itemID }) {
                    if let l = charge(kind: .fee, name: ctx.feeName(f), ex: f.costExTax, inc: f.costIncTax, tax: f.costTax, rows: [],
                                      requested: item.requestedAmount) { lines.append(l) }
                } else if let requested = item.requestedAmount {
                    if let l = charge(kind: .fee, name: "Fee", ex: requested, inc: requested, tax: 0, rows: [], requested: requested) {
                        lines.append(l)
                    }
                } else {
                    throw MappingProblem.refund(refund.id, "refunds fee \(item.itemID), which is not on order \(order.id)")
                }
            case "ORDER":
                let amount = (item.requestedAmount ?? 0).bcMoney
                guard amount != 0 else { continue }
                var line = LineSpec(kind: .orderAmount, sku: nil, name: "Refund", rate: amount, quantity: 1, taxRate: nil)
                line.description = reason
                line.productType = "services"
                lines.append(line)
            default:
                throw MappingProblem.refund(refund.id, "has an item of unknown type \(item.itemType)")
            }
        }
        if refund.items.isEmpty {
            var line = LineSpec(kind: .orderAmount, sku: nil, name: "Refund", rate: refund.totalAmount.cents, quantity: 1, taxRate: nil)
            line.description = reason.isEmpty ? "Refund without items (tax adjustment)" : reason
            line.productType = "services"
            lines.append(line)
        } else if ctx.singleLine, let taxLine = ctx.salesTaxLine(amount: refund.totalTax) {
            lines.append(taxLine)
        }
        if lines.isEmpty {
            throw MappingProblem.refund(refund.id, "has items but none with an amount")
        }
        return lines
    }
}
