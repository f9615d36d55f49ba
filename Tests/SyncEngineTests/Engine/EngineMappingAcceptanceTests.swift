import Foundation
import Testing
@testable import Stores
@testable import SyncEngine

/// Mapping cases the sync must get right end to end: a 60-line cart, a full refund, two partial refunds of one
/// order. Each checks the Zoho total against BigCommerce to the cent through the in-memory Zoho, which computes
/// totals the way Zoho does.
@Suite struct EngineMappingAcceptanceTests {
    @Test func sixtyLineCartTotalsToTheCent() async throws {
        let h = try EngineHarness()
        let lines: [(String, Decimal, Decimal)] = (1...60).map { i in
            ("SKU-\(i)", Decimal(i % 4 + 1), Decimal(string: "\(i % 9 + 1).\(String(format: "%02d", (i * 37) % 100))")!)
        }
        let order = h.addOrder(id: 7001, customerID: 3, lines: lines, shipping: Decimal(string: "7.95")!, taxRate: Decimal(string: "8.875")!)
        let spec = try InvoiceMapping.invoiceSpec(order: order, contactKey: "customer:3", settings: h.settings.mapping)
        #expect(spec.lines.filter { $0.kind == .product }.count == 60)
        let predicted = TotalPrediction.compute(lines: spec.lines, isInclusiveTax: spec.isInclusiveTax, adjustment: spec.adjustment,
                                                taxRounding: h.settings.mapping.taxRounding)
        #expect(predicted.total == order.totalIncTax.roundedToCents)
        try await h.sync()
        try h.checkInvariants(orders: [7001])
        #expect(h.zoho.storedInvoice(number: "BC-7001")?.lines.count == 61)
    }

    @Test func fullRefundCreditsTheWholeOrder() async throws {
        let h = try EngineHarness()
        let order = h.addOrder(id: 7101, customerID: 4, lines: [("SKU-A", 2, 19.99), ("SKU-B", 1, 5.5)], shipping: 4.95, taxRate: 20)
        try await h.sync()
        var refund = BCRefund(id: 8101, orderID: 7101, created: h.serverClock.now(), totalAmount: order.totalIncTax)
        refund.items = (order.products ?? []).map { p in
            var item = BCRefundItem(itemType: "PRODUCT", itemID: p.id)
            item.quantity = p.quantity
            return item
        }
        var shipping = BCRefundItem(itemType: "SHIPPING", itemID: 1)
        shipping.requestedAmount = order.shippingCostIncTax
        refund.items.append(shipping)
        var payment = BCRefundPayment(id: 1, amount: order.totalIncTax)
        payment.providerID = "testgateway"
        refund.payments = [payment]
        h.bc.addRefund(refund)
        _ = h.bc.editOrder(id: 7101) { $0.statusID = 4 }
        try await h.sync()
        let note = try #require(h.zoho.storedCreditNote(number: "BCR-8101"))
        #expect(note.total == order.totalIncTax.roundedToCents)
        #expect(note.refunds.map(\.amount).reduce(0, +) == order.totalIncTax.roundedToCents)
        try h.checkInvariants(orders: [7101])
    }

    @Test func twoPartialRefundsMakeTwoCreditNotes() async throws {
        let h = try EngineHarness()
        let order = h.addOrder(id: 7201, lines: [("SKU-A", 3, 10), ("SKU-B", 1, 25)], shipping: 6, taxRate: 10)
        try await h.sync()
        let line = try #require(order.products?.first)
        var first = BCRefund(id: 8201, orderID: 7201, created: h.serverClock.now(), totalAmount: 11)
        var item = BCRefundItem(itemType: "PRODUCT", itemID: line.id)
        item.quantity = 1
        first.items = [item]
        first.payments = [BCRefundPayment(id: 1, amount: 11)]
        h.bc.addRefund(first)
        _ = h.bc.editOrder(id: 7201) { $0.statusID = 14 }
        try await h.sync()
        var second = BCRefund(id: 8202, orderID: 7201, created: h.serverClock.now(), totalAmount: Decimal(string: "6.60")!)
        var ship = BCRefundItem(itemType: "SHIPPING", itemID: 1)
        ship.requestedAmount = Decimal(string: "6.60")!
        second.items = [ship]
        second.payments = [BCRefundPayment(id: 2, amount: Decimal(string: "6.60")!)]
        h.bc.addRefund(second)
        try await h.sync()
        #expect(h.zoho.storedCreditNote(number: "BCR-8201")?.total == 11)
        #expect(h.zoho.storedCreditNote(number: "BCR-8202")?.total == Decimal(string: "6.60")!)
        #expect(h.zoho.allCreditNotes.count == 2)
        try h.checkInvariants(orders: [7201])
        h.zoho.resetCounters()
        try await h.sync()
        #expect(h.zohoWrites == 0)
    }
}
