import Foundation

// `GET /v2/orders/{id}/products | taxes | coupons | shipping_addresses | fees`.

extension BigCommerceClient {
    /// Every line of the order (paged with `limit=250` to the end), order-product id ascending.
    /// Bundle children are kept, with ``BCOrderProduct/parentOrderProductID`` set. A line with a quantity ≤ 0 or
    /// an unreadable field makes the whole list `.malformed` (the order cannot be invoiced from part of its lines).
    public func orderProducts(orderID: Int64) async throws -> [BCOrderProduct] {
        let rows = try await v2AllPages("/orders/\(orderID)/products", orderID: orderID)
        let lines = try decodeAll(rows, entity: "line", pathPrefix: "products", context: "order:\(orderID)",
                                  BigCommerceOrderLineDecoder.product)
        return BigCommerceOrderDecoder.merged(lines)
    }

    /// Tax rows with `details=true` (per line, with `order_product_id` and `line_item_type`).
    public func orderTaxes(orderID: Int64) async throws -> [BCOrderTax] {
        let rows = try await v2AllPages("/orders/\(orderID)/taxes", [.init("details", "true")], orderID: orderID)
        return try decodeAll(rows, entity: "tax", pathPrefix: "taxes", context: "order:\(orderID)", BigCommerceTaxDecoder.tax)
    }

    public func orderCoupons(orderID: Int64) async throws -> [BCCoupon] {
        let rows = try await v2AllPages("/orders/\(orderID)/coupons", orderID: orderID)
        return try decodeAll(rows, entity: "coupon", pathPrefix: "coupons", context: "order:\(orderID)", BigCommerceCouponDecoder.coupon)
    }

    /// The order's shipping addresses with their shipping and handling costs (`id` = `order_address_id`).
    public func orderShipping(orderID: Int64) async throws -> [BCShipping] {
        let rows = try await v2AllPages("/orders/\(orderID)/shipping_addresses", orderID: orderID)
        return try decodeAll(rows, entity: "shipping_address", pathPrefix: "shipping_addresses", context: "order:\(orderID)",
                             BigCommerceShippingDecoder.shipping)
    }

    /// `{"fees": [...]}` (a bare array or 204 are accepted too).
    public func orderFees(orderID: Int64) async throws -> [BCFee] {
        let path = "/orders/\(orderID)/fees"
        let response = try await get(.v2, path, orderID: orderID)
        switch try BCBody.read(response, context: "GET /v2\(path)") {
        case .empty: return []
        case .json(let json):
            do {
                return try BigCommerceFeeDecoder.embedded(json, path: "fees") ?? []
            } catch let error as JSONError {
                throw RemoteError.malformed(.bigcommerce, "order:\(orderID): \(error.description)")
            }
        }
    }
}

/// Decoder for one order line (`orderProducts`), used by `/products` and by embedded consignments.
enum BigCommerceOrderLineDecoder {
    static func product(_ r: BCFieldReader) throws -> BCOrderProduct {
        var p = BCOrderProduct(id: try r.requiredInt64("id"))
        p.productID = try r.int64("product_id")
        p.variantID = try r.optionalInt64("variant_id")
        p.name = try r.string("name")
        if p.name.isEmpty { p.name = try r.string("name_customer") }
        if p.name.isEmpty { p.name = try r.string("name_merchant") }
        p.sku = try r.string("sku")
        let type = try r.string("type")
        p.type = type.isEmpty ? "physical" : type
        let quantity = try r.requiredDecimal("quantity")
        guard quantity > 0 else {
            throw JSONError.field(path: "\(r.path).quantity",
                                  problem: "line \(p.id) has quantity \(quantity.plainString); a line must have a positive quantity")
        }
        p.quantity = quantity
        p.priceExTax = try r.decimal("price_ex_tax")
        p.priceIncTax = try r.decimal("price_inc_tax")
        p.priceTax = try r.decimal("price_tax")
        p.totalExTax = try r.decimal("total_ex_tax")
        p.totalIncTax = try r.decimal("total_inc_tax")
        p.totalTax = try r.decimal("total_tax")
        p.discountedTotalIncTax = try r.optionalDecimal("discounted_total_inc_tax")
        p.appliedDiscounts = try r.objects("applied_discounts").map { d in
            BCAppliedDiscount(id: try d.string("id"), amount: try d.decimal("amount"), name: try d.string("name"),
                              code: try d.optionalString("code"),
                              target: try d.optionalString("target") ?? "product")
        }
        p.parentOrderProductID = try r.optionalInt64("parent_order_product_id")
        p.isBundledProduct = try r.bool("is_bundled_product")
        p.wrappingName = try r.string("wrapping_name")
        p.wrappingCostExTax = try r.decimal("wrapping_cost_ex_tax")
        p.wrappingCostIncTax = try r.decimal("wrapping_cost_inc_tax")
        p.wrappingCostTax = try r.decimal("wrapping_cost_tax")
        p.orderAddressID = try r.int64("order_address_id")
        p.options = try r.objects("product_options").compactMap { option in
            let name = try option.string("display_name")
            let value = try option.string("display_value")
            if name.isEmpty && value.isEmpty { return nil }
            return name.isEmpty ? value : "\(name): \(value)"
        }
        return p
    }
}

