import Foundation

/// Why a push stopped before the journal was drained.
public enum PushStop: Sendable, Equatable {
    case dailyQuota(String)
    case authorization(String)
    case unavailable(String)
    case rateLimited(String)
    case runLimit(String)
    case crashed
}

/// Thrown by test doubles to stop a run dead, as a crash would: the executor records nothing more for the
/// operation in flight (its row stays `sending`) and returns at once.
public struct SimulatedCrash: Error, Equatable {
    public init() {}
}

/// Named places in the executor where a crash is simulated by tests (in process: `SimulatedCrash`; as a
/// process: `ZBSYNC_CRASH_AT=<point>[:<n>]` makes the binary kill itself with SIGKILL at the n-th hit).
public enum CrashPoint: String, Sendable, CaseIterable {
    /// The row is committed as `sending`; the request has not gone out.
    case afterMarkSending
    /// Zoho created the document; nothing about it is committed locally yet.
    case afterRemoteCreate
    /// The row is `done` and the mapping committed.
    case afterComplete
}

/// What one push did.
public struct PushReport: Sendable, Equatable {
    public var done = 0
    public var adopted = 0
    public var failed = 0
    public var dead = 0
    public var deferred = 0
    public var unknown = 0
    public var attention = 0
    /// Invoices or credit notes whose Zoho total differed from the prediction and needed one more update.
    public var totalsCorrected = 0
    /// Per kind: how many operations completed.
    public var completedByKind: [String: Int] = [:]
    public var stop: PushStop?
    /// Rows still `unknown` when the push ended (the next run looks them up first).
    public var leftUnknown = 0
    public init() {}
}

/// Applies journaled operations to Zoho Books, one at a time, oldest first.
///
/// Invariants: the row is `sending` (committed) before its request goes out; a create whose earlier
/// outcome is unknown is preceded by a lookup of its deterministic key; `done` is committed together with
/// the mapping and the audit row; a failure never loses the row (it is retried later or dead-lettered).
public final class Executor: @unchecked Sendable {
    let sink: ZohoBooksSink
    let store: StateStore
    let clock: SyncClock
    let logger: Logger
    let settings: SyncSettings
    let runID: String
    let org: OrgContext
    private var itemsWarmed = false
    /// Called at each ``CrashPoint``; returning true stops the run there as a crash would.
    public var crashHook: (@Sendable (CrashPoint) -> Bool)?

    func crashPoint(_ point: CrashPoint) throws {
        if let crashHook, crashHook(point) { throw SimulatedCrash() }
    }

    public init(sink: ZohoBooksSink, store: StateStore, clock: SyncClock, logger: Logger, settings: SyncSettings, runID: String) {
        self.sink = sink; self.store = store; self.clock = clock; self.logger = logger; self.settings = settings
        self.runID = runID
        self.org = OrgContext(sink: sink, store: store, clock: clock, settings: settings.mapping)
    }

    /// Drains the runnable journal. Each row is tried at most twice per run (the second time only after an
    /// unknown outcome or a dependency that completed in the same run).
    public func push(onlyEntityKeys: Set<String>? = nil, progress: ((PushReport) -> Void)? = nil) async -> PushReport {
        var report = PushReport()
        let started = clock.now()
        var operations = 0
        do { try store.recoverInterrupted(at: clock.now()) } catch { logger.error("could not recover interrupted operations: \(error)") }
        // Passes over the journal in id order, each reading it page by page after the last id seen, so a row
        // far down the journal is reached even when many rows before it wait on it. Later passes retry rows that
        // waited on a dependency or had an unknown outcome. A row is sent at most twice per run (waiting for a
        // dependency does not count), and the passes end when one sends nothing.
        var sends: [Int64: Int] = [:]
        outer: for _ in 1...6 {
            var afterID: Int64 = 0
            var sentThisPass = false
            while true {
                let batch: [JournalEntry]
                do { batch = try store.runnable(now: clock.now(), afterID: afterID, limit: 200) } catch {
                    report.stop = .unavailable("state store: \(error)")
                    break outer
                }
                guard let last = batch.last else { break }
                afterID = last.id
                for entry in batch where (sends[entry.id] ?? 0) < 2 && (onlyEntityKeys == nil || Self.belongs(entry, to: onlyEntityKeys!)) {
                    if operations >= settings.maxOperationsPerRun {
                        report.stop = .runLimit("stopped after \(operations) operations (the per-run limit)")
                        break outer
                    }
                    if clock.now().timeIntervalSince(started) > settings.maxRunSeconds {
                        report.stop = .runLimit("stopped after \(Int(settings.maxRunSeconds)) s (the per-run time limit)")
                        break outer
                    }
                    operations += 1
                    if await process(entry, report: &report) {
                        sends[entry.id, default: 0] += 1
                        sentThisPass = true
                    }
                    progress?(report)
                    if report.stop != nil { break outer }
                }
            }
            if !sentThisPass { break }
        }
        // What is still uncertain after the run is reported, so the exit code says the run is not complete.
        report.leftUnknown = (try? store.counts()[.unknown, default: 0]) ?? 0
        return report
    }

    static func belongs(_ entry: JournalEntry, to keys: Set<String>) -> Bool {
        if keys.contains(entry.operation.entityKey) { return true }
        if let orderID = entry.operation.payload["spec"]?["order_id"]?.int64 ?? entry.operation.payload["order_id"]?.int64 {
            return keys.contains(EntityKey.order(orderID))
        }
        return false
    }

    // MARK: One operation

