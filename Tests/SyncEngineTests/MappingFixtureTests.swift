import Foundation
import Testing
@testable import SyncEngine

// Reads the mapping fixtures in `Tests/Fixtures/mapping/`: a BigCommerce order (and optionally settings and
// the expected invoice) in a small snake_case JSON shape that mirrors the model types field by field.
// Money may be written as strings ("12.5000", as BigCommerce sends it) or numbers.

enum MappingFixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/mapping")

    static func load(_ name: String) throws -> JSON {
        try JSON.parse(Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func invoiceFixtureNames() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasPrefix("invoice.") && $0.hasSuffix(".json") }.sorted()
    }

    static func date(_ text: String) -> Date {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)!
    }

    static func settings(_ json: JSON?) -> MappingSettings {
        var s = MappingSettings()
        guard let json else { return s }
        if let v = json["base_currency"]?.string { s.baseCurrency = v }
        if let v = json["time_zone"]?.string { s.storeTimeZone = TimeZone(identifier: v)! }
        if let v = json["tax_rounding"]?.string { s.taxRounding = TaxRounding(rawValue: v)! }
        if let v = json["tax_mode"]?.string { s.taxMode = MappingSettings.TaxMode(rawValue: v)! }
        return s
    }

    static func money(_ j: JSON?, _ key: String) -> Decimal { j?[key]?.decimal ?? 0 }
    static func text(_ j: JSON?, _ key: String) -> String { j?[key]?.string ?? "" }

    static func address(_ j: JSON?) -> BCAddress {
        var a = BCAddress()
        a.firstName = text(j, "first_name"); a.lastName = text(j, "last_name"); a.company = text(j, "company")
        a.street1 = text(j, "street_1"); a.street2 = text(j, "street_2"); a.city = text(j, "city"); a.state = text(j, "state")
        a.zip = text(j, "zip"); a.country = text(j, "country"); a.countryISO2 = text(j, "country_iso2")
        a.phone = text(j, "phone"); a.email = text(j, "email")
        return a
    }

    static func product(_ j: JSON) -> BCOrderProduct {
        var p = BCOrderProduct(id: j["id"]!.int64!)
        p.productID = j["product_id"]?.int64 ?? 0
        p.name = text(j, "name"); p.sku = text(j, "sku"); p.type = j["type"]?.string ?? "physical"
        p.quantity = j["quantity"]?.decimal ?? 1
        p.priceExTax = money(j, "price_ex_tax"); p.priceIncTax = money(j, "price_inc_tax"); p.priceTax = money(j, "price_tax")
        p.totalExTax = money(j, "total_ex_tax"); p.totalIncTax = money(j, "total_inc_tax"); p.totalTax = money(j, "total_tax")
        p.discountedTotalIncTax = j["discounted_total_inc_tax"]?.decimal
        p.appliedDiscounts = (j["applied_discounts"]?.array ?? []).map {
            BCAppliedDiscount(id: $0["id"]?.stringOrNumberText ?? "", amount: $0["amount"]?.decimal ?? 0, name: text($0, "name"),
                              code: $0["code"]?.string, target: $0["target"]?.string ?? "product")
        }
        p.parentOrderProductID = j["parent_order_product_id"]?.int64
        p.isBundledProduct = j["is_bundled_product"]?.bool ?? false
        p.wrappingName = text(j, "wrapping_name")
        p.wrappingCostExTax = money(j, "wrapping_cost_ex_tax"); p.wrappingCostIncTax = money(j, "wrapping_cost_inc_tax")
        p.wrappingCostTax = money(j, "wrapping_cost_tax")
        p.options = (j["options"]?.array ?? []).compactMap(\.string)
        return p
    }

    static func order(_ j: JSON) -> BCOrder {
        let created = date(j["date_created"]?.string ?? "2024-01-01T12:00:00Z")
        var o = BCOrder(id: j["id"]!.int64!, dateCreated: created, dateModified: created)
        o.customerID = j["customer_id"]?.int64 ?? 0
        o.statusID = j["status_id"]?.int ?? 11
        o.isDeleted = j["is_deleted"]?.bool ?? false
        o.isTaxInclusivePricing = j["is_tax_inclusive_pricing"]?.bool ?? false
        o.subtotalExTax = money(j, "subtotal_ex_tax"); o.subtotalIncTax = money(j, "subtotal_inc_tax"); o.subtotalTax = money(j, "subtotal_tax")
        o.shippingCostExTax = money(j, "shipping_cost_ex_tax"); o.shippingCostIncTax = money(j, "shipping_cost_inc_tax")
        o.shippingCostTax = money(j, "shipping_cost_tax")
        o.handlingCostExTax = money(j, "handling_cost_ex_tax"); o.handlingCostIncTax = money(j, "handling_cost_inc_tax")
        o.handlingCostTax = money(j, "handling_cost_tax")
        o.wrappingCostExTax = money(j, "wrapping_cost_ex_tax"); o.wrappingCostIncTax = money(j, "wrapping_cost_inc_tax")
        o.wrappingCostTax = money(j, "wrapping_cost_tax")
        o.totalExTax = money(j, "total_ex_tax"); o.totalIncTax = money(j, "total_inc_tax"); o.totalTax = money(j, "total_tax")
        o.discountAmount = money(j, "discount_amount"); o.couponDiscount = money(j, "coupon_discount")
        o.storeCreditAmount = money(j, "store_credit_amount"); o.giftCertificateAmount = money(j, "gift_certificate_amount")
        o.currencyCode = text(j, "currency_code"); o.defaultCurrencyCode = text(j, "default_currency_code")
        o.storeDefaultCurrencyCode = text(j, "store_default_currency_code")
        o.storeDefaultToTransactionalExchangeRate = j["store_default_to_transactional_exchange_rate"]?.decimal ?? 1
        o.paymentMethod = text(j, "payment_method"); o.paymentStatus = text(j, "payment_status")
        o.billingAddress = address(j["billing_address"])
        if let a = j["products"]?.array { o.products = a.map(product) }
        if let a = j["shipping"]?.array {
            o.shipping = a.map { s in
                var x = BCShipping(id: s["id"]!.int64!)
                x.address = address(s["address"]); x.method = text(s, "method")
                x.costExTax = money(s, "cost_ex_tax"); x.costIncTax = money(s, "cost_inc_tax"); x.costTax = money(s, "cost_tax")
                x.handlingCostExTax = money(s, "handling_cost_ex_tax"); x.handlingCostIncTax = money(s, "handling_cost_inc_tax")
                x.handlingCostTax = money(s, "handling_cost_tax")
                return x
            }
        }
        if let a = j["fees"]?.array {
            o.fees = a.map { f in
                var x = BCFee(id: f["id"]!.int64!)
                x.name = text(f, "name"); x.costExTax = money(f, "cost_ex_tax"); x.costIncTax = money(f, "cost_inc_tax")
                x.costTax = money(f, "cost_tax")
                return x
            }
        }
        if let a = j["taxes"]?.array {
            o.taxes = a.map { t in
                var x = BCOrderTax(id: t["id"]!.int64!)
                x.name = text(t, "name"); x.rate = money(t, "rate"); x.lineAmount = money(t, "line_amount")
                x.lineItemType = t["line_item_type"]?.string; x.orderProductID = t["order_product_id"]?.int64
                x.orderAddressID = t["order_address_id"]?.int64
                return x
            }
        }
        return o
    }
}

@Suite struct MappingFixtureTests {
    @Test func everyFixtureDescribesItsScenario() throws {
        let names = (try FileManager.default.contentsOfDirectory(atPath: MappingFixture.directory.path)).filter { $0.hasSuffix(".json") }
        #expect(names.count >= 11)
        for name in names {
            let f = try MappingFixture.load(name)
            #expect(f["scenario"]?.string?.isEmpty == false, "\(name)")
            #expect(f["order"]?["id"]?.int64 != nil, "\(name)")
            #expect(f["expect"] != nil, "\(name)")
        }
    }
}
