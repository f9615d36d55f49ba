import Foundation
import Testing
@testable import Stores
@testable import SyncEngine

/// The reliability table: crashes at every write (R1/R2 in-process), lost replies (R3), cursor ties and late
/// visibility (R4/R5), pagination drift (R6) and convergence (R11).
@Suite struct EngineReliabilityTests {
    typealias Op = InMemoryZohoBooks.Operation

    /// A store exercising every write: new and returning customers, a guest, paid and unpaid orders, a refund.
    static func seed(_ h: EngineHarness) {
        h.addOrder(id: 1001, customerID: 1)
        h.addOrder(id: 1002, customerID: 1, lines: [("SKU-1", 1, 10), ("SKU-2", 2, 7.5)])
        h.addOrder(id: 1003, lines: [("SKU-3", 1, 3.33)], paid: false)
        h.addOrder(id: 1004, customerID: 2, lines: [("SKU-2", 4, 1.99)], taxRate: 0)
        h.addRefund(id: 5001, orderID: 1001, amount: 4)
    }

    static let crashOperations: [Op] = [.createContact, .createItem, .createTax, .createInvoice, .markInvoiceSent,
                                        .createPayment, .createCreditNote, .refundCreditNote]

    /// R1: a crash just before or just after each kind of Zoho write; the next run (new store object on the same
    /// file) finishes with exactly one document per BigCommerce entity and totals to the cent.
    @Test(arguments: crashOperations, [true, false])
    func crashAtEveryWriteConverges(operation: Op, afterApply: Bool) async throws {
        let h = try EngineHarness()
        Self.seed(h)
        if afterApply { h.zoho.applyThenFail(operation, with: SimulatedCrash()) } else { h.zoho.failNext(operation, with: SimulatedCrash()) }
        let first = try await h.sync()
        let fired = h.zoho.firedFaults
        FaultTallyFile.record(suite: "EngineReliabilityTests", fired)
        #expect(!fired.isEmpty, "\(operation) (\(afterApply ? "after" : "before") applying): the crash was never injected")
        try h.reopen()
        h.zoho.clearFaults()
        let second = try await h.sync()
        #expect(second.push.stop == nil, "second run stopped: \(String(describing: second.push.stop))")
        try h.checkInvariants(orders: [1001, 1002, 1003, 1004])
        #expect(h.zoho.allCreditNotes.count == 1)
        #expect(h.zoho.allPayments.count == 3)
        #expect(try h.store.counts()[.dead, default: 0] == 0)
        // The crash really happened (the first run did not finish its push).
        #expect(first.push.stop == .crashed || first.push.stop == nil)
        h.zoho.resetCounters()
        try await h.sync()
        #expect(h.zohoWrites == 0, "a converged store must cost no writes")
    }

    /// R1 by crash point: stop at the n-th time the executor reaches each named point (n = 1…12, which covers
    /// contacts, items, invoices, payments and the credit note of the seeded store), reopen, run again.
    @Test(arguments: CrashPoint.allCases)
    func crashAtEveryCrashPoint(point: CrashPoint) async throws {
        for n in 1...12 {
            let h = try EngineHarness()
            Self.seed(h)
            let counter = LockedCounter()
            let runner = h.runner()
            runner.crashHook = { reached in reached == point && counter.increment() == n }
            h.clock.advance(by: 120)
            h.serverClock.advance(by: 120)
            let first = try await runner.sync(SyncOptions())
            #expect(first.push.stop == .crashed, "\(point) #\(n) never reached")
            if first.push.stop == .crashed { FaultTallyFile.record(suite: "EngineReliabilityTests", ["crash at \(point)": 1]) }
            try h.reopen()
            let second = try await h.sync()
            #expect(second.push.stop == nil)
            try h.checkInvariants(orders: [1001, 1002, 1003, 1004])
            #expect(h.zoho.allCreditNotes.count == 1, "\(point) #\(n)")
            #expect(h.zoho.allPayments.count == 3, "\(point) #\(n)")
            h.zoho.resetCounters()
            try await h.sync()
            #expect(h.zohoWrites == 0, "\(point) #\(n): a converged store must cost no writes")
        }
    }

    /// R3: Zoho applies a create but the reply is lost (timeout, 502, truncated body): the row becomes unknown,
    /// the key is looked up, the document adopted. Exactly one document.
    @Test(arguments: [Op.createInvoice, .createContact, .createItem, .createPayment, .createCreditNote])
    func lostReplyIsAdoptedNotDuplicated(operation: Op) async throws {
        let h = try EngineHarness()
        Self.seed(h)
        h.zoho.applyThenFail(operation)
        let report = try await h.sync()
        FaultTallyFile.record(suite: "EngineReliabilityTests", h.zoho.firedFaults)
        #expect(!h.zoho.firedFaults.isEmpty, "\(operation): the lost reply was never injected")
        #expect(report.push.unknown >= 1)
        try h.checkInvariants(orders: [1001, 1002, 1003, 1004])
        #expect(h.zoho.allCreditNotes.count == 1)
        #expect(h.zoho.allPayments.count == 3)
        let adopts = try h.store.audit(AuditQuery()).filter { $0.outcome == "adopt" }
        #expect(!adopts.isEmpty)
    }

    /// R4 + R5: fifty orders share one second, twenty become visible only after the cursor was saved (inside the
    /// lookback); every one is synced exactly once.
    @Test func boundaryTiesAndLateVisibility() async throws {
        let h = try EngineHarness()
        let second = h.serverClock.now()
        for id in Int64(1)...30 { h.addOrder(id: 2000 + id, taxRate: 0, modified: second) }
        try await h.sync()
        for id in Int64(31)...50 {
            let order = h.addOrder(id: 2000 + id, taxRate: 0, modified: second)
            _ = order
        }
        try await h.sync(advance: 30)
        try h.checkInvariants(orders: (Int64(1)...50).map { 2000 + $0 })
    }