    /// Applies one row. Returns false when nothing was sent because the row waits for a dependency.
    @discardableResult
    private func process(_ entry: JournalEntry, report: inout PushReport) async -> Bool {
        let op = entry.operation
        let now = clock.now()
        let log = logger.with(["op.id": String(entry.id), "op.kind": op.kind, "bc.entity": op.entityKey])

        // A newer plan for the same entity replaces this one.
        let sameEntity = (try? store.entries(entityKey: op.entityKey)) ?? []
        if let newer = sameEntity.last(where: { $0.operation.kind == op.kind && $0.id > entry.id && $0.state != .done }), newer.id != entry.id {
            try? store.complete(id: entry.id, mapping: nil, audit: audit(op, outcome: "skip", message: "superseded by operation \(newer.id)"))
            return true
        }
        // Dependencies first, without spending an attempt.
        do {
            if let wait = try dependencyWait(op) {
                try store.markState(id: entry.id, .pending, error: wait.reason, nextAttemptAt: wait.until, at: now)
                report.deferred += 1
                return false
            }
        } catch {
            log.error("dependency check failed: \(error)")
        }

        // Uncertainty is sticky: a row that was ever sent (an attempt may have reached Zoho before a failure, a
        // crash or a lost reply), or that replaces an earlier plan of the same entity that was sent, looks its
        // key up before it creates anything. A failed lookup or a newer plan never turns "maybe created" into
        // "not created".
        let uncertain = entry.state == .unknown || entry.attempts > 0
            || sameEntity.contains { $0.id < entry.id && $0.operation.kind == op.kind && $0.attempts > 0 }
        do {
            try store.markSending(id: entry.id, at: now)
        } catch {
            report.stop = .unavailable("state store: \(error)")
            return true
        }
        do {
            try crashPoint(.afterMarkSending)
            let result = try await apply(op, uncertain: uncertain, report: &report)
            if let attention = result.attention {
                try? store.raiseAttention(kind: "attention", entityKey: attentionKey(op), message: attention, at: clock.now())
                report.attention += 1
            }
            try store.complete(id: entry.id, mapping: result.mapping, audit: audit(op, outcome: result.outcome, zohoID: result.mapping?.zohoID,
                                                                                     message: result.message))
            try crashPoint(.afterComplete)
            if result.outcome == "adopt" { report.adopted += 1 }
            report.done += 1
            report.completedByKind[op.kind, default: 0] += 1
            log.debug("\(op.kind) \(result.outcome): \(result.message)", ["zoho.id": result.mapping?.zohoID ?? ""])
        } catch is SimulatedCrash {
            report.stop = .crashed
        } catch {
            handle(error, entry: entry, report: &report, log: log)
        }
        return true
    }

    private func handle(_ error: Error, entry: JournalEntry, report: inout PushReport, log: Logger) {
        let op = entry.operation
        let now = clock.now()
        let message = "\(error)"
        func setState(_ state: JournalState, next: Date) {
            do { try store.markState(id: entry.id, state, error: message, nextAttemptAt: next, at: now) }
            catch { log.error("could not record the failure of operation \(entry.id): \(error)") }
        }
        func auditFailure(_ outcome: String, _ remote: RemoteError? = nil) {
            try? store.appendAudit(audit(op, outcome: outcome, httpStatus: Self.httpStatus(remote), zohoCode: remote?.zohoCode, message: message))
        }
        let remote = error as? RemoteError
        switch remote {
        case .unknownOutcome?:
            setState(.unknown, next: now)
            auditFailure("info", remote)
            report.unknown += 1
            log.warning("\(op.kind) outcome unknown; the key will be looked up before any resend", ["error": message])
        case .dailyQuotaExhausted(let m)?:
            setState(.pending, next: now)
            report.stop = .dailyQuota(m)
        case .authorization(_, let m)?:
            setState(.pending, next: now)
            auditFailure("fail", remote)
            report.stop = .authorization(m)
        case .rateLimited?:
            setState(.pending, next: now.addingTimeInterval(60))
            report.stop = .rateLimited(message)
        case .unavailable?:
            setState(.failed, next: now.addingTimeInterval(backoff(attempts: entry.attempts + 1)))
            auditFailure("fail", remote)
            report.failed += 1
            report.stop = .unavailable(message)
        default:
            let attempts = entry.attempts + 1
            if attempts >= settings.maxAttempts {
                setState(.dead, next: now)
                auditFailure("dead", remote)
                try? store.raiseAttention(kind: "attention", entityKey: attentionKey(op),
                                          message: "\(op.kind) for \(op.zohoKey) gave up after \(attempts) attempts: \(message). Fix the cause, then run `zbsync retry`.",
                                          at: now)
                report.dead += 1
                log.error("\(op.kind) dead-lettered after \(attempts) attempts", ["error": message])
            } else {
                setState(.failed, next: now.addingTimeInterval(backoff(attempts: attempts)))
                auditFailure("fail", remote)
                report.failed += 1
                log.warning("\(op.kind) failed; will retry", ["error": message, "attempts": String(attempts)])
            }
        }
    }

    /// 1 min, 2, 4 … capped at 6 h.
    func backoff(attempts: Int) -> TimeInterval {
        min(60 * pow(2, Double(max(0, attempts - 1))), 6 * 3600)
    }

    static func httpStatus(_ error: RemoteError?) -> Int? {
        if case .rejected(_, let status, _, _)? = error, status > 0 { return status }
        return nil
    }

