import Foundation

// `GET /v2/orders` and `GET /v2/orders/{id}`, with embedded consignments and fees.

extension BigCommerceClient {
    /// One page of `GET /v2/orders`.
    ///
    /// Invariants: dates are sent in UTC as `YYYY-MM-DDTHH:MM:SS+00:00` (whole seconds, `+` encoded as `%2B`);
    /// `limit` is clamped to 1…250; with `includeLines` the lines, shipping consignments and fees are embedded
    /// (`include=consignments.line_items,fees&consignment_structure=object`) and decoded into the order.
    /// A 204 or empty body is an empty last page; a page shorter than `limit` is the last page.
    /// Records that cannot be decoded are returned in `rejected` as `order:<id>`.
    public func orders(_ query: OrderQuery) async throws -> SourcePage<BCOrder> {
        let limit = Self.clampLimit(query.limit)
        let response = try await get(.v2, "/orders", Self.orderQueryItems(query))
        let context = "GET /v2/orders page \(max(1, query.page))"
        let body = try BCBody.readPage(response, context: context)
        let items = try body.v2Array(context: context)
        let (records, rejected) = decodeRecords(items, entity: "order", pathPrefix: "orders", BigCommerceOrderDecoder.order)
        for r in rejected {
            var metadata = ["bc.entity": r.entityKey]
            if r.entityKey.hasPrefix("order:"), let id = Int64(r.entityKey.dropFirst("order:".count)) {
                metadata["bc.order_id"] = String(id)
            }
            logger.warning("BigCommerce order quarantined: \(r.reason)", metadata)
        }
        return SourcePage(records: records, rejected: rejected, isLastPage: items.count < limit)
    }

    /// `GET /v2/orders/{id}` with lines: embedded when BigCommerce embeds them, else read from `/products`.
    /// Nil when the order does not exist (404). An order that cannot be decoded throws `.malformed`.
    public func order(id: Int64) async throws -> BCOrder? {
        let path = "/orders/\(id)"
        let response: HTTPResponse
        do {
            response = try await get(.v2, path, Self.includeItems, orderID: id)
        } catch RemoteError.notFound {
            return nil
        }
        let context = "GET /v2/orders/\(id)"
        guard case .json(let json) = try BCBody.read(response, context: context) else {
            throw RemoteError.malformed(.bigcommerce, "\(context): empty reply")
        }
        var order: BCOrder
        do {
            order = try BigCommerceOrderDecoder.order(try BCFieldReader(json, path: "order"))
        } catch let error as JSONError {
            throw RemoteError.malformed(.bigcommerce, "order:\(id): \(error.description)")
        }
        if order.products == nil {
            order.products = try await orderProducts(orderID: id)
        }
        return order
    }

    static let includeItems: [BigCommerceQueryItem] = [
        .init("include", "consignments.line_items,fees"),
        .init("consignment_structure", "object"),
    ]

    /// The query of `GET /v2/orders`, in a fixed order so the wire form is predictable.
    static func orderQueryItems(_ q: OrderQuery) -> [BigCommerceQueryItem] {
        var items: [BigCommerceQueryItem] = []
        if let v = q.minID { items.append(.int64("min_id", v)) }
        if let v = q.maxID { items.append(.int64("max_id", v)) }
        if let v = q.createdFrom { items.append(.init("min_date_created", BigCommerceDates.iso8601WithOffset(v))) }
        if let v = q.createdTo { items.append(.init("max_date_created", BigCommerceDates.iso8601WithOffset(v))) }
        if let v = q.modifiedFrom { items.append(.init("min_date_modified", BigCommerceDates.iso8601WithOffset(v))) }
        if let v = q.modifiedTo { items.append(.init("max_date_modified", BigCommerceDates.iso8601WithOffset(v))) }
        items.append(.init("sort", q.sort))
        items.append(.int("limit", clampLimit(q.limit)))
        items.append(.int("page", max(1, q.page)))
        if q.includeLines { items += includeItems }
        return items
    }
}

