import Foundation
import Testing
@testable import SyncEngine

@Suite struct MappingPaymentTests {
    static func dec(_ s: String) -> Decimal { Decimal.parse(s)! }

    static func order(total: String = "53.59", status: String = "captured") -> BCOrder {
        var o = BCOrder(id: 101, dateCreated: MappingFixture.date("2024-03-01T03:30:00Z"), dateModified: MappingFixture.date("2024-03-01T03:30:00Z"))
        o.totalIncTax = dec(total)
        o.paymentStatus = status
        o.paymentMethod = "Credit Card"
        o.defaultCurrencyCode = "USD"
        return o
    }

    static func txn(_ id: Int64, _ event: String, _ amount: String, status: String = "ok", gateway: String = "stripe",
                    method: String = "credit_card", at: String = "2024-03-01T03:31:00Z") -> BCTransaction {
        var t = BCTransaction(id: id, orderID: 101, event: event, amount: dec(amount), dateCreated: MappingFixture.date(at), status: status)
        t.gateway = gateway
        t.method = method
        t.gatewayTransactionID = "ch_\(id)"
        return t
    }

    static var settings: MappingSettings {
        var s = MappingSettings()
        s.storeTimeZone = TimeZone(identifier: "America/New_York")!
        s.gatewayModes = ["stripe": "Stripe", "storecredit": "Store credit"]
        s.paymentAccount = "Stripe Clearing"
        return s
    }

    @Test func capturedTransactionsStoreCreditAndGiftCertificate() throws {
        var o = Self.order()
        o.storeCreditAmount = 10
        o.giftCertificateAmount = 5
        let txns = [
            Self.txn(3, "capture", "38.59", at: "2024-03-02T10:00:00Z"),
            Self.txn(1, "authorization", "38.59"),
            Self.txn(2, "purchase", "10.00", gateway: "storecredit", method: "store_credit"),
            Self.txn(4, "purchase", "12.00", status: "error"),
        ]
        let p = PaymentMapping.paymentSpecs(order: o, transactions: txns, contactKey: "customer:42", settings: Self.settings)
        #expect(p.map(\.key) == ["credit:101", "giftcert:101", "txn:3"])
        #expect(p.map(\.referenceNumber) == ["BC-101-credit", "BC-101-giftcert", "BC-TXN-3"])
        #expect(p.map(\.amount) == [10, 5, Self.dec("38.59")])
        #expect(p.map(\.paymentMode) == ["Store credit", "creditcard", "Stripe"])
        #expect(p.map(\.date) == ["2024-02-29", "2024-02-29", "2024-03-02"])
        #expect(p.allSatisfy { $0.account == "Stripe Clearing" && $0.contactKey == "customer:42" && $0.exchangeRate == nil })
        #expect(p[2].description == "BigCommerce order 101, stripe ch_3")
        for spec in p { #expect(try PaymentSpec(json: JSON.parse(spec.toJSON().serialized())) == spec) }
        let draft = p[2].resolve(customerID: "C1", invoiceID: "INV1", accountID: "A1")
        #expect(draft.customerID == "C1" && draft.invoiceID == "INV1" && draft.accountID == "A1")
        #expect(draft.referenceNumber == "BC-TXN-3" && draft.amount == Self.dec("38.59") && draft.paymentMode == "Stripe")
        #expect(draft.date == "2024-03-02")
    }

    @Test func paidWithoutTransactions() {
        var o = Self.order(status: "paid")
        o.storeCreditAmount = Self.dec("3.59")
        let p = PaymentMapping.paymentSpecs(order: o, transactions: [], contactKey: "k", settings: Self.settings)
        #expect(p.map(\.key) == ["credit:101", "paid:101"])
        #expect(p.map(\.amount) == [Self.dec("3.59"), 50])
        #expect(p[1].referenceNumber == "BC-101-paid")
        var off = Self.settings
        off.paidWithoutTransactions = false
        #expect(PaymentMapping.paymentSpecs(order: o, transactions: [], contactKey: "k", settings: off).map(\.key) == ["credit:101"])
    }

    @Test(arguments: ["paid", "captured", "partially refunded", "refunded", "Paid"])
    func paidStatuses(_ status: String) {
        let p = PaymentMapping.paymentSpecs(order: Self.order(status: status), transactions: [], contactKey: "k", settings: Self.settings)
        #expect(p.map(\.amount) == [Self.dec("53.59")])
    }

    @Test(arguments: ["authorized", "pending", "declined", "", "void", "held for review", "capture pending"])
    func unpaidStatuses(_ status: String) {
        #expect(PaymentMapping.paymentSpecs(order: Self.order(status: status), transactions: [], contactKey: "k", settings: Self.settings).isEmpty)
    }

    @Test func authorizationOnlyIsNoPayment() {
        let o = Self.order(status: "authorized")
        let p = PaymentMapping.paymentSpecs(order: o, transactions: [Self.txn(1, "authorization", "53.59")], contactKey: "k", settings: Self.settings)
        #expect(p.isEmpty)
    }

    @Test func neverMoreThanTheOrderTotal() {
        var o = Self.order(total: "50.00")
        o.giftCertificateAmount = 20
        let txns = [Self.txn(1, "purchase", "40.00", at: "2024-03-01T04:00:00Z"), Self.txn(2, "capture", "5.00", at: "2024-03-01T05:00:00Z")]
        let p = PaymentMapping.paymentSpecs(order: o, transactions: txns, contactKey: "k", settings: Self.settings)
        #expect(p.map(\.key) == ["giftcert:101", "txn:1"])
        #expect(p.map(\.amount) == [20, 30])
        #expect(p.reduce(Decimal(0)) { $0 + $1.amount } == 50)
    }

    @Test func testTransactionsAreKeptAndLabelled() {
        var t = Self.txn(7, "purchase", "53.59", gateway: "testgateway")
        t.test = true
        let p = PaymentMapping.paymentSpecs(order: Self.order(), transactions: [t], contactKey: "k", settings: Self.settings)
        #expect(p.count == 1)
        #expect(p[0].description.hasSuffix("(test transaction)"))
        #expect(p[0].paymentMode == "creditcard")
    }

    @Test func foreignCurrencyPaymentsCarryTheRate() {
        var o = Self.order()
        o.defaultCurrencyCode = "EUR"
        o.storeDefaultCurrencyCode = "USD"
        o.storeDefaultToTransactionalExchangeRate = Self.dec("0.8")
        let p = PaymentMapping.paymentSpecs(order: o, transactions: [Self.txn(1, "purchase", "53.59")], contactKey: "k", settings: Self.settings)
        #expect(p[0].exchangeRate == Self.dec("1.25"))
    }
}
