import Foundation
import Testing
@testable import SyncEngine

@Suite struct MappingRefundTests {
    static func dec(_ s: String) -> Decimal { Decimal.parse(s)! }

    static func order(_ name: String) throws -> (BCOrder, MappingSettings) {
        let f = try MappingFixture.load(name)
        return (MappingFixture.order(f["order"]!), MappingFixture.settings(f["settings"]))
    }

    static func refund(_ id: Int64, orderID: Int64, total: String, items: [BCRefundItem], paid: [(String, Bool)]? = nil) -> BCRefund {
        var r = BCRefund(id: id, orderID: orderID, created: MappingFixture.date("2024-03-05T16:00:00Z"), totalAmount: dec(total))
        r.items = items
        r.payments = (paid ?? [(total, false)]).enumerated().map { i, p in
            var pay = BCRefundPayment(id: Int64(i + 1), amount: dec(p.0))
            pay.isDeclined = p.1
            return pay
        }
        return r
    }

    static func item(_ type: String, _ id: Int64, quantity: Decimal? = nil, requested: String? = nil) -> BCRefundItem {
        var i = BCRefundItem(itemType: type, itemID: id)
        i.quantity = quantity
        i.requestedAmount = requested.map(dec)
        return i
    }

    @Test func productQuantityAndShipping() throws {
        let (order, settings) = try Self.order("invoice.simple-exclusive.json")
        let refund = Self.refund(9001, orderID: 101, total: "18.50", items: [Self.item("PRODUCT", 11, quantity: 1), Self.item("SHIPPING", 0)])
        let spec = try RefundMapping.creditNoteSpec(refund: refund, order: order, contactKey: "customer:42", settings: settings)
        #expect(spec.creditNoteNumber == "BCR-9001")
        #expect(spec.referenceNumber == "Refund 9001, order 101")
        #expect(spec.date == "2024-03-05")
        #expect(spec.currencyCode == "USD")
        #expect(spec.isInclusiveTax == false)
        #expect(spec.lines.map(\.kind) == [.product, .shipping])
        #expect(spec.lines[0].rate == Self.dec("12.5"))
        #expect(spec.lines[0].quantity == 1)
        #expect(spec.lines[0].taxRate == 8)
        #expect(spec.lines[0].bcLineID == 11)
        #expect(spec.lines[0].sku == "MUG-BLU")
        #expect(spec.lines[1].rate == 5)
        #expect(spec.lines[1].taxRate == nil)
        #expect(spec.adjustment == 0)
        #expect(spec.targetTotal == Self.dec("18.5"))
        #expect(spec.refundedAmount == Self.dec("18.5"))
        #expect(spec.refundMode == settings.refundMode)
        #expect(spec.predictedTotals(taxRounding: settings.taxRounding).total == spec.targetTotal)
        #expect(try CreditNoteSpec(json: JSON.parse(spec.toJSON().serialized())) == spec)

        let draft = spec.resolve(customerID: "C", invoiceID: "INV", itemIDs: ["MUG-BLU": "I1"], genericItemID: nil,
                                 taxIDs: ["8": ZohoTax(taxID: "T8", name: "State", percentage: 8)],
                                 invoiceLineItemIDs: [11: "L11", 12: "L12"])
        #expect(draft.creditNoteNumber == "BCR-9001")
        #expect(draft.invoiceID == "INV")
        #expect(draft.lines.map(\.invoiceLineItemID) == ["L11", nil])
        #expect(draft.lines.map(\.itemID) == ["I1", nil])
        #expect(draft.lines.map(\.taxID) == ["T8", nil])
    }

    @Test func requestedAmountIsReadTaxIncluded() throws {
        let (order, settings) = try Self.order("invoice.simple-exclusive.json")
        let refund = Self.refund(9002, orderID: 101, total: "10.00", items: [Self.item("PRODUCT", 12, requested: "10.00")])
        let spec = try RefundMapping.creditNoteSpec(refund: refund, order: order, contactKey: "k", settings: settings)
        #expect(spec.lines.count == 1)
        #expect(spec.lines[0].rate == Self.dec("9.2593"))
        #expect(spec.lines[0].quantity == 1)
        #expect(spec.lines[0].taxRate == 8)
        #expect(spec.adjustment == 0)
    }

    @Test func proportionalLineDiscount() throws {
        let (order, settings) = try Self.order("invoice.discounts.json")
        let refund = Self.refund(9003, orderID: 103, total: "7.54", items: [Self.item("PRODUCT", 32, quantity: 1)])
        let spec = try RefundMapping.creditNoteSpec(refund: refund, order: order, contactKey: "k", settings: settings)
        #expect(spec.lines[0].rate == Self.dec("7.25"))
        #expect(spec.lines[0].discountAmount == Self.dec("0.4"))
        #expect(spec.adjustment == 0)
    }