    private func attentionKey(_ op: PlannedOperation) -> String {
        if let orderID = op.payload["spec"]?["order_id"]?.int64 ?? op.payload["order_id"]?.int64,
           op.kind == OperationKind.invoiceEnsure.rawValue || op.kind == OperationKind.invoiceVoid.rawValue {
            return EntityKey.order(orderID)
        }
        return op.entityKey
    }

    func audit(_ op: PlannedOperation, outcome: String, zohoID: String? = nil, httpStatus: Int? = nil, zohoCode: Int? = nil, message: String) -> AuditEvent {
        AuditEvent(time: clock.now(), runID: runID, entityKey: op.entityKey, action: op.kind, outcome: outcome, zohoID: zohoID,
                   httpStatus: httpStatus, zohoCode: zohoCode, message: message)
    }

    // MARK: Dependencies

    struct Wait { var until: Date; var reason: String }

    /// When an operation needs a mapping that another operation will create, wait for it.
    func dependencyWait(_ op: PlannedOperation) throws -> Wait? {
        var needed: [String] = []
        guard let kind = OperationKind(rawValue: op.kind) else { return nil }
        let spec = op.payload["spec"]
        switch kind {
        case .contactEnsure, .itemEnsure:
            return nil
        case .invoiceVoid:
            // A cancellation planned while the invoice was still queued waits for it (then voids what it made).
            if let o = op.payload["order_id"]?.int64 { needed.append(EntityKey.order(o)) }
        case .invoiceEnsure:
            if let c = spec?["contact_key"]?.string { needed.append(c) }
            for line in spec?["lines"]?.array ?? [] {
                if let sku = line["sku"]?.string, !sku.isEmpty { needed.append(EntityKey.sku(sku)) }
            }
        case .paymentEnsure, .creditNoteEnsure:
            if let c = spec?["contact_key"]?.string { needed.append(c) }
            if let o = spec?["order_id"]?.int64 { needed.append(EntityKey.order(o)) }
        }
        let have = try store.mappings(needed)
        for key in needed where have[key] == nil {
            let pending = try store.entries(entityKey: key).filter { $0.state != .done }
            guard let blocker = pending.first else {
                // Items: no operation will create it; the line falls back to the generic item at resolve time.
                if key.hasPrefix("sku:") { continue }
                if key.hasPrefix("order:") && kind != .invoiceEnsure && kind != .invoiceVoid {
                    // The invoice may be planned by an operation that already finished without a mapping
                    // (skipped); nothing will come.
                    throw RemoteError.rejected(.zoho, status: 0, code: nil, message: "\(key) has no invoice in Zoho")
                }
                continue
            }
            if blocker.state == .dead {
                return Wait(until: clock.now().addingTimeInterval(3600), reason: "waiting for \(key), which needs attention (operation \(blocker.id) failed)")
            }
            return Wait(until: max(blocker.nextAttemptAt, clock.now()), reason: "waiting for \(key)")
        }
        // A credit note is applied to whatever balance its invoice still has, so the order's payments go first:
        // applied before a payment, the credit would take the balance that payment needs (Zoho 24016).
        if kind == .creditNoteEnsure, let orderID = spec?["order_id"]?.int64,
           let payment = try store.unfinished(kind: OperationKind.paymentEnsure.rawValue, orderID: orderID).first {
            if payment.state == .dead {
                return Wait(until: clock.now().addingTimeInterval(3600),
                            reason: "waiting for payment \(payment.operation.zohoKey), which needs attention (operation \(payment.id) failed)")
            }
            return Wait(until: max(payment.nextAttemptAt, clock.now()), reason: "waiting for payment \(payment.operation.zohoKey)")
        }
        return nil
    }

    // MARK: Applying

    struct Applied {
        var mapping: MappingRecord?
        var outcome: String = "ok"
        var message: String = ""
        var attention: String? = nil
    }

    private func apply(_ op: PlannedOperation, uncertain: Bool, report: inout PushReport) async throws -> Applied {
        guard let kind = OperationKind(rawValue: op.kind) else {
            throw RemoteError.rejected(.zoho, status: 0, code: nil, message: "unknown operation kind \(op.kind)")
        }
        let spec = op.payload["spec"] ?? .null
        switch kind {
        case .contactEnsure:
            return try await ensureContact(try ContactSpec(json: spec), fingerprint: op.fingerprint, uncertain: uncertain)
        case .itemEnsure:
            return try await ensureItem(try ItemSpec(json: spec), fingerprint: op.fingerprint, uncertain: uncertain)
        case .invoiceEnsure:
            return try await ensureInvoice(try InvoiceSpec(json: spec), fingerprint: op.fingerprint,
                                           uncertain: uncertain, report: &report)
        case .invoiceVoid:
            guard let orderID = op.payload["order_id"]?.int64 else {
                throw RemoteError.rejected(.zoho, status: 0, code: nil, message: "void without an order id")
            }
            return try await voidInvoice(orderID: orderID)
        case .paymentEnsure:
            return try await ensurePayment(try PaymentSpec(json: spec), fingerprint: op.fingerprint, uncertain: uncertain)
        case .creditNoteEnsure:
            return try await ensureCreditNote(try CreditNoteSpec(json: spec), fingerprint: op.fingerprint,
                                              uncertain: uncertain, report: &report)
        }
    }

    // MARK: Contacts

