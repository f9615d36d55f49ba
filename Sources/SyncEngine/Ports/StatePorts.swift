import Foundation

// Persistence ports. SyncEngine defines them; `Stores` implements them on SQLite, and
// `InMemoryStateStore` (SyncEngine/Fakes) implements them in memory with the same semantics.
// Every method is synchronous and throws `StoreError` on failure.

/// A failure of the state store. The message never contains bound values (they may be personal data).
public struct StoreError: Error, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable { case busy, corrupt, constraint, io, schema, notFound, other }
    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) { self.kind = kind; self.message = message }
    public var description: String { "state store \(kind.rawValue): \(message)" }
}

// MARK: Cursors

/// Where a stream has been read up to: the last processed `(timestamp, id)`.
/// Streams: `orders`, `refunds`, `customers`, `backfill:<id>`.
public struct StreamCursor: Sendable, Equatable, Hashable {
    public var stream: String
    public var timestamp: Date
    public var id: Int64
    public init(stream: String, timestamp: Date, id: Int64 = 0) { self.stream = stream; self.timestamp = timestamp; self.id = id }
}

public protocol CursorStore: Sendable {
    func cursor(_ stream: String) throws -> StreamCursor?
    func allCursors() throws -> [StreamCursor]
    /// Sets one cursor on its own (used by `init` and tests; a sync moves cursors with `commitPlan`).
    func setCursor(_ cursor: StreamCursor) throws
    func deleteCursor(_ stream: String) throws
}

// MARK: Journal

public enum JournalState: String, Sendable, CaseIterable, Codable {
    /// Planned, not yet sent (or safely retryable).
    case pending
    /// Committed just before the request; a row left in this state means the process died mid-request.
    case sending
    /// The request may or may not have been applied; look the deterministic key up before sending again.
    case unknown
    case done
    /// Failed; retried at `nextAttemptAt`.
    case failed
    /// Failed too many times; waits for `zbsync retry`.
    case dead
}

/// An operation the planner wants applied in Zoho.
public struct PlannedOperation: Sendable, Equatable, Hashable {
    /// e.g. `contact.create`, `invoice.create`, `invoice.update`, `invoice.void`, `payment.create`,
    /// `creditnote.create`, `item.create`.
    public var kind: String
    /// BigCommerce entity this serves, e.g. `order:123`, `customer:42`, `refund:9`, `txn:77`, `sku:ABC`.
    public var entityKey: String
    /// Deterministic Zoho key (`BC-123`, `BCR-9`, the payment reference, the email, the SKU).
    public var zohoKey: String
    /// Everything the executor needs, as JSON (no secrets).
    public var payload: JSON
    /// Hash of the mapped content; equal fingerprints mean nothing to do.
    public var fingerprint: String
    public init(kind: String, entityKey: String, zohoKey: String, payload: JSON, fingerprint: String) {
        self.kind = kind; self.entityKey = entityKey; self.zohoKey = zohoKey; self.payload = payload; self.fingerprint = fingerprint
    }

    public static func == (a: PlannedOperation, b: PlannedOperation) -> Bool {
        a.kind == b.kind && a.entityKey == b.entityKey && a.zohoKey == b.zohoKey && a.fingerprint == b.fingerprint
            && a.payload.serialized(sortedKeys: true) == b.payload.serialized(sortedKeys: true)
    }
    public func hash(into h: inout Hasher) { h.combine(kind); h.combine(entityKey); h.combine(fingerprint) }
}

/// A journaled operation.
public struct JournalEntry: Sendable, Equatable {
    public var id: Int64
    public var operation: PlannedOperation
    public var state: JournalState
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    public var createdAt: Date
    public var updatedAt: Date
    public init(id: Int64, operation: PlannedOperation, state: JournalState, attempts: Int, nextAttemptAt: Date,
                lastError: String?, createdAt: Date, updatedAt: Date) {
        self.id = id; self.operation = operation; self.state = state; self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt; self.lastError = lastError; self.createdAt = createdAt; self.updatedAt = updatedAt
    }
}

extension JournalStore {
    /// The first `limit` runnable rows.
    public func runnable(now: Date, limit: Int) throws -> [JournalEntry] {
        try runnable(now: now, afterID: 0, limit: limit)
    }
}