    @Test func noItemsIsOneUntaxedAmount() throws {
        let (order, settings) = try Self.order("invoice.simple-exclusive.json")
        var refund = Self.refund(9004, orderID: 101, total: "3.60", items: [])
        refund.reason = "Tax exemption certificate received"
        let spec = try RefundMapping.creditNoteSpec(refund: refund, order: order, contactKey: "k", settings: settings)
        #expect(spec.lines.count == 1)
        #expect(spec.lines[0].kind == .orderAmount)
        #expect(spec.lines[0].rate == Self.dec("3.6"))
        #expect(spec.lines[0].taxRate == nil)
        #expect(spec.lines[0].description == "Tax exemption certificate received")
        #expect(spec.adjustment == 0)
        // Refunds without items need neither lines nor taxes from the order.
        var bare = order
        bare.products = nil
        bare.taxes = nil
        #expect(try RefundMapping.creditNoteSpec(refund: refund, order: bare, contactKey: "k", settings: settings) == spec)
    }

    @Test func declinedPaymentsAreNotRefunded() throws {
        let (order, settings) = try Self.order("invoice.simple-exclusive.json")
        let refund = Self.refund(9005, orderID: 101, total: "18.50", items: [Self.item("PRODUCT", 11, quantity: 1), Self.item("SHIPPING", 0)],
                                 paid: [("18.50", true), ("10.00", false)])
        let spec = try RefundMapping.creditNoteSpec(refund: refund, order: order, contactKey: "k", settings: settings)
        #expect(spec.refundedAmount == 10)
        #expect(spec.targetTotal == Self.dec("18.5"))
        let allDeclined = Self.refund(9006, orderID: 101, total: "18.50", items: refund.items, paid: [("18.50", true)])
        #expect(try RefundMapping.creditNoteSpec(refund: allDeclined, order: order, contactKey: "k", settings: settings).refundedAmount == 0)
    }

    @Test func orderItemIsTaxExempt() throws {
        let (order, settings) = try Self.order("invoice.simple-exclusive.json")
        let refund = Self.refund(9007, orderID: 101, total: "5.00", items: [Self.item("ORDER", 101, requested: "5.00")])
        let spec = try RefundMapping.creditNoteSpec(refund: refund, order: order, contactKey: "k", settings: settings)
        #expect(spec.lines.map(\.kind) == [.orderAmount])
        #expect(spec.lines[0].taxRate == nil)
        #expect(spec.lines[0].rate == 5)
    }

    @Test func chargesKeepTheirTaxRates() throws {
        let (order, settings) = try Self.order("invoice.charges.json")
        let refund = Self.refund(9008, orderID: 105, total: "19.90",
                                 items: [Self.item("SHIPPING", 501), Self.item("HANDLING", 501), Self.item("GIFT_WRAPPING", 51),
                                         Self.item("FEE", 9)])
        let spec = try RefundMapping.creditNoteSpec(refund: refund, order: order, contactKey: "k", settings: settings)
        #expect(spec.lines.map(\.kind) == [.shipping, .handling, .giftWrapping, .fee])
        #expect(spec.lines.map(\.taxRate) == [5, nil, 10, Self.dec("2.5")])
        // 10 + 0.50 + 2 + 3 + 0.30 + 4 + 0.10 = 19.90
        #expect(spec.adjustment == 0)
    }

    @Test func inclusiveRefund() throws {
        let (order, settings) = try Self.order("invoice.inclusive-uk.json")
        let refund = Self.refund(9009, orderID: 102, total: "24.99", items: [Self.item("PRODUCT", 21, quantity: 1)])
        let spec = try RefundMapping.creditNoteSpec(refund: refund, order: order, contactKey: "k", settings: settings)
        #expect(spec.isInclusiveTax)
        #expect(spec.lines[0].rate == Self.dec("24.99"))
        #expect(spec.lines[0].taxRate == 20)
        #expect(spec.adjustment == 0)
    }

    @Test func problemsNameTheRefund() throws {
        let (order, settings) = try Self.order("invoice.simple-exclusive.json")
        let unknownLine = Self.refund(9010, orderID: 101, total: "1.00", items: [Self.item("PRODUCT", 999, quantity: 1)])
        #expect(throws: MappingProblem(entityKey: "refund:9010", message: "refund 9010: refunds order line 999, which is not on order 101")) {
            try RefundMapping.creditNoteSpec(refund: unknownLine, order: order, contactKey: "k", settings: settings)
        }
        // More than the line explains: the credit note still equals the refund, the difference is its adjustment (the
        // executor flags it for a person).
        let tooMuch = Self.refund(9011, orderID: 101, total: "100.00", items: [Self.item("PRODUCT", 11, quantity: 1)])
        let spec = try RefundMapping.creditNoteSpec(refund: tooMuch, order: order, contactKey: "k", settings: settings)
        #expect(spec.adjustment == Self.dec("86.50"))
        #expect(spec.targetTotal == Self.dec("100.00"))
        #expect(!Reconciliation.isRounding(spec.adjustment, target: spec.targetTotal))
        var noLines = order
        noLines.products = nil
        let needsLines = Self.refund(9012, orderID: 101, total: "13.50", items: [Self.item("PRODUCT", 11, quantity: 1)])
        #expect(throws: MappingProblem(entityKey: "refund:9012", message: "refund 9012: order 101: order lines were not loaded")) {
            try RefundMapping.creditNoteSpec(refund: needsLines, order: noLines, contactKey: "k", settings: settings)
        }
    }
}