    func ensureContact(_ spec: ContactSpec, fingerprint: String, uncertain: Bool = false) async throws -> Applied {
        let now = clock.now()
        let extra: JSON = ["currency": .string(spec.draft.currencyCode), "email": .string(spec.draft.email)]
        if let existing = try store.mapping(spec.key) {
            if existing.fingerprint == fingerprint {
                return Applied(mapping: existing, outcome: "skip", message: "contact unchanged")
            }
            var draft = spec.draft
            draft.contactName = existing.zohoNumber ?? draft.contactName
            let updated = try await sink.updateContact(id: existing.zohoID, draft)
            return Applied(mapping: MappingRecord(entityKey: spec.key, zohoID: updated.contactID, zohoNumber: updated.contactName,
                                                  fingerprint: fingerprint, zohoStatus: "active", extra: extra, updatedAt: now),
                           message: "contact \(updated.contactName) updated")
        }
        if !spec.draft.email.isEmpty {
            let found = try await sink.contacts(email: spec.draft.email)
            let sameCurrency = found.filter { $0.currencyCode.isEmpty || $0.currencyCode.uppercased() == spec.draft.currencyCode.uppercased() }
            if let match = sameCurrency.first(where: { $0.contactName == spec.draft.contactName }) ?? sameCurrency.first {
                return Applied(mapping: MappingRecord(entityKey: spec.key, zohoID: match.contactID, zohoNumber: match.contactName,
                                                      fingerprint: fingerprint, zohoStatus: "active", extra: extra, updatedAt: now),
                               outcome: "adopt", message: "adopted existing contact \(match.contactName) by email")
            }
        }
        var draft = spec.draft
        let created: ZohoContact
        do {
            created = try await sink.createContact(draft)
        } catch RemoteError.duplicate {
            // The name is taken. For a row sent before, possibly by its own earlier create whose reply was lost (or
            // that landed after the email lookup): a contact of that name with the same email (compared without
            // case), or with none for a shopper without one, is adopted. Anyone else's name: make this one unique
            // with the email (or the key). A first create makes no extra lookup.
            let wanted = draft.email.lowercased()
            let sameName = !uncertain ? [] : try await sink.contacts(name: draft.contactName).filter {
                $0.currencyCode.isEmpty || $0.currencyCode.uppercased() == draft.currencyCode.uppercased()
            }
            if let same = sameName.first(where: { wanted.isEmpty ? $0.email.isEmpty : $0.email.lowercased() == wanted }) {
                return Applied(mapping: MappingRecord(entityKey: spec.key, zohoID: same.contactID, zohoNumber: same.contactName,
                                                      fingerprint: fingerprint, zohoStatus: "active", extra: extra, updatedAt: now),
                               outcome: "adopt", message: "adopted contact \(same.contactName) by name and email")
            }
            draft.contactName = ContactMapping.disambiguated(name: draft.contactName, email: draft.email, key: spec.key)
            do {
                created = try await sink.createContact(draft)
            } catch RemoteError.duplicate {
                let byName = try await sink.contacts(name: draft.contactName)
                guard let same = byName.first(where: { $0.email.lowercased() == draft.email.lowercased() }) else { throw RemoteError.duplicate(code: 3062, message: "contact name \"\(draft.contactName)\" is taken by another contact") }
                return Applied(mapping: MappingRecord(entityKey: spec.key, zohoID: same.contactID, zohoNumber: same.contactName,
                                                      fingerprint: fingerprint, zohoStatus: "active", extra: extra, updatedAt: now),
                               outcome: "adopt", message: "adopted contact \(same.contactName) by name and email")
            }
        }
        try crashPoint(.afterRemoteCreate)
        return Applied(mapping: MappingRecord(entityKey: spec.key, zohoID: created.contactID, zohoNumber: created.contactName,
                                              fingerprint: fingerprint, zohoStatus: "active", extra: extra, updatedAt: now),
                       message: "contact \(created.contactName) created")
    }

    // MARK: Items

    /// Lists every Zoho item once (200 per call) into the mappings so SKUs are not searched per order.
    func warmItemCache() async throws {
        guard !itemsWarmed else { return }
        itemsWarmed = true
        if try store.mapping("meta:items-listed") != nil { return }
        var page = 1
        var records: [MappingRecord] = []
        while page <= 500 {
            let (items, more) = try await sink.itemsPage(page)
            for item in items where !item.sku.isEmpty {
                records.append(MappingRecord(entityKey: EntityKey.sku(item.sku), zohoID: item.itemID, zohoNumber: item.name,
                                             fingerprint: "", zohoStatus: item.status, updatedAt: clock.now()))
            }
            if !more { break }
            page += 1
        }
        records.append(MappingRecord(entityKey: "meta:items-listed", zohoID: "-", fingerprint: "", zohoStatus: "listed", updatedAt: clock.now()))
        try store.upsertMappings(records)
    }