/// Decoder for a shipping address row or a shipping consignment (same fields).
enum BigCommerceShippingDecoder {
    static func shipping(_ r: BCFieldReader) throws -> BCShipping {
        var s = BCShipping(id: try r.requiredInt64("id"))
        s.address = try BigCommerceOrderDecoder.address(r)
        s.method = try r.string("shipping_method")
        s.costExTax = try r.decimal("cost_ex_tax")
        s.costIncTax = try r.decimal("cost_inc_tax")
        s.costTax = try r.decimal("cost_tax")
        s.handlingCostExTax = try r.decimal("handling_cost_ex_tax")
        s.handlingCostIncTax = try r.decimal("handling_cost_inc_tax")
        s.handlingCostTax = try r.decimal("handling_cost_tax")
        return s
    }
}

enum BigCommerceTaxDecoder {
    static func tax(_ r: BCFieldReader) throws -> BCOrderTax {
        var t = BCOrderTax(id: try r.requiredInt64("id"))
        t.name = try r.string("name")
        t.taxClass = try r.string("class")
        t.rate = try r.decimal("rate")
        t.lineAmount = try r.decimal("line_amount")
        t.lineItemType = try r.optionalString("line_item_type")
        t.orderProductID = try r.optionalInt64("order_product_id")
        t.orderAddressID = try r.optionalInt64("order_address_id")
        return t
    }
}

enum BigCommerceCouponDecoder {
    static func coupon(_ r: BCFieldReader) throws -> BCCoupon {
        var c = BCCoupon(id: try r.requiredInt64("id"))
        c.couponID = try r.int64("coupon_id")
        c.code = try r.string("code")
        c.type = try r.int("type")
        c.discount = try r.decimal("discount")
        return c
    }
}

/// Fees: `{"fees": [...]}`, a bare array, or a resource link (not embedded → nil).
/// Cost fields may be strings or numbers; the spec's misspelt `cost_exc_tax` is accepted for `cost_ex_tax`.
enum BigCommerceFeeDecoder {
    static func embedded(_ value: JSON, path: String) throws -> [BCFee]? {
        let items: [JSON]
        let itemsPath: String
        switch value {
        case .array(let a):
            items = a; itemsPath = path
        case .object(let o):
            if let inner = o["fees"], !inner.isNull {
                guard let a = inner.array else { throw JSONError.field(path: "\(path).fees", problem: "expected an array") }
                items = a; itemsPath = "\(path).fees"
            } else if o["resource"] != nil || o["url"] != nil {
                return nil
            } else {
                throw JSONError.field(path: path, problem: "expected {\"fees\": [...]}")
            }
        default:
            throw JSONError.field(path: path, problem: "expected an array of fees")
        }
        return try items.enumerated().map { i, v in try fee(BCFieldReader(v, path: "\(itemsPath)[\(i)]")) }
    }

    static func fee(_ r: BCFieldReader) throws -> BCFee {
        var f = BCFee(id: try r.requiredInt64("id"))
        f.name = try r.string("display_name_customer")
        if f.name.isEmpty { f.name = try r.string("display_name_merchant") }
        if f.name.isEmpty { f.name = try r.string("type") }
        let exTax = try r.optionalDecimal("cost_ex_tax") ?? r.optionalDecimal("cost_exc_tax")
        let incTax = try r.optionalDecimal("cost_inc_tax")
        let tax = try r.optionalDecimal("cost_tax")
        f.costExTax = exTax ?? incTax.map { $0 - (tax ?? 0) } ?? 0
        f.costIncTax = incTax ?? f.costExTax + (tax ?? 0)
        f.costTax = tax ?? f.costIncTax - f.costExTax
        f.taxClassID = try r.optionalInt64("tax_class_id")
        return f
    }
}
