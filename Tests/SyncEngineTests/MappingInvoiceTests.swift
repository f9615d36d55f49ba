import Foundation
import Testing
@testable import SyncEngine

@Suite struct MappingInvoiceTests {
    static func dec(_ s: String) -> Decimal { Decimal.parse(s)! }

    static func fixtureOrder(_ name: String) throws -> (order: BCOrder, settings: MappingSettings, fixture: JSON) {
        let fixture = try MappingFixture.load(name)
        return (MappingFixture.order(fixture["order"]!), MappingFixture.settings(fixture["settings"]), fixture)
    }

    @Test(arguments: MappingFixture.invoiceFixtureNames())
    func invoiceFixture(_ name: String) throws {
        let (order, settings, fixture) = try Self.fixtureOrder(name)
        let expect = fixture["expect"]!
        let contactKey = ContactMapping.key(order: order, settings: settings)
        if let message = expect["error"]?.string {
            #expect(throws: MappingProblem(entityKey: "order:\(order.id)", message: message)) {
                try InvoiceMapping.invoiceSpec(order: order, contactKey: contactKey, settings: settings)
            }
            return
        }
        let spec = try InvoiceMapping.invoiceSpec(order: order, contactKey: contactKey, settings: settings)

        if let v = expect["invoice_number"]?.string { #expect(spec.invoiceNumber == v) }
        if let v = expect["reference_number"]?.string { #expect(spec.referenceNumber == v) }
        if let v = expect["date"]?.string { #expect(spec.date == v) }
        if let v = expect["currency_code"]?.string { #expect(spec.currencyCode == v) }
        if let v = expect["exchange_rate"] { #expect(spec.exchangeRate == v.decimal) }
        if let v = expect["is_inclusive_tax"]?.bool { #expect(spec.isInclusiveTax == v) }
        if let v = expect["contact_key"]?.string { #expect(contactKey == v) }
        if let v = expect["contact_name"]?.string {
            #expect(ContactMapping.contactSpec(order: order, settings: settings).draft.contactName == v)
        }

        let expectedLines = expect["lines"]?.array ?? []
        #expect(spec.lines.count == expectedLines.count, "\(spec.lines.map { $0.toJSON().serializedString() })")
        for (i, (line, want)) in zip(spec.lines, expectedLines).enumerated() {
            let got = line.toJSON()
            for (key, value) in want.object!.pairs {
                if let d = value.decimal, key != "sku", key != "name" {
                    #expect(got[key]?.decimal == d, "line \(i) \(key)")
                } else {
                    #expect(got[key] == value, "line \(i) \(key): \(got[key].map { $0.serializedString() } ?? "missing")")
                }
            }
        }

        let withoutAdjustment = TotalPrediction.compute(lines: spec.lines, isInclusiveTax: spec.isInclusiveTax, taxRounding: settings.taxRounding)
        #expect(withoutAdjustment.subTotal == Self.dec(expect["sub_total"]!.string!))
        #expect(withoutAdjustment.taxTotal == Self.dec(expect["tax_total"]!.string!))
        #expect(withoutAdjustment.total == Self.dec(expect["predicted_total"]!.string!))
        #expect(spec.adjustment == Self.dec(expect["adjustment"]!.string!))
        #expect(spec.targetTotal == Self.dec(expect["target_total"]!.string!))
        // The invariant that matters: Zoho's total with the adjustment is BigCommerce's total, to the cent.
        #expect(spec.predictedTotals(taxRounding: settings.taxRounding).total == spec.targetTotal)
        #expect(spec.targetTotal == order.totalIncTax.rounded(scale: 2))
        // Journal round trip.
        #expect(try InvoiceSpec(json: JSON.parse(spec.toJSON().serialized())) == spec)
    }

    @Test func roundingCentDisappearsWithEntityLevelRounding() throws {
        var (order, settings, _) = try Self.fixtureOrder("invoice.rounding-cent.json")
        settings.taxRounding = .entityLevel
        let spec = try InvoiceMapping.invoiceSpec(order: order, contactKey: "guest:sam@example.com", settings: settings)
        #expect(spec.adjustment == 0)
        #expect(spec.predictedTotals(taxRounding: .entityLevel).taxTotal == Self.dec("4.44"))
        order.totalIncTax = Self.dec("54.4400")
        let off = try InvoiceMapping.invoiceSpec(order: order, contactKey: "guest:sam@example.com", settings: settings)
        #expect(off.adjustment == Self.dec("0.01"))
        #expect(off.predictedTotals(taxRounding: .entityLevel).total == Self.dec("54.44"))
    }

    @Test func unpricedBundleParentKeepsPricedChildren() throws {
        var (order, settings, _) = try Self.fixtureOrder("invoice.bundle.json")
        order.products![0].priceExTax = 0; order.products![0].priceIncTax = 0
        order.products![0].totalExTax = 0; order.products![0].totalIncTax = 0
        order.products![1].priceExTax = 30; order.products![1].priceIncTax = 30
        order.products![1].totalExTax = 30; order.products![1].totalIncTax = 30
        order.products![2].priceExTax = 10; order.products![2].priceIncTax = 10
        order.products![2].totalExTax = 20; order.products![2].totalIncTax = 20
        let spec = try InvoiceMapping.invoiceSpec(order: order, contactKey: "k", settings: settings)
        #expect(spec.lines.map(\.sku) == ["KIT-1", "TENT-1", "STOVE-1"])
        #expect(spec.adjustment == 0)
        #expect(ItemMapping.itemSpecs(order: order, settings: settings).map(\.sku) == ["KIT-1", "TENT-1", "STOVE-1"])
    }

    @Test func bundleChildrenAreNotItems() throws {
        let (order, settings, _) = try Self.fixtureOrder("invoice.bundle.json")
        #expect(ItemMapping.itemSpecs(order: order, settings: settings).map(\.sku) == ["KIT-1"])
    }

    @Test func singleLineTaxModeExclusive() throws {
        var (order, settings, _) = try Self.fixtureOrder("invoice.rounding-cent.json")
        settings.taxMode = .singleLine
        order.taxes = nil  // not needed in this mode
        let spec = try InvoiceMapping.invoiceSpec(order: order, contactKey: "k", settings: settings)
        #expect(spec.lines.allSatisfy { $0.taxRate == nil })
        let taxLine = try #require(spec.lines.last)
        #expect(taxLine.kind == .orderAmount)
        #expect(taxLine.name == "Sales tax (BigCommerce)")
        #expect(taxLine.rate == Self.dec("4.44"))
        #expect(spec.adjustment == 0)
        #expect(spec.predictedTotals(taxRounding: settings.taxRounding).total == Self.dec("54.43"))
    }

    @Test func singleLineTaxModeInclusiveStoreBecomesExclusiveDocument() throws {
        var (order, settings, _) = try Self.fixtureOrder("invoice.inclusive-uk.json")
        settings.taxMode = .singleLine
        let spec = try InvoiceMapping.invoiceSpec(order: order, contactKey: "k", settings: settings)
        #expect(spec.isInclusiveTax == false)
        #expect(spec.lines.map(\.rate) == [Self.dec("20.825"), 10, Self.dec("4.1583"), Self.dec("13.33")])
        // 62.475 → 62.48, + 10 + 4.16 + 13.33 = 89.97: one cent of rounding against 89.96.
        #expect(spec.adjustment == Self.dec("-0.01"))
        #expect(spec.predictedTotals(taxRounding: settings.taxRounding).total == order.totalIncTax)
        order.taxes = nil
        #expect(try InvoiceMapping.invoiceSpec(order: order, contactKey: "k", settings: settings) == spec)
    }

    @Test func inclusiveStoreDiscountComesFromDiscountedTotalWhenNoAppliedDiscounts() throws {
        var (order, settings, _) = try Self.fixtureOrder("invoice.inclusive-uk.json")
        order.products![0].discountedTotalIncTax = Self.dec("69.9700")
        order.totalIncTax = Self.dec("84.9600")
        let spec = try InvoiceMapping.invoiceSpec(order: order, contactKey: "k", settings: settings)
        #expect(spec.lines[0].discountAmount == 5)
        #expect(spec.adjustment == 0)
    }

    @Test func lineWithoutSKUIsKeptAsGenericOrItemless() throws {
        let (order, settings, _) = try Self.fixtureOrder("invoice.inclusive-uk.json")
        let spec = try InvoiceMapping.invoiceSpec(order: order, contactKey: "k", settings: settings)
        #expect(spec.lines.count == 3)
        #expect(spec.lines[1].sku == nil)
        #expect(ItemMapping.itemSpecs(order: order, settings: settings).map(\.sku) == ["SCARF-RED"])
        let vat = ZohoTax(taxID: "T20", name: "VAT", percentage: 20)
        let withGeneric = spec.resolve(customerID: "C1", itemIDs: ["SCARF-RED": "I1"], genericItemID: "G", taxIDs: ["20": vat])
        #expect(withGeneric.lines.map(\.itemID) == ["I1", "G", nil])
        let itemless = spec.resolve(customerID: "C1", itemIDs: [:], genericItemID: nil, taxIDs: ["20": vat])
        #expect(itemless.lines.map(\.itemID) == [nil, nil, nil])
        #expect(itemless.lines[1].name == "Gift Certificate £10")
    }

    @Test func resolveProducesTheDraft() throws {
        let (order, settings, _) = try Self.fixtureOrder("invoice.rounding-cent.json")
        let spec = try InvoiceMapping.invoiceSpec(order: order, contactKey: "guest:sam@example.com", settings: settings)
        #expect(spec.taxRates == [Self.dec("8.875")])
        let tax = ZohoTax(taxID: "982000000000001", name: "NY 8.875", percentage: Self.dec("8.875"))
        let draft = spec.resolve(customerID: "982000000000777", itemIDs: ["MUG-BLU": "I-MUG"], genericItemID: "I-GEN",
                                 taxIDs: ["8.875": tax])
        #expect(draft.invoiceNumber == "BC-107")
        #expect(draft.referenceNumber == "107")
        #expect(draft.customerID == "982000000000777")
        #expect(draft.date == "2024-06-10")
        #expect(draft.currencyCode == "USD")
        #expect(draft.exchangeRate == nil)
        #expect(draft.isInclusiveTax == false)
        #expect(draft.adjustment == Self.dec("0.01"))
        #expect(draft.adjustmentDescription == "Rounding vs BigCommerce")
        #expect(draft.lines.map(\.itemID) == ["I-MUG", "I-GEN", nil])
        #expect(draft.lines.map(\.taxID) == ["982000000000001", "982000000000001", "982000000000001"])
        #expect(draft.lines.map(\.productType) == ["goods", "goods", "services"])
        #expect(draft.lines.allSatisfy { $0.taxPercentage == Self.dec("8.875") })
        // The resolved draft predicts the same total as the spec.
        #expect(TotalPrediction.compute(lines: draft.lines, isInclusiveTax: false, adjustment: draft.adjustment,
                                        taxRounding: .itemLevel).total == Self.dec("54.43"))
    }

    @Test func fingerprintIgnoresStatusButNotContent() throws {
        var (order, settings, _) = try Self.fixtureOrder("invoice.simple-exclusive.json")
        let a = try InvoiceMapping.invoiceSpec(order: order, contactKey: "customer:42", settings: settings)
        order.statusID = 2
        order.status = "Shipped"
        order.dateModified = order.dateModified.addingTimeInterval(3600)
        let b = try InvoiceMapping.invoiceSpec(order: order, contactKey: "customer:42", settings: settings)
        #expect(OrderFingerprint.of(a) == OrderFingerprint.of(b))
        #expect(a.fingerprint.count == 64)
        order.products![0].quantity = 3
        order.products![0].totalExTax = Self.dec("37.5")
        order.totalIncTax = Self.dec("67.09")
        let c = try InvoiceMapping.invoiceSpec(order: order, contactKey: "customer:42", settings: settings)
        #expect(OrderFingerprint.of(a) != OrderFingerprint.of(c))
    }

    @Test func exchangeRateRules() {
        var order = BCOrder(id: 1, dateCreated: Date(), dateModified: Date())
        var settings = MappingSettings()
        settings.baseCurrency = "USD"
        order.defaultCurrencyCode = "USD"
        #expect(InvoiceMapping.exchangeRate(order: order, currency: "USD", settings: settings) == nil)
        order.storeDefaultCurrencyCode = "USD"
        order.storeDefaultToTransactionalExchangeRate = Self.dec("0.8")
        #expect(InvoiceMapping.exchangeRate(order: order, currency: "EUR", settings: settings) == Self.dec("1.25"))
        order.storeDefaultCurrencyCode = "CAD"
        #expect(InvoiceMapping.exchangeRate(order: order, currency: "EUR", settings: settings) == nil)
        order.defaultCurrencyCode = ""
        order.currencyCode = "gbp"
        #expect(InvoiceMapping.currency(of: order, settings: settings) == "GBP")
        order.currencyCode = ""
        #expect(InvoiceMapping.currency(of: order, settings: settings) == "USD")
    }

    @Test func storeTimeZoneDecidesTheDate() {
        let instant = MappingFixture.date("2024-12-31T23:30:00Z")
        #expect(MappingText.day(instant, in: TimeZone(identifier: "UTC")!) == "2024-12-31")
        #expect(MappingText.day(instant, in: TimeZone(identifier: "Asia/Tokyo")!) == "2025-01-01")
        #expect(MappingText.day(instant, in: TimeZone(identifier: "America/Los_Angeles")!) == "2024-12-31")
    }
}
