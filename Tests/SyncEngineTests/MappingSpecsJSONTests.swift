import Foundation
import Testing
@testable import SyncEngine

private func dec(_ s: String) -> Decimal { Decimal.parse(s)! }

@Suite struct MappingSpecsJSONTests {

    static func roundTrip(_ json: JSON) throws -> JSON { try JSON.parse(json.serialized()) }

    static var line: LineSpec {
        var l = LineSpec(kind: .giftWrapping, sku: "SKU-Ω", name: "Zoë \"wrap\" 😀", rate: dec("1234567.1234"), quantity: dec("2.5"),
                         taxRate: dec("8.875"))
        l.description = "line\nbreak"
        l.discountAmount = dec("0.01")
        l.taxName = "NY State Tax + NYC Tax"
        l.productType = "services"
        l.bcLineID = 9_007_199_254_740_993
        return l
    }

    @Test func lineSpec() throws {
        #expect(try LineSpec(json: Self.roundTrip(Self.line.toJSON())) == Self.line)
        let bare = LineSpec(kind: .orderAmount, sku: nil, name: "x", rate: dec("-3.6"), quantity: 1, taxRate: nil)
        #expect(try LineSpec(json: Self.roundTrip(bare.toJSON())) == bare)
        for kind in LineKind.allCases {
            let l = LineSpec(kind: kind, sku: nil, name: "n", rate: 1, quantity: 1, taxRate: 0)
            #expect(try LineSpec(json: Self.roundTrip(l.toJSON())) == l)
        }
    }

    @Test func contactSpecAndDraft() throws {
        var d = ContactDraft(contactName: "Jane Doe (EUR)", email: "jane@example.com", currencyCode: "EUR")
        d.companyName = "Doe & Co"; d.firstName = "Jane"; d.lastName = "Doe"; d.phone = "+49 30 1234"; d.notes = "BigCommerce customer 42"
        d.billingAddress.attention = "Jane Doe"; d.billingAddress.address = "Unter den Linden 1"; d.billingAddress.city = "Berlin"
        d.billingAddress.zip = "10117"; d.billingAddress.country = "Germany"; d.billingAddress.state = "BE"; d.billingAddress.street2 = "c/o X"
        d.billingAddress.phone = "1"
        d.shippingAddress.city = "Potsdam"
        #expect(try ContactDraft(json: Self.roundTrip(d.toJSON())) == d)
        let spec = ContactSpec(key: "customer:42|EUR", draft: d)
        #expect(try ContactSpec(json: Self.roundTrip(spec.toJSON())) == spec)
    }

    @Test func itemSpecAndDraft() throws {
        var d = ItemDraft(name: "Blue Mug (MUG-BLU)", sku: "MUG-BLU", rate: dec("12.5"))
        d.description = "Colour: Blue"; d.productType = "service"; d.taxID = "982000000000001"
        #expect(try ItemDraft(json: Self.roundTrip(d.toJSON())) == d)
        let spec = ItemSpec(sku: "MUG-BLU", draft: d)
        #expect(try ItemSpec(json: Self.roundTrip(spec.toJSON())) == spec)
    }

