import Foundation
import Testing
@testable import Stores
@testable import SyncEngine

/// A whole connector in one process: in-memory BigCommerce and Zoho with real semantics, a real SQLite
/// state store in a fresh temp folder, and a test clock. `reopen()` drops the store object as a crash would.
final class EngineHarness: @unchecked Sendable {
    let dir: URL
    /// zbsync's local clock.
    let clock: TestClock
    /// BigCommerce's clock; moves with `clock` except when a test skews the local one.
    let serverClock: TestClock
    let bc: InMemoryBigCommerce
    let zoho: InMemoryZohoBooks
    let key = MasterKey.generate()
    var store: SQLiteStateStore
    var settings: SyncSettings
    var sink: ZohoBooksSink
    let logs = InMemoryLogSink()
    private var runs = 0

    init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("zbsync-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        clock = TestClock(start: start)
        serverClock = TestClock(start: start)
        bc = InMemoryBigCommerce(now: start, clock: serverClock)
        zoho = InMemoryZohoBooks(clock: clock)
        sink = zoho
        store = try SQLiteStateStore.open(home: dir, vault: SecretsVault(key: key))
        var mapping = MappingSettings()
        mapping.taxMode = .create
        settings = SyncSettings(mapping: mapping, start: start.addingTimeInterval(-30 * 86_400))
        settings.maxAttempts = 3
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// A new store object on the same file, as after a process restart.
    func reopen() throws {
        store = try SQLiteStateStore.open(home: dir, vault: SecretsVault(key: key))
    }

    func runner() -> SyncRunner {
        runs += 1
        return SyncRunner(source: bc, sink: sink, store: store, clock: clock, logger: Logger(sink: logs, minimumLevel: .debug),
                          settings: settings, runID: "run-\(runs)")
    }

    /// Runs `sync` after letting time pass (so the lag window covers what was just added).
    @discardableResult
    func sync(_ options: SyncOptions = SyncOptions(), advance: Double = 120) async throws -> SyncReport {
        clock.advance(by: advance)
        serverClock.advance(by: advance)
        return try await runner().sync(options)
    }

    /// Zoho write calls since the last counter reset.
    var zohoWrites: Int {
        InMemoryZohoBooks.Operation.allCases.filter(\.isWrite).map { zoho.requestCount($0) }.reduce(0, +)
    }
    var zohoReads: Int {
        InMemoryZohoBooks.Operation.allCases.filter { !$0.isWrite }.map { zoho.requestCount($0) }.reduce(0, +)
    }

    // MARK: Store building

    /// A consistent tax-exclusive order: `lines` of (sku, quantity, unit price ex tax), `taxRate` percent on lines
    /// and shipping, a captured payment of the total unless `paid` is false.
    @discardableResult
    func addOrder(id: Int64, customerID: Int64 = 0, email: String? = nil, lines: [(String, Decimal, Decimal)] = [("SKU-1", 2, 10)],
                  shipping: Decimal = 5, taxRate: Decimal = 10, status: Int = 11, paid: Bool = true, currency: String = "USD",
                  modified: Date? = nil) -> BCOrder {
        let now = modified ?? serverClock.now()
        var order = BCOrder(id: id, dateCreated: now, dateModified: now)
        order.customerID = customerID
        order.statusID = status
        order.defaultCurrencyCode = currency
        order.currencyCode = currency
        order.storeDefaultCurrencyCode = "USD"
        order.paymentStatus = paid ? "captured" : ""
        order.paymentMethod = "Credit Card"
        order.billingAddress.firstName = "Ada"
        order.billingAddress.lastName = "Shopper \(customerID == 0 ? id : customerID)"
        order.billingAddress.email = email ?? (customerID == 0 ? "guest\(id)@example.com" : "customer\(customerID)@example.com")
        order.billingAddress.countryISO2 = "US"
        var products: [BCOrderProduct] = []
        var taxes: [BCOrderTax] = []
        var subtotal: Decimal = 0
        var tax: Decimal = 0
        for (index, (sku, qty, price)) in lines.enumerated() {
            var p = BCOrderProduct(id: id * 100 + Int64(index))
            p.productID = Int64(index + 1)
            p.name = "Product \(sku)"
            p.sku = sku
            p.quantity = qty
            p.priceExTax = price
            p.priceTax = (price * taxRate / 100).rounded(scale: 4)
            p.priceIncTax = price + p.priceTax
            p.totalExTax = price * qty
            p.totalTax = (p.totalExTax * taxRate / 100).roundedToCents
            p.totalIncTax = p.totalExTax + p.totalTax
            p.discountedTotalIncTax = p.totalIncTax
            p.orderAddressID = 1
            products.append(p)
            subtotal += p.totalExTax
            tax += p.totalTax
            if taxRate > 0 {
                var row = BCOrderTax(id: Int64(taxes.count + 1))
                row.rate = taxRate; row.lineAmount = p.totalTax; row.lineItemType = "item"; row.orderProductID = p.id
                row.orderAddressID = 1; row.name = "Sales Tax"; row.taxClass = "Default"
                taxes.append(row)
            }
        }
        let shippingTax = (shipping * taxRate / 100).roundedToCents
        var ship = BCShipping(id: 1)
        ship.costExTax = shipping; ship.costTax = shippingTax; ship.costIncTax = shipping + shippingTax
        ship.method = "Flat rate"
        if taxRate > 0, shipping > 0 {
            var row = BCOrderTax(id: Int64(taxes.count + 1))
            row.rate = taxRate; row.lineAmount = shippingTax; row.lineItemType = "shipping"; row.orderAddressID = 1; row.name = "Sales Tax"
            taxes.append(row)
        }
        order.products = products
        order.shipping = [ship]
        order.fees = []
        order.taxes = taxes
        order.coupons = []
        order.subtotalExTax = subtotal
        order.subtotalTax = tax
        order.subtotalIncTax = subtotal + tax
        order.shippingCostExTax = shipping
        order.shippingCostTax = shippingTax
        order.shippingCostIncTax = shipping + shippingTax
        order.totalExTax = subtotal + shipping
        order.totalTax = tax + shippingTax
        order.totalIncTax = order.totalExTax + order.totalTax
        bc.addOrder(order)
        if paid {
            bc.addTransaction(BCTransaction(id: id * 10, orderID: id, event: "purchase", amount: order.totalIncTax,
                                            dateCreated: now, status: "ok"))
        }
        return order
    }

    func addRefund(id: Int64, orderID: Int64, amount: Decimal) {
        var refund = BCRefund(id: id, orderID: orderID, created: serverClock.now(), totalAmount: amount)
        var item = BCRefundItem(itemType: "ORDER", itemID: orderID)
        item.requestedAmount = amount
        refund.items = [item]
        var payment = BCRefundPayment(id: id, amount: amount)
        payment.providerID = "testgateway"
        refund.payments = [payment]
        bc.addRefund(refund)
    }

    // MARK: Invariants

    /// Every invoiced order has exactly one Zoho invoice, whose total equals BigCommerce's; every mapping points
    /// at a document that exists; no document number appears twice. `context` (a seed, a case) starts every message.
    func checkInvariants(orders: [Int64], context: String = "", sourceLocation: SourceLocation = #_sourceLocation) throws {
        let prefix = context.isEmpty ? "" : context + ": "
        let invoices = zoho.allInvoices
        let numbers = invoices.map(\.invoiceNumber)
        #expect(Set(numbers).count == numbers.count, "\(prefix)duplicate invoice numbers: \(numbers)", sourceLocation: sourceLocation)
        for id in orders {
            let matching = invoices.filter { $0.invoiceNumber == "BC-\(id)" }
            #expect(matching.count == 1, "\(prefix)order \(id) has \(matching.count) invoices", sourceLocation: sourceLocation)
            guard let invoice = matching.first, let order = bc.storedOrder(id: id) else { continue }
            #expect(invoice.total == order.totalIncTax.roundedToCents, "\(prefix)order \(id): Zoho \(invoice.total) vs BigCommerce \(order.totalIncTax)", sourceLocation: sourceLocation)
            let mapping = try store.mapping(EntityKey.order(id))
            #expect(mapping?.zohoID == invoice.invoiceID, "\(prefix)order \(id) mapping \(String(describing: mapping?.zohoID)) vs \(invoice.invoiceID)", sourceLocation: sourceLocation)
        }
        let creditNumbers = zoho.allCreditNotes.map(\.creditNoteNumber)
        #expect(Set(creditNumbers).count == creditNumbers.count, "\(prefix)duplicate credit notes: \(creditNumbers)", sourceLocation: sourceLocation)
        let references = zoho.allPayments.map(\.draft.referenceNumber)
        #expect(Set(references).count == references.count, "\(prefix)duplicate payments: \(references)", sourceLocation: sourceLocation)
        let contacts = zoho.allContacts.map { $0.email.lowercased() + "|" + $0.currencyCode }
        #expect(Set(contacts).count == contacts.count, "\(prefix)duplicate contacts: \(contacts)", sourceLocation: sourceLocation)
    }
}