    func ensureItem(_ spec: ItemSpec, fingerprint: String, uncertain: Bool = false) async throws -> Applied {
        let key = EntityKey.sku(spec.sku)
        let now = clock.now()
        try await warmItemCache()
        if let existing = try store.mapping(key) {
            return Applied(mapping: existing, outcome: "adopt", message: "item \(existing.zohoNumber ?? spec.sku) already in Zoho")
        }
        if let found = try await sink.items(sku: spec.sku).first(where: { $0.sku == spec.sku }) {
            return Applied(mapping: MappingRecord(entityKey: key, zohoID: found.itemID, zohoNumber: found.name, fingerprint: fingerprint,
                                                  zohoStatus: found.status, updatedAt: now),
                           outcome: "adopt", message: "adopted item \(found.name) by SKU")
        }
        guard settings.mapping.itemsMissing == .create else {
            throw RemoteError.rejected(.zoho, status: 0, code: nil, message: "no Zoho item with SKU \(spec.sku) and items.missing = fail")
        }
        var draft = spec.draft
        let created: ZohoItem
        do {
            created = try await sink.createItem(draft)
        } catch RemoteError.duplicate {
            // The name is taken: by this SKU's item from an earlier request of this row that landed late (adopt
            // it), or by another item (this one's name carries its SKU). Only a row sent before can meet its own
            // item here, so a first create makes no extra lookup.
            if uncertain, let found = try await sink.items(sku: spec.sku).first(where: { $0.sku == spec.sku }) {
                return Applied(mapping: MappingRecord(entityKey: key, zohoID: found.itemID, zohoNumber: found.name, fingerprint: fingerprint,
                                                      zohoStatus: found.status, updatedAt: now),
                               outcome: "adopt", message: "adopted item \(found.name) by SKU")
            }
            draft.name = ItemMapping.uniqueItemName(draft.name, sku: spec.sku)
            created = try await sink.createItem(draft)
        }
        try crashPoint(.afterRemoteCreate)
        return Applied(mapping: MappingRecord(entityKey: key, zohoID: created.itemID, zohoNumber: created.name, fingerprint: fingerprint,
                                              zohoStatus: "active", updatedAt: now),
                       message: "item \(created.name) created")
    }

    // MARK: Invoices

    /// Zoho ids for a document's lines: items by SKU (from the cache; the item list is read once when a SKU is
    /// not in it), the generic item for product lines without a SKU or, under `items.missing = generic`, without
    /// a Zoho item, and a Zoho tax for every rate. Under `items.missing = fail` a missing item is an error.
    func resolveLines(_ lines: [LineSpec]) async throws -> (items: [String: String], generic: String?, taxes: [String: ZohoTax]) {
        var items: [String: String] = [:]
        var needGeneric = false
        var taxes: [String: ZohoTax] = [:]
        let skus = Set(lines.filter { $0.kind == .product }.compactMap { $0.sku }.filter { !$0.isEmpty })
        var known = try store.mappings(skus.map(EntityKey.sku))
        if known.count < skus.count {
            try await warmItemCache()
            known = try store.mappings(skus.map(EntityKey.sku))
        }
        for line in lines {
            if line.kind == .product {
                if let sku = line.sku, !sku.isEmpty {
                    if let m = known[EntityKey.sku(sku)] {
                        items[sku] = m.zohoID
                    } else if settings.mapping.itemsMissing == .fail {
                        throw RemoteError.rejected(.zoho, status: 0, code: nil,
                            message: "no Zoho item with SKU \(sku) (items.missing = fail); create it in Zoho, then run `zbsync retry`")
                    } else {
                        needGeneric = true
                    }
                } else {
                    needGeneric = true
                }
            }
            if let rate = line.taxRate, rate != 0, taxes[rate.plainString] == nil {
                taxes[rate.plainString] = try await org.tax(rate: rate, name: line.taxName)
            }
        }
        let generic = needGeneric ? try await org.genericItemID() : nil
        return (items, generic, taxes)
    }