/// Decoders for the v2 order object and what it embeds.
enum BigCommerceOrderDecoder {
    /// Required: `id`, `date_created`, `date_modified`, `status_id`, `total_inc_tax`. A `status_id` outside 0–14 is
    /// kept as is (the planner decides what to do with it). Embedded lines with a quantity ≤ 0 reject the order;
    /// embedded lines whose quantities do not add up to `items_total` are not used (`products` nil: read `/products`).
    static func order(_ r: BCFieldReader) throws -> BCOrder {
        var o = BCOrder(id: try r.requiredInt64("id"),
                        dateCreated: try r.requiredDate("date_created"),
                        dateModified: try r.requiredDate("date_modified"))
        o.customerID = try r.int64("customer_id")
        guard r.has("status_id") else { throw JSONError.field(path: "\(r.path).status_id", problem: "missing") }
        o.statusID = try r.int("status_id")
        o.status = try r.string("status")
        o.isDeleted = try r.bool("is_deleted")
        o.isTaxInclusivePricing = try r.bool("is_tax_inclusive_pricing")

        o.subtotalExTax = try r.decimal("subtotal_ex_tax")
        o.subtotalIncTax = try r.decimal("subtotal_inc_tax")
        o.subtotalTax = try r.decimal("subtotal_tax")
        o.shippingCostExTax = try r.decimal("shipping_cost_ex_tax")
        o.shippingCostIncTax = try r.decimal("shipping_cost_inc_tax")
        o.shippingCostTax = try r.decimal("shipping_cost_tax")
        o.handlingCostExTax = try r.decimal("handling_cost_ex_tax")
        o.handlingCostIncTax = try r.decimal("handling_cost_inc_tax")
        o.handlingCostTax = try r.decimal("handling_cost_tax")
        o.wrappingCostExTax = try r.decimal("wrapping_cost_ex_tax")
        o.wrappingCostIncTax = try r.decimal("wrapping_cost_inc_tax")
        o.wrappingCostTax = try r.decimal("wrapping_cost_tax")
        o.totalExTax = try r.decimal("total_ex_tax")
        o.totalIncTax = try r.requiredDecimal("total_inc_tax")
        o.totalTax = try r.decimal("total_tax")
        o.discountAmount = try r.decimal("discount_amount")
        o.couponDiscount = try r.decimal("coupon_discount")
        o.storeCreditAmount = try r.decimal("store_credit_amount")
        o.giftCertificateAmount = try r.decimal("gift_certificate_amount")

        o.currencyCode = try r.string("currency_code")
        o.defaultCurrencyCode = try r.string("default_currency_code")
        o.storeDefaultCurrencyCode = try r.string("store_default_currency_code")
        // Missing or empty is 0, "no rate": the mapping then sends no exchange rate and Zoho applies its own (a
        // default of 1 would book a foreign-currency invoice at par).
        o.storeDefaultToTransactionalExchangeRate = try r.decimal("store_default_to_transactional_exchange_rate", default: 0)

        o.paymentMethod = try r.string("payment_method")
        o.paymentStatus = try r.string("payment_status")
        if let billing = try r.optionalObject("billing_address") { o.billingAddress = try address(billing) }
        o.customerMessage = try r.string("customer_message")

        if let consignments = r.object["consignments"], !consignments.isNull,
           let embedded = try BigCommerceConsignments.decode(consignments, path: "\(r.path).consignments") {
            o.products = embedded.products
            o.shipping = embedded.shipping
        }
        // Some replies embed the lines directly as `products` (an array rather than a resource link).
        if o.products == nil, let direct = try? r.optionalArray("products") {
            o.products = try merged(direct.enumerated().map { i, v in
                try BigCommerceOrderLineDecoder.product(BCFieldReader(v, path: "\(r.path).products[\(i)]"))
            })
        }
        if let fees = r.object["fees"], !fees.isNull {
            o.fees = try BigCommerceFeeDecoder.embedded(fees, path: "\(r.path).fees")
        }
        if let lines = o.products, !embeddedLinesAgree(lines, itemsTotal: r.object["items_total"]) {
            // The embedded lines do not add up to the order's item count (a consignment or a line left out):
            // nil, so the caller reads `/products` rather than invoice part of the order.
            o.products = nil
        }
        return o
    }