public protocol JournalStore: Sendable {
    /// In one immediate transaction: journals `operations` as `pending` and moves each of `cursors`.
    /// An operation identical (kind, entityKey, fingerprint) to one that is not yet `done` is not added twice.
    /// Returns the ids of the rows added.
    @discardableResult
    func commitPlan(_ operations: [PlannedOperation], cursors: [StreamCursor], at: Date) throws -> [Int64]
    /// Rows in `pending`, `unknown` or `failed` whose `nextAttemptAt <= now` and id > `afterID`, oldest id first.
    func runnable(now: Date, afterID: Int64, limit: Int) throws -> [JournalEntry]
    func entry(id: Int64) throws -> JournalEntry?
    /// Rows for one entity key, any state, oldest first.
    func entries(entityKey: String) throws -> [JournalEntry]
    /// Rows in any of `states`, oldest first.
    func entries(states: [JournalState], limit: Int) throws -> [JournalEntry]
    /// Rows of `kind` not yet `done` whose payload's `spec.order_id` is `orderID`, oldest first.
    func unfinished(kind: String, orderID: Int64) throws -> [JournalEntry]
    /// Moves a row to `sending` and increments `attempts`; committed before the request goes out.
    func markSending(id: Int64, at: Date) throws
    /// Moves a row to `pending`, `unknown`, `failed` or `dead` with the error text (no secrets) and the
    /// next attempt time.
    func markState(id: Int64, _ state: JournalState, error: String?, nextAttemptAt: Date, at: Date) throws
    /// In one transaction: the row becomes `done`, the mapping (if any) is upserted, the audit event appended.
    func complete(id: Int64, mapping: MappingRecord?, audit: AuditEvent) throws
    /// Rewrites a not-yet-done row's payload (for example after resolving a reference). Keeps state.
    func updatePayload(id: Int64, payload: JSON, at: Date) throws
    /// Every `sending` row (left by a process that died mid-request) becomes `unknown`. Returns how many.
    @discardableResult
    func recoverInterrupted(at: Date) throws -> Int
    /// `dead` (and, with `includeFailed`, `failed`) rows go back to `pending` with attempts reset to 1 for a row
    /// that was sent (so its next try still looks its key up first) and 0 otherwise; `ids` nil means all.
    /// Returns how many.
    @discardableResult
    func requeue(ids: [Int64]?, includeFailed: Bool, at: Date) throws -> Int
    func counts() throws -> [JournalState: Int]
    /// The oldest row in `state`, if any.
    func oldest(_ state: JournalState) throws -> JournalEntry?
}

// MARK: Mappings

/// A BigCommerce entity and the Zoho document it became.
public struct MappingRecord: Sendable, Equatable {
    /// `order:123`, `customer:42`, `guest:a@b.com`, `contact:<key>|EUR`, `sku:ABC`, `refund:9`, `txn:77`.
    public var entityKey: String
    public var zohoID: String
    /// Zoho document number or other human key (`BC-123`), if any.
    public var zohoNumber: String?
    /// Fingerprint of the content last pushed.
    public var fingerprint: String
    /// Zoho status last seen (`sent`, `paid`, `void`, …).
    public var zohoStatus: String
    /// Small extra facts (for example the invoice's line item ids or its total), as JSON.
    public var extra: JSON
    public var updatedAt: Date
    public init(entityKey: String, zohoID: String, zohoNumber: String? = nil, fingerprint: String, zohoStatus: String,
                extra: JSON = .null, updatedAt: Date) {
        self.entityKey = entityKey; self.zohoID = zohoID; self.zohoNumber = zohoNumber; self.fingerprint = fingerprint
        self.zohoStatus = zohoStatus; self.extra = extra; self.updatedAt = updatedAt
    }
}

public protocol MappingStore: Sendable {
    func mapping(_ entityKey: String) throws -> MappingRecord?
    /// Mappings for many keys in one query; missing keys are absent from the result.
    func mappings(_ entityKeys: [String]) throws -> [String: MappingRecord]
    func upsertMapping(_ mapping: MappingRecord) throws
    /// Upserts many in one transaction (bulk cache warm-up).
    func upsertMappings(_ mappings: [MappingRecord]) throws
    /// Every mapping whose key starts with `prefix`, ordered by key.
    func mappings(prefix: String) throws -> [MappingRecord]
    func countMappings(prefix: String) throws -> Int
}