    func ensureInvoice(_ spec: InvoiceSpec, fingerprint: String, uncertain: Bool, report: inout PushReport) async throws -> Applied {
        let orderKey = EntityKey.order(spec.orderID)
        guard let contact = try store.mapping(spec.contactKey) else {
            throw RemoteError.rejected(.zoho, status: 0, code: nil, message: "contact \(spec.contactKey) is not in Zoho yet")
        }
        let resolved = try await resolveLines(spec.lines)
        var draft = spec.resolve(customerID: contact.zohoID, itemIDs: resolved.items, genericItemID: resolved.generic, taxIDs: resolved.taxes)

        var existing = try store.mapping(orderKey)
        var outcome = "ok"
        var message: String
        var invoice: ZohoInvoice
        if existing == nil, uncertain, let found = try await sink.invoices(number: spec.invoiceNumber).first {
            existing = MappingRecord(entityKey: orderKey, zohoID: found.invoiceID, zohoNumber: found.invoiceNumber, fingerprint: "",
                                     zohoStatus: found.status, updatedAt: clock.now())
            outcome = "adopt"
        }
        if let existing {
            if existing.fingerprint == fingerprint {
                return Applied(mapping: existing, outcome: "skip", message: "invoice \(spec.invoiceNumber) unchanged")
            }
            let current = try await sink.invoice(id: existing.zohoID)
            if current.status == "void" {
                let m = MappingRecord(entityKey: orderKey, zohoID: current.invoiceID, zohoNumber: current.invoiceNumber,
                                      fingerprint: fingerprint, zohoStatus: "void", extra: existing.extra, updatedAt: clock.now())
                return Applied(mapping: m, outcome: "attention", message: "invoice is void",
                               attention: "order \(spec.orderID) changed but invoice \(spec.invoiceNumber) is void in Zoho; nothing was changed")
            }
            if outcome == "adopt", current.total == spec.targetTotal {
                // Our own earlier create, whose reply was lost: it already holds this content.
                invoice = current
                message = "adopted invoice \(current.invoiceNumber) after an unknown outcome"
            } else if current.paymentMade > 0 || current.creditsApplied > 0 {
                // The new fingerprint is recorded so the order is not planned again every run; the attention entry
                // stays until a person clears it (`zbsync retry --all`) or a later edit can be applied.
                let m = MappingRecord(entityKey: orderKey, zohoID: current.invoiceID, zohoNumber: current.invoiceNumber,
                                      fingerprint: fingerprint, zohoStatus: current.status, extra: existing.extra, updatedAt: clock.now())
                return Applied(mapping: m, outcome: "attention", message: "edited after payment",
                               attention: "order \(spec.orderID) was edited in BigCommerce after invoice \(spec.invoiceNumber) received payments or credits; Zoho does not allow the update. Edit the invoice in Zoho by hand (BigCommerce total \(spec.targetTotal.centsString) \(spec.currencyCode), Zoho total \(current.total.centsString)).")
            } else {
                invoice = try await sink.updateInvoice(id: current.invoiceID, draft)
                message = "invoice \(invoice.invoiceNumber) updated"
            }
        } else {
            do {
                invoice = try await sink.createInvoice(draft)
                try crashPoint(.afterRemoteCreate)
                message = "invoice \(invoice.invoiceNumber) created"
            } catch RemoteError.duplicate {
                guard let found = try await sink.invoices(number: spec.invoiceNumber).first else { throw RemoteError.rejected(.zoho, status: 400, code: 1001, message: "Zoho says \(spec.invoiceNumber) exists but it cannot be found") }
                invoice = try await sink.invoice(id: found.invoiceID)
                outcome = "adopt"
                message = "adopted existing invoice \(invoice.invoiceNumber)"
            }
        }
        if !invoice.totalKnown || invoice.status.isEmpty {
            // A reply without the total or the status: read the invoice before comparing totals or marking it sent.
            invoice = try await sink.invoice(id: invoice.invoiceID)
            guard invoice.totalKnown else {
                throw RemoteError.malformed(.zoho, "GET /invoices/\(invoice.invoiceID): the reply has no total")
            }
        }
        // Zoho's total is the truth: correct the adjustment once when it differs from BigCommerce's.
        if invoice.total != spec.targetTotal, invoice.status != "void" {
            draft.adjustment = (draft.adjustment + (spec.targetTotal - invoice.total)).roundedToCents
            invoice = try await sink.updateInvoice(id: invoice.invoiceID, draft)
            if !invoice.totalKnown { invoice = try await sink.invoice(id: invoice.invoiceID) }
            report.totalsCorrected += 1
            try? store.appendAudit(AuditEvent(time: clock.now(), runID: runID, entityKey: orderKey, action: "invoice.adjust", outcome: "info",
                                              zohoID: invoice.invoiceID, message: "Zoho rounded differently from the prediction; adjustment corrected to \(draft.adjustment.centsString)"))
        }
        var attention: String?
        if invoice.total != spec.targetTotal {
            attention = "invoice \(spec.invoiceNumber) total \(invoice.total.centsString) differs from BigCommerce \(spec.targetTotal.centsString) \(spec.currencyCode)"
        } else if !Reconciliation.isRounding(spec.adjustment, target: spec.targetTotal) {
            attention = Self.differenceNotice(document: "invoice \(spec.invoiceNumber)", source: "order \(spec.orderID)",
                                              target: spec.targetTotal, adjustment: spec.adjustment, currency: spec.currencyCode)
        }
        if invoice.status == "draft" || invoice.status.isEmpty {
            try await sink.markInvoiceSent(id: invoice.invoiceID)
            invoice.status = "sent"
        }
        var lineIDs = JSONObject()
        for (index, line) in spec.lines.enumerated() {
            if let bcLine = line.bcLineID, index < invoice.lineItemIDs.count { lineIDs[String(bcLine)] = .string(invoice.lineItemIDs[index]) }
        }
        let extra: JSON = ["total": .decimal(invoice.total), "currency": .string(spec.currencyCode), "line_ids": .object(lineIDs)]
        let mapping = MappingRecord(entityKey: orderKey, zohoID: invoice.invoiceID, zohoNumber: invoice.invoiceNumber,
                                    fingerprint: fingerprint, zohoStatus: invoice.status, extra: extra, updatedAt: clock.now())
        if let attention { return Applied(mapping: mapping, outcome: "attention", message: message, attention: attention) }
        try? store.resolveAttention(kind: "quarantine", entityKey: orderKey, at: clock.now())
        try? store.resolveAttention(kind: "attention", entityKey: orderKey, at: clock.now())
        return Applied(mapping: mapping, outcome: outcome, message: message)
    }

    func voidInvoice(orderID: Int64) async throws -> Applied {
        let key = EntityKey.order(orderID)
        guard var mapping = try store.mapping(key) else {
            return Applied(mapping: nil, outcome: "skip", message: "order \(orderID) has no invoice")
        }
        try await sink.voidInvoice(id: mapping.zohoID)
        mapping.zohoStatus = "void"
        mapping.updatedAt = clock.now()
        return Applied(mapping: mapping, message: "invoice \(mapping.zohoNumber ?? mapping.zohoID) voided")
    }

    // MARK: Payments