    /// R5: moving the local clock an hour either way changes nothing, because windows use BigCommerce's clock.
    @Test(arguments: [-3600.0, 3600.0])
    func localClockSkewChangesNothing(skew: Double) async throws {
        let reference = try EngineHarness()
        let skewed = try EngineHarness()
        for h in [reference, skewed] {
            for id in Int64(1)...5 { h.addOrder(id: 3000 + id, customerID: id % 2) }
        }
        skewed.clock.advance(by: skew)
        try await reference.sync()
        try await skewed.sync()
        let a = reference.zoho.allInvoices.map { "\($0.invoiceNumber) \($0.total)" }.sorted()
        let b = skewed.zoho.allInvoices.map { "\($0.invoiceNumber) \($0.total)" }.sorted()
        #expect(a == b)
        #expect(a.count == 5)
    }

    /// R6: orders edited and inserted between page fetches are neither lost nor duplicated.
    @Test func paginationDriftLosesNothing() async throws {
        let h = try EngineHarness()
        h.settings.pageSize = 5
        for id in Int64(1)...23 { h.addOrder(id: 4000 + id, taxRate: 0) }
        let fired = LockedCounter()
        h.bc.setPageHook { source, fetch in
            guard fetch.endpoint == .orders, fired.increment() <= 2 else { return }
            _ = source.editOrder(id: 4001) { $0.customerMessage = "edited mid-scan" }
            let next = source.nextID("order", startingAt: 4100)
            var o = source.storedOrder(id: 4002)!
            o.id = next
            source.addOrder(o)
        }
        try await h.sync()
        h.bc.setPageHook(nil)
        try await h.sync()
        let expected = (Int64(1)...23).map { 4000 + $0 }
        try h.checkInvariants(orders: expected)
        let extra = h.zoho.allInvoices.filter { $0.invoiceNumber.hasPrefix("BC-41") }
        #expect(extra.count == 2)
    }

    /// R11: 200 seeded schedules of edits, refunds, cancellations, lost replies and crashes; after a final clean
    /// run every invariant holds and one more run writes nothing.
    /// Seeds 1…200, or only `$ZBSYNC_SCHEDULE_SEED` to replay one that failed.
    static var scheduleSeeds: [UInt64] {
        if let one = ProcessInfo.processInfo.environment["ZBSYNC_SCHEDULE_SEED"].flatMap({ UInt64($0) }) { return [one] }
        return Array(1...200)
    }

    @Test func seededSchedulesConverge() async throws {
        let injected = FaultCounter()
        var failed: [UInt64] = []
        for seed in Self.scheduleSeeds {
            do {
                var rng = SeededGenerator(seed: seed)
                let h = try EngineHarness()
                var orders: [Int64] = []
                var refundID: Int64 = 90_000
                for step in 0..<6 {
                    let action = Int.random(in: 0..<6, using: &rng)
                    switch action {
                    case 0, 1:
                        let id = Int64(10_000 + step)
                        h.addOrder(id: id, customerID: Int64.random(in: 0...3, using: &rng),
                                   lines: [("SKU-\(Int.random(in: 1...4, using: &rng))", Decimal(Int.random(in: 1...3, using: &rng)), 9.99)],
                                   paid: Bool.random(using: &rng))
                        orders.append(id)
                    case 2:
                        if let id = orders.randomElement(using: &rng) { _ = h.bc.editOrder(id: id) { $0.statusID = 5 } }
                    case 3:
                        if let id = orders.randomElement(using: &rng), let o = h.bc.storedOrder(id: id), o.statusID != 5 {
                            refundID += 1
                            h.addRefund(id: refundID, orderID: id, amount: 1)
                        }
                    case 4:
                        let op = Self.crashOperations.randomElement(using: &rng)!
                        if Bool.random(using: &rng) { h.zoho.applyThenFail(op, with: SimulatedCrash()) } else { h.zoho.applyThenFail(op) }
                    default:
                        break
                    }
                    _ = try await h.sync()
                    try h.reopen()
                }
                injected.add(h.zoho.firedFaults)
                h.zoho.clearFaults()
                try await h.sync()
                try await h.sync()
                let live = orders.filter { h.bc.storedOrder(id: $0)?.statusID != 5 || h.zoho.storedInvoice(number: "BC-\($0)") != nil }
                let replay = "replay: ZBSYNC_SCHEDULE_SEED=\(seed) swift test --filter seededSchedulesConverge"
                try h.checkInvariants(orders: live, context: "seed \(seed) (\(replay))")
                h.zoho.resetCounters()
                try await h.sync()
                #expect(h.zohoWrites == 0, "seed \(seed): converged store still writes (\(replay))")
                #expect(try h.store.counts()[.dead, default: 0] == 0, "seed \(seed): dead operations (\(replay))")
            } catch {
                failed.append(seed)
                Issue.record("seed \(seed) broke an invariant (replay: ZBSYNC_SCHEDULE_SEED=\(seed) swift test --filter seededSchedulesConverge): \(error)")
            }
        }
        injected.record(suite: "EngineReliabilityTests.seededSchedules")
        print("FAULT seeded schedules: \(Self.scheduleSeeds.count) seeds, failed \(failed.count), injected \(injected.total) (\(injected.all.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: "; ")))")
        #expect(injected.total > 0, "\(Self.scheduleSeeds.count) seeds injected no fault")
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int { lock.withLock { value += 1; return value } }
}

/// SplitMix64: deterministic per seed, so a failing seed reproduces.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