// MARK: Audit

/// One append-only audit row. Never holds a secret or a request body.
public struct AuditEvent: Sendable, Equatable {
    public var time: Date
    public var runID: String
    public var entityKey: String
    /// e.g. `invoice.create`, `webhook.receive`.
    public var action: String
    /// `ok`, `adopt`, `fail`, `info`, `skip`, `attention`, `dead`, `planned`.
    public var outcome: String
    public var zohoID: String?
    public var httpStatus: Int?
    public var zohoCode: Int?
    public var message: String
    public init(time: Date, runID: String, entityKey: String, action: String, outcome: String, zohoID: String? = nil,
                httpStatus: Int? = nil, zohoCode: Int? = nil, message: String = "") {
        self.time = time; self.runID = runID; self.entityKey = entityKey; self.action = action; self.outcome = outcome
        self.zohoID = zohoID; self.httpStatus = httpStatus; self.zohoCode = zohoCode; self.message = message
    }
}

public struct AuditQuery: Sendable, Equatable {
    /// Exact entity key (`order:123`) or nil for all.
    public var entityKey: String? = nil
    /// Entity keys starting with this (for "everything about order 123" use `entityKey`).
    public var entityPrefix: String? = nil
    /// Only `fail` and `dead` outcomes.
    public var failedOnly: Bool = false
    public var since: Date? = nil
    public var limit: Int = 200
    public init() {}
}

public protocol AuditLog: Sendable {
    func appendAudit(_ event: AuditEvent) throws
    /// Newest first.
    func audit(_ query: AuditQuery) throws -> [AuditEvent]
}

// MARK: Inbox

/// A verified webhook delivery: which entity changed, never the payload.
public struct InboxDelivery: Sendable, Equatable {
    public var deliveryID: String
    /// e.g. `store/order/updated`.
    public var scope: String
    public var entityID: Int64
    public var receivedAt: Date
    public var processedAt: Date?
    public init(deliveryID: String, scope: String, entityID: Int64, receivedAt: Date, processedAt: Date? = nil) {
        self.deliveryID = deliveryID; self.scope = scope; self.entityID = entityID; self.receivedAt = receivedAt
        self.processedAt = processedAt
    }
}

public protocol InboxStore: Sendable {
    /// Stores the delivery durably. Returns false (and changes nothing) when the delivery id is already there.
    @discardableResult
    func insertDelivery(_ delivery: InboxDelivery) throws -> Bool
    /// Unprocessed deliveries, oldest first.
    func unprocessedDeliveries(limit: Int) throws -> [InboxDelivery]
    func markProcessed(deliveryIDs: [String], at: Date) throws
    func inboxCount(processed: Bool) throws -> Int
}

// MARK: Limiter

/// Shared Zoho call budget, persisted so every process of one home shares it.
public struct LimiterState: Sendable, Equatable {
    /// Tokens in the bucket.
    public var tokens: Double
    /// When `tokens` was last computed.
    public var updatedAt: Date
    /// Day the `dayCount` belongs to (`yyyy-MM-dd`, in the org's time zone).
    public var day: String
    /// Zoho calls made on `day`.
    public var dayCount: Int
    /// No call before this (after a 44 / 1070 answer), if set.
    public var blockedUntil: Date?
    /// Send times of the most recent calls (at most the per-minute limit), for the exact 60-second check.
    public var recentCalls: [Date]
    public init(tokens: Double, updatedAt: Date, day: String, dayCount: Int, blockedUntil: Date? = nil, recentCalls: [Date] = []) {
        self.tokens = tokens; self.updatedAt = updatedAt; self.day = day; self.dayCount = dayCount
        self.blockedUntil = blockedUntil; self.recentCalls = recentCalls
    }
}

public protocol LimiterStateStore: Sendable {
    /// Reads, changes and writes the limiter state in one immediate transaction (nil state = none yet).
    func updateLimiterState<T>(_ body: (inout LimiterState?) throws -> T) throws -> T
    func limiterState() throws -> LimiterState?
}

