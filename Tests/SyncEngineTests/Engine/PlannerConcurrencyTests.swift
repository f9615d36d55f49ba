import Foundation
import Testing
@testable import SyncEngine

/// A page of orders is prepared on every core (`Planner.planOrders`); the plan must be the one planning the
/// orders one by one gives, operation for operation, in the same order.
@Suite struct PlannerConcurrencyTests {
    @Test func ordersPreparedOnAllCoresPlanExactlyAsOneByOne() throws {
        let h = try EngineHarness()
        var changes = SourceChanges()
        let statuses = [11, 11, 10, 5, 0, 11, 2, 6, 11, 99]
        for i in 0..<300 {
            let id = Int64(5000 + i)
            var order = h.addOrder(id: id, customerID: i % 7 == 0 ? 0 : Int64(i % 37),
                                   lines: [("SKU-\(i % 11)", Decimal(1 + i % 3), Decimal(5 + i % 7)), ("SKU-\(i % 5)", 1, 2)],
                                   status: statuses[i % statuses.count], paid: i % 4 != 0, currency: i % 9 == 0 ? "EUR" : "USD")
            if i % 50 == 11 { order.products = [] }                       // cannot be mapped: quarantined
            let transactions = i % 4 != 0
                ? [BCTransaction(id: id * 10, orderID: id, event: "purchase", amount: order.totalIncTax, dateCreated: order.dateCreated, status: "ok")]
                : []
            changes.orders.append(OrderChange(order: order, transactions: transactions))
        }
        // What a later page knows: some invoices (one void, one with another fingerprint), contacts, items, payments.
        func record(_ key: String, _ fingerprint: String = "x", status: String = "sent", extra: JSON = [:]) -> MappingRecord {
            MappingRecord(entityKey: key, zohoID: "z-\(key)", fingerprint: fingerprint, zohoStatus: status, extra: extra, updatedAt: Date(timeIntervalSince1970: 0))
        }
        var known: [String: MappingRecord] = [:]
        for key in ["order:5003", "order:5013", "order:5020", "order:5021", "customer:3", "customer:5", "sku:SKU-2", "sku:SKU-7", "txn:50010", "txn:50210"] {
            known[key] = record(key, extra: key.hasPrefix("customer:") ? ["currency": .string("EUR")] : [:])
        }
        known["order:5040"] = record("order:5040", status: "void")

        var settings = MappingSettings()
        settings.itemsMissing = .create
        let together = Planner.plan(changes, mappings: known, settings: settings)

        var state = PlanningState(known: known)
        var oneByOne = SyncPlan()
        for change in changes.orders { Planner.planOrder(change, settings: settings, state: &state, plan: &oneByOne) }

        let kinds = Set(together.operations.map(\.kind))
        #expect(kinds.isSuperset(of: ["contact.ensure", "item.ensure", "invoice.ensure", "payment.ensure", "invoice.void"]), "\(kinds)")
        #expect(together.problems.contains { $0.kind == "quarantine" } && together.problems.contains { $0.kind == "attention" })
        #expect(!together.skips.isEmpty)
        #expect(together.operations.count == oneByOne.operations.count)
        #expect(together.operations == oneByOne.operations)
        #expect(together.problems == oneByOne.problems)
        #expect(together.skips == oneByOne.skips)
        #expect(together.cleared == oneByOne.cleared)
    }
}
