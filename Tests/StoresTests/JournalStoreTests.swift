import Foundation
import Testing
@testable import Stores

@Suite struct JournalStoreTests {
    let home = TempHome()
    let store: SQLiteStateStore

    init() throws { store = try makeStore(home) }

    @Test func commitPlanJournalsOperationsAndMovesCursors() throws {
        let ids = try store.commitPlan([op("order:1"), op("order:2")],
                                       cursors: [StreamCursor(stream: "orders", timestamp: t(60), id: 2)], at: t())
        #expect(ids.count == 2 && ids[0] < ids[1])
        let first = try #require(try store.entry(id: ids[0]))
        #expect(first.operation == op("order:1"))
        #expect(first.state == .pending && first.attempts == 0 && first.lastError == nil)
        #expect(first.nextAttemptAt == t() && first.createdAt == t() && first.updatedAt == t())
        #expect(try store.cursor("orders") == StreamCursor(stream: "orders", timestamp: t(60), id: 2))
    }

    @Test func failedPlanLeavesCursorAndJournalUnchanged() throws {
        try store.setCursor(StreamCursor(stream: "orders", timestamp: t(), id: 1))
        // An empty kind violates a CHECK constraint half-way through the plan.
        let error = #expect(throws: StoreError.self) {
            try store.commitPlan([op("order:1"), op("order:2", kind: "")],
                                 cursors: [StreamCursor(stream: "orders", timestamp: t(600), id: 9)], at: t())
        }
        #expect(error?.kind == .constraint)
        #expect(try store.cursor("orders") == StreamCursor(stream: "orders", timestamp: t(), id: 1))
        #expect(try store.entries(entityKey: "order:1").isEmpty)
        #expect(try store.counts().isEmpty)
    }

    @Test func duplicatePlanIsIgnoredUntilDone() throws {
        let first = try store.commitPlan([op("order:1"), op("order:1")], cursors: [], at: t())
        #expect(first.count == 1, "a duplicate inside one plan is journaled once")
        #expect(try store.commitPlan([op("order:1")], cursors: [], at: t(1)).isEmpty)

        // Another fingerprint or kind for the same entity is a different operation.
        #expect(try store.commitPlan([op("order:1", fingerprint: "fp2")], cursors: [], at: t(2)).count == 1)
        #expect(try store.commitPlan([op("order:1", kind: "invoice.update")], cursors: [], at: t(3)).count == 1)

        // Once done, the same operation may be planned again (for example after a replay).
        try store.complete(id: first[0], mapping: nil, audit: AuditEvent(time: t(4), runID: "r", entityKey: "order:1", action: "invoice.create", outcome: "ok"))
        #expect(try store.commitPlan([op("order:1")], cursors: [], at: t(5)).count == 1)
        #expect(try store.entries(entityKey: "order:1").count == 4)
    }

    @Test func runnableOrderingAndNextAttempt() throws {
        let ids = try store.commitPlan((1...6).map { op("order:\($0)") }, cursors: [], at: t())
        try store.markState(id: ids[0], .failed, error: "HTTP 500", nextAttemptAt: t(300), at: t(1))
        try store.markSending(id: ids[1], at: t(1))
        try store.markState(id: ids[2], .dead, error: "gave up", nextAttemptAt: t(), at: t(1))
        try store.complete(id: ids[3], mapping: nil, audit: AuditEvent(time: t(1), runID: "r", entityKey: "order:4", action: "invoice.create", outcome: "ok"))
        try store.markState(id: ids[4], .unknown, error: "timeout", nextAttemptAt: t(), at: t(1))

        #expect(try store.runnable(now: t(10), limit: 10).map(\.id) == [ids[4], ids[5]])
        #expect(try store.runnable(now: t(300), limit: 10).map(\.id) == [ids[0], ids[4], ids[5]])
        #expect(try store.runnable(now: t(300), limit: 2).map(\.id) == [ids[0], ids[4]])

        let failed = try #require(try store.entry(id: ids[0]))
        #expect(failed.lastError == "HTTP 500" && failed.nextAttemptAt == t(300) && failed.updatedAt == t(1))
        #expect(try store.counts() == [.failed: 1, .sending: 1, .dead: 1, .done: 1, .unknown: 1, .pending: 1])
        #expect(try store.oldest(.pending)?.id == ids[5])
        #expect(try store.oldest(.dead)?.id == ids[2])
        #expect(try store.entries(states: [.dead, .failed], limit: 10).map(\.id) == [ids[0], ids[2]])
    }

    @Test func interruptedSendingBecomesUnknown() throws {
        let ids = try store.commitPlan([op("order:1"), op("order:2")], cursors: [], at: t())
        try store.markSending(id: ids[0], at: t(1))
        let sending = try #require(try store.entry(id: ids[0]))
        #expect(sending.state == .sending && sending.attempts == 1)
        #expect(try store.runnable(now: t(10), limit: 10).map(\.id) == [ids[1]])

        // The process dies here; the next one recovers.
        let reopened = try makeStore(home, key: MasterKey.generate())
        #expect(try reopened.recoverInterrupted(at: t(20)) == 1)
        let unknown = try #require(try reopened.entry(id: ids[0]))
        #expect(unknown.state == .unknown && unknown.attempts == 1 && unknown.updatedAt == t(20))
        #expect(try reopened.runnable(now: t(30), limit: 10).map(\.id) == [ids[0], ids[1]])
        #expect(try reopened.recoverInterrupted(at: t(40)) == 0)
    }

    @Test func completeWritesMappingAndAuditTogether() throws {
        let ids = try store.commitPlan([op("order:1")], cursors: [], at: t())
        try store.markSending(id: ids[0], at: t(1))
        let mapping = MappingRecord(entityKey: "order:1", zohoID: "982000000567114", zohoNumber: "BC-1", fingerprint: "fp1",
                                    zohoStatus: "sent", extra: ["total": .number("12.50")], updatedAt: t(2))
        let event = AuditEvent(time: t(2), runID: "run-1", entityKey: "order:1", action: "invoice.create", outcome: "ok",
                               zohoID: "982000000567114", httpStatus: 201, zohoCode: 0, message: "created")
        try store.complete(id: ids[0], mapping: mapping, audit: event)

        let done = try #require(try store.entry(id: ids[0]))
        #expect(done.state == .done && done.updatedAt == t(2))
        #expect(try store.mapping("order:1") == mapping)
        #expect(try store.audit(AuditQuery()) == [event])
    }

    @Test func completeOfMissingRowWritesNothing() throws {
        let mapping = MappingRecord(entityKey: "order:1", zohoID: "1", fingerprint: "fp", zohoStatus: "sent", updatedAt: t())
        let error = #expect(throws: StoreError.self) {
            try store.complete(id: 404, mapping: mapping,
                               audit: AuditEvent(time: t(), runID: "r", entityKey: "order:1", action: "invoice.create", outcome: "ok"))
        }
        #expect(error?.kind == .notFound)
        #expect(try store.mapping("order:1") == nil)
        #expect(try store.audit(AuditQuery()).isEmpty)
        #expect(throws: StoreError.self) { try store.markSending(id: 404, at: t()) }
    }

    @Test func requeueDeadAndOptionallyFailed() throws {
        let ids = try store.commitPlan((1...4).map { op("order:\($0)") }, cursors: [], at: t())
        for id in ids { try store.markSending(id: id, at: t(1)) }
        try store.markState(id: ids[0], .dead, error: "422", nextAttemptAt: t(9_999), at: t(2))
        try store.markState(id: ids[1], .dead, error: "422", nextAttemptAt: t(9_999), at: t(2))
        try store.markState(id: ids[2], .failed, error: "500", nextAttemptAt: t(9_999), at: t(2))

        #expect(try store.requeue(ids: [ids[1], ids[2], ids[3]], includeFailed: false, at: t(3)) == 1)
        let requeued = try #require(try store.entry(id: ids[1]))
        // A row that was sent keeps one attempt: its next try looks its key up before creating anything.
        #expect(requeued.state == .pending && requeued.attempts == 1 && requeued.nextAttemptAt == t(3))
        #expect(try store.entry(id: ids[0])?.state == .dead)

        #expect(try store.requeue(ids: nil, includeFailed: true, at: t(4)) == 2)
        #expect(try store.counts() == [.pending: 3, .sending: 1])
        #expect(try store.runnable(now: t(4), limit: 10).map(\.id) == [ids[0], ids[1], ids[2]])
    }

    @Test func updatePayloadKeepsStateAndRefusesDoneRows() throws {
        let ids = try store.commitPlan([op("order:1"), op("order:2")], cursors: [], at: t())
        try store.markState(id: ids[0], .failed, error: "x", nextAttemptAt: t(5), at: t(1))
        try store.updatePayload(id: ids[0], payload: ["customer_id": "460000000026049"], at: t(2))
        let updated = try #require(try store.entry(id: ids[0]))
        #expect(updated.operation.payload == ["customer_id": "460000000026049"])
        #expect(updated.state == .failed && updated.updatedAt == t(2))

        try store.complete(id: ids[1], mapping: nil, audit: AuditEvent(time: t(3), runID: "r", entityKey: "order:2", action: "a", outcome: "ok"))
        #expect(throws: StoreError.self) { try store.updatePayload(id: ids[1], payload: [:], at: t(4)) }
        #expect(try store.entry(id: ids[1])?.operation.payload == op("order:2").payload)
        #expect((try? store.updatePayload(id: 999, payload: [:], at: t())) == nil)
    }

    @Test func tenThousandOperationsCommitInOneCall() throws {
        let operations = (0..<10_000).map { op("order:\($0)", fingerprint: "fp-\($0)") }
        let clock = ContinuousClock()
        var ids: [Int64] = []
        let elapsed = try clock.measure {
            ids = try store.commitPlan(operations, cursors: [StreamCursor(stream: "orders", timestamp: t(1), id: 9_999)], at: t())
        }
        #expect(ids.count == 10_000)
        #expect(try store.counts() == [.pending: 10_000])
        // Informational only; timing is not asserted.
        print("commitPlan of 10,000 operations took \(elapsed)")
        #expect(try store.commitPlan(operations, cursors: [], at: t(2)).isEmpty)

        let mappings = (0..<10_000).map {
            MappingRecord(entityKey: "order:\($0)", zohoID: "\($0)", fingerprint: "fp", zohoStatus: "sent", updatedAt: t())
        }
        let upsertElapsed = try clock.measure { try store.upsertMappings(mappings) }
        print("upsertMappings of 10,000 records took \(upsertElapsed)")
        #expect(try store.countMappings(prefix: "order:") == 10_000)
        #expect(try store.mappings(mappings.map(\.entityKey)).count == 10_000)
    }
}