// MARK: Secrets and tokens

public protocol SecretStore: Sendable {
    /// Decrypts a secret; nil when none is stored under `name`. Throws when it cannot be decrypted.
    func secret(_ name: String) throws -> Secret?
    func setSecret(_ value: Secret, name: String) throws
    func deleteSecret(_ name: String) throws
    func secretNames() throws -> [String]
}

/// The Zoho session: access token (encrypted at rest), expiry and the facts resolved with it.
public struct ZohoSession: Sendable, Equatable {
    public var accessToken: Secret
    public var expiresAt: Date
    public var apiDomain: String
    public var organizationID: String?
    /// Cached organization facts (base currency, time zone, precision, taxes, currencies…).
    public var orgSettings: JSON
    public init(accessToken: Secret, expiresAt: Date, apiDomain: String, organizationID: String? = nil, orgSettings: JSON = .null) {
        self.accessToken = accessToken; self.expiresAt = expiresAt; self.apiDomain = apiDomain
        self.organizationID = organizationID; self.orgSettings = orgSettings
    }
}

public protocol TokenStore: Sendable {
    func zohoSession() throws -> ZohoSession?
    func saveZohoSession(_ session: ZohoSession) throws
    func clearZohoSession() throws
    /// Records one refresh attempt (for the refresh throttle guard).
    func recordRefreshAttempt(at: Date) throws
    /// Refresh attempts at or after `since`.
    func refreshAttempts(since: Date) throws -> Int
    /// Until when no refresh may be tried because Zoho throttled the refresh token (nil: not throttled).
    func refreshThrottledUntil() throws -> Date?
    /// Records Zoho's refresh throttle (nil clears it), so that later runs keep away from the token endpoint too.
    func recordRefreshThrottled(until: Date?) throws
}

// MARK: Runs

public struct RunRecord: Sendable, Equatable {
    public var id: String
    public var command: String
    public var startedAt: Date
    public var endedAt: Date?
    /// Figures such as `invoices_created`, `zoho_calls`, `orders_seen`.
    public var counts: [String: Int]
    public var exitCode: Int32?
    public var summary: String
    public init(id: String, command: String, startedAt: Date, endedAt: Date? = nil, counts: [String: Int] = [:], exitCode: Int32? = nil, summary: String = "") {
        self.id = id; self.command = command; self.startedAt = startedAt; self.endedAt = endedAt; self.counts = counts
        self.exitCode = exitCode; self.summary = summary
    }
}

public protocol RunStore: Sendable {
    func beginRun(_ run: RunRecord) throws
    func finishRun(id: String, endedAt: Date, counts: [String: Int], exitCode: Int32, summary: String) throws
    /// Newest first.
    func recentRuns(limit: Int) throws -> [RunRecord]
}

// MARK: Attention (quarantine and edits that need a person)

/// Something a person must look at: a quarantined record that could not be read or mapped, or an edit
/// Zoho does not allow. Named by its BigCommerce entity key.
public struct AttentionItem: Sendable, Equatable {
    /// `quarantine` or `attention`.
    public var kind: String
    public var entityKey: String
    public var message: String
    public var firstSeen: Date
    public var lastSeen: Date
    public var resolvedAt: Date?
    public init(kind: String, entityKey: String, message: String, firstSeen: Date, lastSeen: Date, resolvedAt: Date? = nil) {
        self.kind = kind; self.entityKey = entityKey; self.message = message; self.firstSeen = firstSeen
        self.lastSeen = lastSeen; self.resolvedAt = resolvedAt
    }
}

public protocol AttentionStore: Sendable {
    /// Adds or refreshes (same kind + entity key: message and lastSeen updated, resolvedAt cleared).
    func raiseAttention(kind: String, entityKey: String, message: String, at: Date) throws
    func resolveAttention(kind: String, entityKey: String, at: Date) throws
    func openAttention(limit: Int) throws -> [AttentionItem]
    func openAttentionCount() throws -> Int
}

/// Everything the engine persists, in one store.
public typealias StateStore = CursorStore & JournalStore & MappingStore & AuditLog & InboxStore & LimiterStateStore
    & SecretStore & TokenStore & RunStore & AttentionStore