    @Test func invoiceSpec() throws {
        var spec = InvoiceSpec(orderID: 101, invoiceNumber: "BC-101", referenceNumber: "101", contactKey: "guest:a@b.c|EUR", date: "2024-02-29",
                               currencyCode: "EUR", exchangeRate: dec("1.086957"), isInclusiveTax: true, lines: [Self.line, Self.line],
                               targetTotal: dec("53.59"), adjustment: dec("-0.01"))
        spec.notes = "n"
        #expect(try InvoiceSpec(json: Self.roundTrip(spec.toJSON())) == spec)
        spec.exchangeRate = nil
        #expect(try InvoiceSpec(json: Self.roundTrip(spec.toJSON())) == spec)
        // Key order and trailing zeros do not change the fingerprint.
        let reordered = try JSON.parse(#"{"notes":"n","adjustment":-0.010,"target_total":53.590}"#)
        var json = spec.toJSON().object!
        for (k, v) in reordered.object!.pairs { json[k] = v }
        #expect(try InvoiceSpec(json: .object(json)).fingerprint == spec.fingerprint)
    }

    @Test func paymentSpec() throws {
        var spec = PaymentSpec(orderID: 101, key: "txn:3", referenceNumber: "BC-TXN-3", contactKey: "customer:42", date: "2024-03-02",
                               amount: dec("38.59"), paymentMode: "Stripe", account: "Stripe Clearing", exchangeRate: dec("1.25"))
        spec.description = "BigCommerce order 101, stripe ch_3"
        #expect(try PaymentSpec(json: Self.roundTrip(spec.toJSON())) == spec)
        spec.account = nil; spec.exchangeRate = nil
        #expect(try PaymentSpec(json: Self.roundTrip(spec.toJSON())) == spec)
    }

    @Test func creditNoteSpec() throws {
        var spec = CreditNoteSpec(refundID: 9001, orderID: 101, creditNoteNumber: "BCR-9001", referenceNumber: "Refund 9001, order 101",
                                  contactKey: "customer:42", date: "2024-03-05", currencyCode: "USD", exchangeRate: nil, isInclusiveTax: false,
                                  lines: [Self.line], targetTotal: dec("18.5"), adjustment: 0, refundedAmount: 10, refundMode: "creditcard",
                                  refundAccount: "Checking")
        #expect(try CreditNoteSpec(json: Self.roundTrip(spec.toJSON())) == spec)
        spec.refundAccount = nil; spec.exchangeRate = dec("0.000001")
        #expect(try CreditNoteSpec(json: Self.roundTrip(spec.toJSON())) == spec)
    }

    @Test func problemsNameTheField() throws {
        let bad = try JSON.parse(#"{"order_id": 1, "invoice_number": "BC-1", "contact_key": "k", "date": "d", "currency_code": "USD", "is_inclusive_tax": false, "target_total": 1, "adjustment": 0, "lines": [{"kind": "product", "name": "x", "rate": "abc", "quantity": 1}]}"#)
        #expect(throws: JSONError.field(path: "invoice_spec.lines[0].rate", problem: "expected a number")) { try InvoiceSpec(json: bad) }
        let kind = try JSON.parse(#"{"kind": "tip", "name": "x", "rate": 1, "quantity": 1}"#)
        #expect(throws: JSONError.field(path: "line.kind", problem: "unknown line kind tip")) { try LineSpec(json: kind) }
        #expect(throws: JSONError.field(path: "payment_spec", problem: "expected an object")) { try PaymentSpec(json: .array([])) }
        #expect(throws: JSONError.field(path: "contact_spec.key", problem: "missing")) { try ContactSpec(json: ["draft": .null]) }
    }
}

@Suite struct MappingItemTests {
    static func product(name: String, sku: String, type: String = "physical") -> BCOrderProduct {
        var p = BCOrderProduct(id: 1)
        p.name = name; p.sku = sku; p.type = type
        p.priceExTax = Decimal.parse("20.825")!; p.priceIncTax = Decimal.parse("24.99")!
        p.options = ["Size: L", " ", "Colour:\tRed"]
        return p
    }

    @Test func itemFromLine() throws {
        let spec = try #require(ItemMapping.itemSpec(product: Self.product(name: "Scarf", sku: " SCARF-RED "), isTaxInclusive: true))
        #expect(spec.sku == "SCARF-RED")
        #expect(spec.draft.name == "Scarf (SCARF-RED)")
        #expect(spec.draft.rate == Decimal.parse("24.99")!)
        #expect(spec.draft.productType == "goods")
        #expect(spec.draft.description == "Size: L, Colour: Red")
        let exclusive = try #require(ItemMapping.itemSpec(product: Self.product(name: "Scarf", sku: "S"), isTaxInclusive: false, qualifyName: false))
        #expect(exclusive.draft.name == "Scarf")
        #expect(exclusive.draft.rate == Decimal.parse("20.825")!)
        #expect(ItemMapping.itemSpec(product: Self.product(name: "E-book", sku: "EB", type: "digital"), isTaxInclusive: false)?.draft.productType == "service")
        #expect(ItemMapping.itemSpec(product: Self.product(name: "Card", sku: "GC", type: "giftcertificate"), isTaxInclusive: false)?.draft.productType == "service")
        #expect(ItemMapping.itemSpec(product: Self.product(name: "Custom", sku: ""), isTaxInclusive: false) == nil)
        #expect(ItemMapping.itemSpec(product: Self.product(name: "Mug MUG-1", sku: "MUG-1"), isTaxInclusive: false)?.draft.name == "Mug MUG-1")
    }

    @Test func longNamesKeepTheSKU() throws {
        let spec = try #require(ItemMapping.itemSpec(product: Self.product(name: String(repeating: "Ü", count: 150), sku: "LONG-SKU-1"), isTaxInclusive: false))
        #expect(spec.draft.name.utf16.count == 100)
        #expect(spec.draft.name.hasSuffix("Ü (LONG-SKU-1)"))
        let other = ItemMapping.uniqueItemName(spec.draft.name, sku: "LONG-SKU-1")
        #expect(other.utf16.count <= 100)
        #expect(other.hasSuffix("Ü - SKU LONG-SKU-1"))
        #expect(ItemMapping.uniqueItemName("Mug (MUG-1)", sku: "MUG-1") == "Mug - SKU MUG-1")
    }

    @Test func itemForInvoiceLine() throws {
        let f = try MappingFixture.load("invoice.simple-exclusive.json")
        let order = MappingFixture.order(f["order"]!)
        let spec = try InvoiceMapping.invoiceSpec(order: order, contactKey: "k", settings: MappingSettings())
        #expect(ItemMapping.itemSpec(line: spec.lines[0], order: order, settings: MappingSettings())?.draft.name == "Blue Mug (MUG-BLU)")
        #expect(ItemMapping.itemSpec(line: spec.lines[2], order: order, settings: MappingSettings()) == nil)
        #expect(ItemMapping.itemSpecs(order: order, settings: MappingSettings()).map(\.sku) == ["MUG-BLU", "TEA-01"])
    }
}