    func ensurePayment(_ spec: PaymentSpec, fingerprint: String, uncertain: Bool) async throws -> Applied {
        guard let invoice = try store.mapping(EntityKey.order(spec.orderID)) else {
            throw RemoteError.rejected(.zoho, status: 0, code: nil, message: "order \(spec.orderID) has no invoice in Zoho")
        }
        guard let contact = try store.mapping(spec.contactKey) else {
            throw RemoteError.rejected(.zoho, status: 0, code: nil, message: "contact \(spec.contactKey) is not in Zoho yet")
        }
        if invoice.zohoStatus == "void" {
            return Applied(mapping: nil, outcome: "attention", message: "invoice void",
                           attention: "payment \(spec.referenceNumber) for order \(spec.orderID) not recorded: invoice \(invoice.zohoNumber ?? "") is void")
        }
        let now = clock.now()
        if let existing = try store.mapping(spec.key) {
            return Applied(mapping: existing, outcome: "skip", message: "payment already recorded")
        }
        if uncertain, let found = try await sink.payments(reference: spec.referenceNumber, customerID: contact.zohoID).first {
            return Applied(mapping: MappingRecord(entityKey: spec.key, zohoID: found.paymentID, zohoNumber: spec.referenceNumber,
                                                  fingerprint: fingerprint, zohoStatus: "recorded", updatedAt: now),
                           outcome: "adopt", message: "adopted payment \(spec.referenceNumber)")
        }
        let account = try await org.accountID(spec.account)
        let draft = spec.resolve(customerID: contact.zohoID, invoiceID: invoice.zohoID, accountID: account)
        let payment: ZohoPayment
        do {
            payment = try await sink.createPayment(draft)
        } catch RemoteError.rejected(let system, let status, let code, let message) where code == 24016 {
            // "More than the balance due": possibly because this very payment is there already, from an earlier
            // request that Zoho applied after its lookup (it was still in flight when a process died). Look again.
            if let found = try await sink.payments(reference: spec.referenceNumber, customerID: contact.zohoID).first {
                return Applied(mapping: MappingRecord(entityKey: spec.key, zohoID: found.paymentID, zohoNumber: spec.referenceNumber,
                                                      fingerprint: fingerprint, zohoStatus: "recorded", updatedAt: now),
                               outcome: "adopt", message: "adopted payment \(spec.referenceNumber) (Zoho refused a second one)")
            }
            throw RemoteError.rejected(system, status: status, code: code, message: message)
        }
        try crashPoint(.afterRemoteCreate)
        return Applied(mapping: MappingRecord(entityKey: spec.key, zohoID: payment.paymentID, zohoNumber: spec.referenceNumber,
                                              fingerprint: fingerprint, zohoStatus: "recorded",
                                              extra: ["amount": .decimal(spec.amount), "order_id": .int64(spec.orderID)], updatedAt: now),
                       message: "payment \(spec.referenceNumber) of \(spec.amount.centsString) recorded")
    }

    // MARK: Credit notes

    func ensureCreditNote(_ spec: CreditNoteSpec, fingerprint: String, uncertain: Bool, report: inout PushReport) async throws -> Applied {
        let key = EntityKey.refund(spec.refundID)
        guard let invoiceMapping = try store.mapping(EntityKey.order(spec.orderID)) else {
            throw RemoteError.rejected(.zoho, status: 0, code: nil, message: "order \(spec.orderID) has no invoice in Zoho")
        }
        guard let contact = try store.mapping(spec.contactKey) else {
            throw RemoteError.rejected(.zoho, status: 0, code: nil, message: "contact \(spec.contactKey) is not in Zoho yet")
        }
        var progress = try store.mapping(key)
        var outcome = "ok"
        if progress == nil {
            var note: ZohoCreditNote?
            if uncertain { note = try await sink.creditNotes(number: spec.creditNoteNumber).first; if note != nil { outcome = "adopt" } }
            // The credit note is linked to the invoice (query `invoice_id`) and applied to it afterwards; lines
            // carry no `invoice_item_id`, which at least one integration saw Zoho refuse (code 6).
            func makeDraft() async throws -> CreditNoteDraft {
                let resolved = try await resolveLines(spec.lines)
                return spec.resolve(customerID: contact.zohoID, invoiceID: invoiceMapping.zohoID,
                                    itemIDs: resolved.items, genericItemID: resolved.generic, taxIDs: resolved.taxes,
                                    invoiceLineItemIDs: [:])
            }
            var draft: CreditNoteDraft?
            if note == nil {
                let fresh = try await makeDraft()
                draft = fresh
                do {
                    note = try await sink.createCreditNote(fresh)
                    try crashPoint(.afterRemoteCreate)
                } catch RemoteError.duplicate {
                    note = try await sink.creditNotes(number: spec.creditNoteNumber).first
                    outcome = "adopt"
                }
            }
            guard var note else { throw RemoteError.rejected(.zoho, status: 0, code: 12018, message: "credit note \(spec.creditNoteNumber) exists but cannot be found") }
            if !note.totalKnown || outcome == "adopt" {
                // A list row or a reply without the total: read the note itself before comparing it with the refund.
                note = try await sink.creditNote(id: note.creditNoteID)
                guard note.totalKnown else {
                    throw RemoteError.malformed(.zoho, "GET /creditnotes/\(note.creditNoteID): the reply has no total")
                }
            }
            if note.total != spec.targetTotal, note.status != "void" {
                // Credit notes follow the invoice rule: Zoho's total must equal the refund; one update corrects it.
                var corrected: CreditNoteDraft
                if let draft { corrected = draft } else { corrected = try await makeDraft() }
                corrected.adjustment = (corrected.adjustment + (spec.targetTotal - note.total)).roundedToCents
                note = try await correctCreditNote(note, draft: corrected, target: spec.targetTotal, report: &report)
            }
            if !Reconciliation.isRounding(spec.adjustment, target: spec.targetTotal) {
                try? store.raiseAttention(kind: "attention", entityKey: key,
                                          message: Self.differenceNotice(document: "credit note \(spec.creditNoteNumber)", source: "refund \(spec.refundID)",
                                                                         target: spec.targetTotal, adjustment: spec.adjustment, currency: spec.currencyCode),
                                          at: clock.now())
                report.attention += 1
            }
            let m = MappingRecord(entityKey: key, zohoID: note.creditNoteID, zohoNumber: note.creditNoteNumber, fingerprint: fingerprint,
                                  zohoStatus: "created", extra: ["total": .decimal(note.total), "applied": .decimal(0)], updatedAt: clock.now())
            try store.upsertMapping(m)
            progress = m
        }
        guard var mapping = progress else { fatalError("unreachable: progress set above") }
        // Settle the credit: apply it to the invoice while the invoice has a balance, refund the rest
        // that BigCommerce actually paid back. Each step reads Zoho's balances first, so it is safe to repeat.
        let note = try await sink.creditNote(id: mapping.zohoID)
        guard note.balanceKnown, note.totalKnown else {
            throw RemoteError.malformed(.zoho, "GET /creditnotes/\(mapping.zohoID): the reply has no total or balance")
        }
        var applied = mapping.extra["applied"]?.decimal ?? 0
        var remaining = note.balance
        if mapping.zohoStatus == "created", remaining > 0, invoiceMapping.zohoStatus != "void" {
            let invoice = try await sink.invoice(id: invoiceMapping.zohoID)
            let amount = min(invoice.balance, remaining)
            if amount > 0, invoice.status != "void", invoice.status != "draft" {
                try await sink.applyCreditNote(id: mapping.zohoID, invoiceID: invoice.invoiceID, amount: amount)
                applied += amount
                remaining -= amount
            }
            mapping.zohoStatus = "applied"
            mapping.extra = ["total": .decimal(note.total), "applied": .decimal(applied)]
            mapping.updatedAt = clock.now()
            try store.upsertMapping(mapping)
        }
        if mapping.zohoStatus == "applied" {
            var alreadyRefunded = max(0, note.total - applied - remaining)
            if uncertain {
                // An earlier refund request may have reached Zoho with its reply lost; what Zoho lists is counted
                // whether or not it lowered the note's balance.
                let listed = try await sink.creditNoteRefunds(id: mapping.zohoID).reduce(Decimal(0)) { $0 + $1.amount }
                alreadyRefunded = max(alreadyRefunded, listed)
            }
            let toRefund = min(remaining, max(0, spec.refundedAmount - alreadyRefunded - applied))
            if toRefund > 0 {
                let account = try await org.refundAccountID(spec.refundAccount)
                let draft = CreditNoteRefundDraft(date: spec.date, amount: toRefund, refundMode: spec.refundMode,
                                                  referenceNumber: spec.referenceNumber, fromAccountID: account)
                try await sink.refundCreditNote(id: mapping.zohoID, draft)
            }
            mapping.zohoStatus = "settled"
            mapping.updatedAt = clock.now()
        }
        return Applied(mapping: mapping, outcome: outcome, message: "credit note \(mapping.zohoNumber ?? "") settled (applied \(applied.centsString))")
    }