    /// Whether embedded lines add up to `items_total` (the order's total quantity of items). Every line counts,
    /// bundle children (`parent_order_product_id`) included, as `/products` lists them; if BigCommerce counts them
    /// otherwise, the lines are read from `/products`, which is the safe direction. True when `items_total` is
    /// missing or not a number (nothing to check against).
    static func embeddedLinesAgree(_ lines: [BCOrderProduct], itemsTotal: JSON?) -> Bool {
        guard let itemsTotal, let expected = itemsTotal.decimal else { return true }
        var sum: Decimal = 0
        for line in lines { sum += line.quantity }
        return sum == expected
    }

    /// An order address (`billing_address`, shipping consignment, `shipping_addresses[]`).
    static func address(_ r: BCFieldReader) throws -> BCAddress {
        var a = BCAddress()
        a.firstName = try r.string("first_name")
        a.lastName = try r.string("last_name")
        a.company = try r.string("company")
        a.street1 = try r.string("street_1")
        a.street2 = try r.string("street_2")
        a.city = try r.string("city")
        a.state = try r.string("state")
        a.zip = try r.string("zip")
        a.country = try r.string("country")
        a.countryISO2 = try r.string("country_iso2")
        a.phone = try r.string("phone")
        a.email = try r.string("email")
        return a
    }

    /// Lines by order-product id, each once, id ascending (the order `/products` returns them in).
    static func merged(_ lines: [BCOrderProduct]) -> [BCOrderProduct] {
        var seen = Set<Int64>()
        var out: [BCOrderProduct] = []
        for line in lines where seen.insert(line.id).inserted { out.append(line) }
        return out.sorted { $0.id < $1.id }
    }
}

/// The `consignments` of an order read with `consignment_structure=object`:
/// `{pickups: [...], shipping: [...], downloads: [...], email: {gift_certificates: [...]}}`.
///
/// Invariants: a line that appears in several consignments (split shipments) is returned once; pickup,
/// download and e-mail consignments contribute their lines too; `products` is nil when any consignment lists
/// its lines as a resource link (not embedded) or when no line was embedded at all — the caller then reads
/// `/products`, so an order never looks line-less because an include was ignored.
enum BigCommerceConsignments {
    struct Embedded {
        var products: [BCOrderProduct]?
        var shipping: [BCShipping]
    }

    static func decode(_ value: JSON, path: String) throws -> Embedded? {
        var sets: [(JSONObject, String)] = []
        switch value {
        case .object(let o):
            // A resource link means the consignments were not included.
            if o["resource"] != nil || o["url"] != nil, o["shipping"] == nil, o["pickups"] == nil { return nil }
            sets = [(o, path)]
        case .array(let items):
            // The legacy structure: an array of consignment groups.
            sets = try items.enumerated().map { i, v in
                guard let o = v.object else { throw JSONError.field(path: "\(path)[\(i)]", problem: "expected an object") }
                return (o, "\(path)[\(i)]")
            }
        default:
            throw JSONError.field(path: path, problem: "expected an object")
        }

        var lines: [BCOrderProduct] = []
        var shipping: [BCShipping] = []
        var linesAreLinks = false

        func collectLines(_ c: BCFieldReader) throws {
            guard let raw = c.object["line_items"], !raw.isNull else { return }
            guard let items = raw.array else {
                linesAreLinks = true
                return
            }
            for (i, item) in items.enumerated() {
                lines.append(try BigCommerceOrderLineDecoder.product(try BCFieldReader(item, path: "\(c.path).line_items[\(i)]")))
            }
        }

        for (set, setPath) in sets {
            let group = BCFieldReader(set, path: setPath)
            for c in try group.objects("shipping") {
                try collectLines(c)
                shipping.append(try BigCommerceShippingDecoder.shipping(c))
            }
            for c in try group.objects("pickups") { try collectLines(c) }
            for c in try group.objects("downloads") { try collectLines(c) }
            if let email = try group.optionalObject("email") {
                for c in try email.objects("gift_certificates") { try collectLines(c) }
            }
        }
        let products = linesAreLinks || lines.isEmpty ? nil : BigCommerceOrderDecoder.merged(lines)
        return Embedded(products: products, shipping: shipping)
    }
}
