import Foundation
import Testing
@testable import Stores

@Suite struct AuditInboxRunsTests {
    let home = TempHome()
    let store: SQLiteStateStore

    init() throws { store = try makeStore(home) }

    @Test func auditQueryFilters() throws {
        let events = [
            AuditEvent(time: t(1), runID: "r1", entityKey: "order:1", action: "invoice.create", outcome: "ok", zohoID: "9", httpStatus: 201),
            AuditEvent(time: t(2), runID: "r1", entityKey: "order:12", action: "invoice.create", outcome: "fail", httpStatus: 400, zohoCode: 1001, message: "duplicate"),
            AuditEvent(time: t(3), runID: "r2", entityKey: "order:1", action: "payment.create", outcome: "dead"),
            AuditEvent(time: t(4), runID: "r2", entityKey: "customer:5", action: "contact.create", outcome: "adopt"),
        ]
        for e in events { try store.appendAudit(e) }

        #expect(try store.audit(AuditQuery()) == events.reversed())
        var q = AuditQuery()
        q.entityKey = "order:1"
        #expect(try store.audit(q).map(\.time) == [t(3), t(1)])
        q = AuditQuery()
        q.entityPrefix = "order:"
        #expect(try store.audit(q).count == 3)
        q = AuditQuery()
        q.failedOnly = true
        #expect(try store.audit(q).map(\.outcome) == ["dead", "fail"])
        q = AuditQuery()
        q.since = t(3)
        #expect(try store.audit(q).map(\.time) == [t(4), t(3)])
        q = AuditQuery()
        q.limit = 1
        #expect(try store.audit(q) == [events[3]])
        q = AuditQuery()
        q.entityKey = "order:1"
        q.failedOnly = true
        q.since = t(2)
        #expect(try store.audit(q) == [events[2]])
    }

    @Test func inboxDeduplicatesDeliveries() throws {
        let first = InboxDelivery(deliveryID: "d-1", scope: "store/order/updated", entityID: 100, receivedAt: t(1))
        #expect(try store.insertDelivery(first))
        #expect(try store.insertDelivery(InboxDelivery(deliveryID: "d-1", scope: "store/order/created", entityID: 999, receivedAt: t(5))) == false)
        #expect(try store.insertDelivery(InboxDelivery(deliveryID: "d-2", scope: "store/order/updated", entityID: 101, receivedAt: t(0))))
        #expect(try store.unprocessedDeliveries(limit: 10) == [
            InboxDelivery(deliveryID: "d-2", scope: "store/order/updated", entityID: 101, receivedAt: t(0)), first,
        ])
        try store.markProcessed(deliveryIDs: ["d-2"], at: t(9))
        #expect(try store.unprocessedDeliveries(limit: 10) == [first])
        #expect(try store.inboxCount(processed: true) == 1)
        #expect(try store.inboxCount(processed: false) == 1)
        // A redelivery of a processed id is still a duplicate.
        #expect(try store.insertDelivery(InboxDelivery(deliveryID: "d-2", scope: "s", entityID: 1, receivedAt: t(10))) == false)
    }

    @Test func runsBeginFinishAndList() throws {
        try store.beginRun(RunRecord(id: "a", command: "sync", startedAt: t(1)))
        try store.beginRun(RunRecord(id: "b", command: "backfill", startedAt: t(2)))
        try store.finishRun(id: "a", endedAt: t(5), counts: ["invoices_created": 3, "zoho_calls": 12], exitCode: 1, summary: "1 failed")
        let runs = try store.recentRuns(limit: 10)
        #expect(runs.map(\.id) == ["b", "a"])
        #expect(runs[1] == RunRecord(id: "a", command: "sync", startedAt: t(1), endedAt: t(5),
                                     counts: ["invoices_created": 3, "zoho_calls": 12], exitCode: 1, summary: "1 failed"))
        #expect(runs[0].endedAt == nil && runs[0].exitCode == nil && runs[0].counts.isEmpty)
        #expect(throws: StoreError.self) { try store.finishRun(id: "zzz", endedAt: t(), counts: [:], exitCode: 0, summary: "") }
        #expect(try store.recentRuns(limit: 1).map(\.id) == ["b"])
    }

    @Test func attentionRaiseRefreshResolve() throws {
        try store.raiseAttention(kind: "quarantine", entityKey: "order:1", message: "bad date", at: t(1))
        try store.raiseAttention(kind: "attention", entityKey: "order:2", message: "edit after payment", at: t(2))
        try store.raiseAttention(kind: "quarantine", entityKey: "order:1", message: "still bad", at: t(3))
        var open = try store.openAttention(limit: 10)
        #expect(open.count == 2)
        #expect(open[0] == AttentionItem(kind: "quarantine", entityKey: "order:1", message: "still bad", firstSeen: t(1), lastSeen: t(3)))

        try store.resolveAttention(kind: "quarantine", entityKey: "order:1", at: t(4))
        #expect(try store.openAttentionCount() == 1)
        try store.raiseAttention(kind: "quarantine", entityKey: "order:1", message: "again", at: t(5))
        open = try store.openAttention(limit: 10)
        #expect(open.first { $0.entityKey == "order:1" }?.resolvedAt == nil)
        #expect(try store.openAttentionCount() == 2)
    }

    @Test func zohoSessionAndRefreshAttempts() throws {
        #expect(try store.zohoSession() == nil)
        let session = ZohoSession(accessToken: Secret("1000.abc.def"), expiresAt: t(3600), apiDomain: "https://www.zohoapis.com",
                                  organizationID: "10234695", orgSettings: ["currency_code": "USD", "price_precision": 2])
        try store.saveZohoSession(session)
        #expect(try store.zohoSession() == session)
        var replaced = session
        replaced.accessToken = Secret("1000.new")
        replaced.organizationID = nil
        replaced.orgSettings = .null
        try store.saveZohoSession(replaced)
        #expect(try store.zohoSession() == replaced)
        try store.clearZohoSession()
        #expect(try store.zohoSession() == nil)

        for s in [0.0, 10, 20] { try store.recordRefreshAttempt(at: t(s)) }
        #expect(try store.refreshAttempts(since: t(10)) == 2)
        #expect(try store.refreshAttempts(since: t(-100)) == 3)
    }
}