    /// What a person is told when a document's lines miss part of BigCommerce's total: the document still equals
    /// the total (the difference is its adjustment), but its lines do not explain it.
    static func differenceNotice(document: String, source: String, target: Decimal, adjustment: Decimal, currency: String) -> String {
        "\(document): its lines come to \((target - adjustment).centsString) \(currency) but BigCommerce's \(source) totals "
            + "\(target.centsString); the difference \(adjustment.centsString) is on it as an adjustment (\"\(InvoiceMapping.differenceDescription)\"), "
            + "so the total is right. Part of \(source) (a fee, a discount, a charge) is not in its lines: compare it with BigCommerce "
            + "and correct the lines in Zoho if needed."
    }

    /// Corrects a credit note's adjustment with one `PUT /creditnotes/{id}` (before it is applied or refunded) so its
    /// total equals the refund. When Zoho refuses the update, or the total still differs, a person is told what to set.
    private func correctCreditNote(_ note: ZohoCreditNote, draft: CreditNoteDraft, target: Decimal,
                                   report: inout PushReport) async throws -> ZohoCreditNote {
        var result = note
        var refusal: String?
        do {
            result = try await sink.updateCreditNote(id: note.creditNoteID, draft)
            if !result.totalKnown { result = try await sink.creditNote(id: note.creditNoteID) }
            report.totalsCorrected += 1
            try? store.appendAudit(AuditEvent(time: clock.now(), runID: runID, entityKey: "creditnote:\(note.creditNoteNumber)", action: "creditnote.adjust",
                                              outcome: "info", zohoID: note.creditNoteID,
                                              message: "Zoho rounded differently from the prediction; adjustment corrected to \(draft.adjustment.centsString)"))
        } catch RemoteError.rejected(_, _, let code, let message) {
            refusal = "Zoho refused the update (\(code.map { "code \($0): " } ?? "")\(message))"
        } catch RemoteError.notFound(_, let message) {
            refusal = "Zoho has no credit-note update here (\(message))"
        }
        if result.total != target {
            let why = refusal ?? "its total is still \(result.total.centsString) after the update"
            try? store.appendAudit(AuditEvent(time: clock.now(), runID: runID, entityKey: "creditnote:\(note.creditNoteNumber)", action: "creditnote.adjust",
                                              outcome: "attention", zohoID: note.creditNoteID,
                                              message: "Zoho total \(result.total.centsString) differs from the refund \(target.centsString): \(why)"))
            try? store.raiseAttention(kind: "attention", entityKey: "creditnote:\(note.creditNoteNumber)",
                                      message: "credit note \(note.creditNoteNumber) total \(result.total.centsString) differs from the BigCommerce refund \(target.centsString) (\(why)); set its adjustment to \(draft.adjustment.centsString) in Zoho",
                                      at: clock.now())
        }
        return result
    }
}
