import Foundation
import Stores
import SyncEngine

/// What every journal-writing command (`sync`, `backfill`, `replay`) shares: the run lock, the clients, the
/// `runs` row, the plan table or summary, and the exit code.
enum RunSupport {
    static func perform(_ context: AppContext, command: String, dryRun: Bool, json: Bool,
                        body: (SyncRunner) async throws -> SyncReport) async throws -> ExitCode {
        if !dryRun { try context.acquireRunLock() }
        let connections = try Connections(context)
        let store = connections.store
        let runID = RunRecorder.newRunID()
        let started = context.clock.now()
        // The run is recorded before anything can fail (credentials, the organization, the network), so a
        // cron run that fails still shows in `status`.
        if !dryRun { try store.beginRun(RunRecord(id: runID, command: command, startedAt: started)) }
        func recordFailure(_ error: Error) {
            guard !dryRun else { return }
            let failure = FailureReport(for: error)
            try? store.finishRun(id: runID, endedAt: context.clock.now(), counts: [:], exitCode: failure.exitCode.rawValue,
                                 summary: failure.message)
        }
        let runner: SyncRunner
        do {
            let source = try connections.bigCommerce()
            let sink: ZohoBooksSink
            var settings: SyncSettings
            if dryRun, (try? connections.zohoCredentials()) == nil {
                sink = ZohoNotConnected()
                settings = try await connections.syncSettings(sink: nil)
                context.logger.notice("Zoho is not connected yet: planning with base currency \(settings.mapping.baseCurrency)")
            } else {
                let client = try connections.zoho()
                sink = client
                settings = try await connections.syncSettings(sink: client)
            }
            runner = SyncRunner(source: source, sink: sink, store: store, clock: context.clock,
                                logger: context.logger.with(["run.id": runID]), settings: settings, runID: runID)
        } catch {
            recordFailure(error)
            throw error
        }
        runner.crashHook = CrashInjection.hook(environment: context.environment)
        let progressLine = ProgressLine(store: store, clock: context.clock, requestsPerMinute: connections.config.zoho.requestsPerMinute,
                                        enabled: !dryRun && !context.globals.quiet && isatty(STDERR_FILENO) == 1)
        runner.progress = { progressLine.update($0) }
        defer { progressLine.finish() }
        let limiterBefore = (try? store.limiterState()?.dayCount) ?? 0

        let report: SyncReport
        do {
            report = try await body(runner)
        } catch {
            recordFailure(error)
            throw error
        }
        var counts = report.counts
        let calls = max(0, ((try? store.limiterState()?.dayCount) ?? 0) - limiterBefore)
        counts["zoho_calls"] = calls
        let (code, message) = RunRecorder.exitCode(report)
        let summary = summaryLine(report, calls: calls, seconds: context.clock.now().timeIntervalSince(started))
        if !dryRun {
            try store.finishRun(id: runID, endedAt: context.clock.now(), counts: counts, exitCode: code.rawValue, summary: summary)
        }

        if json {
            context.output.print(reportJSON(report, dryRun: dryRun, counts: counts).serializedString(sortedKeys: true))
        } else if dryRun {
            context.output.print(lines: PlanTable.render(report))
        } else if !context.globals.quiet {
            context.output.print(summary)
        }
        if let message, code != .success { throw CommandFailure(code, message) }
        return code
    }

    static func summaryLine(_ r: SyncReport, calls: Int, seconds: Double) -> String {
        var parts = ["read \(r.ordersSeen) orders, \(r.refundsSeen) refunds, \(r.customersSeen) customers"]
        if r.deliveries > 0 { parts.append("\(r.deliveries) webhook deliveries") }
        parts.append("planned \(r.planned) operations")
        parts.append("done \(r.push.done)" + (r.push.adopted > 0 ? " (\(r.push.adopted) adopted)" : ""))
        if r.push.failed > 0 { parts.append("failed \(r.push.failed)") }
        if r.push.dead > 0 { parts.append("dead \(r.push.dead)") }
        if r.quarantined > 0 { parts.append("quarantined \(r.quarantined)") }
        if r.attention + r.push.attention > 0 { parts.append("attention \(r.attention + r.push.attention)") }
        parts.append("\(calls) Zoho calls")
        parts.append(String(format: "%.1f s", seconds))
        return parts.joined(separator: ", ")
    }

    static func reportJSON(_ r: SyncReport, dryRun: Bool, counts: [String: Int]) -> JSON {
        var obj = JSONObject()
        obj["dry_run"] = .bool(dryRun)
        var c = JSONObject()
        for (k, v) in counts.sorted(by: { $0.key < $1.key }) { c[k] = .int(v) }
        obj["counts"] = .object(c)
        obj["windows"] = .array(r.windows.map(JSON.string))
        obj["operations"] = .array(r.plan.operations.map { PlanTable.row($0).json })
        obj["problems"] = .array(r.plan.problems.map { ["kind": .string($0.kind), "entity": .string($0.entityKey), "message": .string($0.message)] })
        obj["skipped"] = .array(r.plan.skips.map { ["entity": .string($0.entityKey), "reason": .string($0.reason)] })
        return .object(obj)
    }
}

/// The `--dry-run` table: order, action, Zoho document, amount, currency, lines.
enum PlanTable {
    struct Row {
        var entity: String
        var action: String
        var document: String
        var amount: String
        var currency: String
        var lines: String
        var json: JSON {
            ["entity": .string(entity), "action": .string(action), "zoho_document": .string(document), "amount": .string(amount),
             "currency": .string(currency), "lines": .string(lines)]
        }
    }

    static func row(_ op: PlannedOperation) -> Row {
        let spec = op.payload["spec"] ?? .null
        let amount = spec["target_total"]?.decimal ?? spec["amount"]?.decimal
        let currency = spec["currency_code"]?.string ?? spec["draft"]?["currency_code"]?.string ?? ""
        let lines = spec["lines"]?.array.map { String($0.count) } ?? ""
        return Row(entity: op.entityKey, action: op.kind, document: op.zohoKey, amount: amount?.centsString ?? "",
                   currency: currency, lines: lines)
    }

    static func render(_ report: SyncReport) -> [String] {
        var out: [String] = []
        out.append("Dry run: nothing was written to Zoho and no cursor moved.")
        for w in report.windows { out.append("window " + w) }
        let rows = report.plan.operations.map(row)
        if rows.isEmpty {
            out.append("No Zoho operations planned.")
        } else {
            let header = Row(entity: "BIGCOMMERCE", action: "ACTION", document: "ZOHO DOCUMENT", amount: "AMOUNT", currency: "CUR", lines: "LINES")
            let all = [header] + rows
            func width(_ k: KeyPath<Row, String>) -> Int { all.map { $0[keyPath: k].count }.max() ?? 0 }
            let w = (width(\.entity), width(\.action), width(\.document), width(\.amount), width(\.currency))
            for r in all {
                out.append([r.entity.padding(toLength: w.0, withPad: " ", startingAt: 0),
                            r.action.padding(toLength: w.1, withPad: " ", startingAt: 0),
                            r.document.padding(toLength: w.2, withPad: " ", startingAt: 0),
                            String(repeating: " ", count: w.3 - r.amount.count) + r.amount,
                            r.currency.padding(toLength: w.4, withPad: " ", startingAt: 0),
                            r.lines].joined(separator: "  "))
            }
        }
        for p in report.plan.problems { out.append("\(p.kind.uppercased()) \(p.entityKey): \(p.message)") }
        let skipped = report.plan.skips.filter { $0.reason != "unchanged" }
        if !skipped.isEmpty {
            out.append("Skipped:")
            for s in skipped { out.append("  \(s.entityKey): \(s.reason)") }
        }
        let unchanged = report.plan.skips.count - skipped.count
        out.append("\(report.plan.operations.count) operations planned, \(unchanged) unchanged, \(skipped.count) skipped, \(report.plan.problems.count) need attention.")
        return out
    }
}

/// Stands in for Zoho in a dry run before `zbsync auth zoho`: planning needs no Zoho call, so any call is a bug.
struct ZohoNotConnected: ZohoBooksSink {
    func fail<T>() throws -> T { throw RemoteError.authorization(.zoho, "Zoho is not connected; run 'zbsync auth zoho'") }
    func organization() async throws -> ZohoOrganization { try fail() }
    func currencies() async throws -> [ZohoCurrency] { try fail() }
    func taxes() async throws -> [ZohoTax] { try fail() }
    func createTax(name: String, percentage: Decimal) async throws -> ZohoTax { try fail() }
    func accounts() async throws -> [ZohoAccount] { try fail() }
    func contactsPage(_ page: Int) async throws -> (contacts: [ZohoContact], hasMore: Bool) { try fail() }
    func contacts(email: String) async throws -> [ZohoContact] { try fail() }
    func contacts(name: String) async throws -> [ZohoContact] { try fail() }
    func createContact(_ draft: ContactDraft) async throws -> ZohoContact { try fail() }
    func updateContact(id: String, _ draft: ContactDraft) async throws -> ZohoContact { try fail() }
    func itemsPage(_ page: Int) async throws -> (items: [ZohoItem], hasMore: Bool) { try fail() }
    func items(sku: String) async throws -> [ZohoItem] { try fail() }
    func createItem(_ draft: ItemDraft) async throws -> ZohoItem { try fail() }
    func invoices(number: String) async throws -> [ZohoInvoice] { try fail() }
    func invoice(id: String) async throws -> ZohoInvoice { try fail() }
    func createInvoice(_ draft: InvoiceDraft) async throws -> ZohoInvoice { try fail() }
    func updateInvoice(id: String, _ draft: InvoiceDraft) async throws -> ZohoInvoice { try fail() }
    func markInvoiceSent(id: String) async throws { try fail() as Void }
    func voidInvoice(id: String) async throws { try fail() as Void }
    func creditNotes(number: String) async throws -> [ZohoCreditNote] { try fail() }
    func creditNote(id: String) async throws -> ZohoCreditNote { try fail() }
    func createCreditNote(_ draft: CreditNoteDraft) async throws -> ZohoCreditNote { try fail() }
    func updateCreditNote(id: String, _ draft: CreditNoteDraft) async throws -> ZohoCreditNote { try fail() }
    func applyCreditNote(id: String, invoiceID: String, amount: Decimal) async throws { try fail() as Void }
    func refundCreditNote(id: String, _ draft: CreditNoteRefundDraft) async throws { try fail() as Void }
    func creditNoteRefunds(id: String) async throws -> [ZohoCreditNoteRefund] { try fail() }
    func payments(reference: String, customerID: String) async throws -> [ZohoPayment] { try fail() }
    func createPayment(_ draft: PaymentDraft) async throws -> ZohoPayment { try fail() }
}

/// `ZBSYNC_CRASH_AT=<point>[:<n>]` (points: afterMarkSending, afterRemoteCreate, afterComplete): the process kills
/// itself with SIGKILL at the n-th time the executor reaches that point (default the first). For the fault suite.
enum CrashInjection {
    static func hook(environment: [String: String]) -> (@Sendable (CrashPoint) -> Bool)? {
        guard let raw = environment["ZBSYNC_CRASH_AT"], !raw.isEmpty else { return nil }
        let parts = raw.split(separator: ":")
        guard let point = CrashPoint(rawValue: String(parts[0])) else { return nil }
        let target = parts.count > 1 ? Int(parts[1]) ?? 1 : 1
        let counter = CrashCounter()
        return { reached in
            if reached == point, counter.increment() == target { kill(getpid(), SIGKILL) }
            return false
        }
    }
}

final class CrashCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int { lock.withLock { value += 1; return value } }
}

/// The terminal progress line of a long push: done/total, rate, and an ETA that accounts for the Zoho rate
/// limit (remaining operations × calls per operation so far ÷ the limiter's rate, or the observed pace if slower).
final class ProgressLine: @unchecked Sendable {
    private let store: SQLiteStateStore
    private let clock: SyncClock
    private let requestsPerMinute: Int
    private let enabled: Bool
    private var total: Int?
    private var started: Date?
    private var callsAtStart = 0
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(store: SQLiteStateStore, clock: SyncClock, requestsPerMinute: Int, enabled: Bool) {
        self.store = store; self.clock = clock; self.requestsPerMinute = max(1, requestsPerMinute); self.enabled = enabled
    }

    func update(_ report: PushReport) {
        guard enabled else { return }
        let now = clock.now()
        if total == nil {
            let counts = (try? store.counts()) ?? [:]
            total = report.done + report.failed + report.dead + counts[.pending, default: 0] + counts[.unknown, default: 0] + counts[.failed, default: 0]
            started = now
            callsAtStart = (try? store.limiterState()?.dayCount) ?? 0
        }
        guard now.timeIntervalSince(lastDraw) >= 0.5 else { return }
        lastDraw = now
        let processed = report.done + report.failed + report.dead
        let total = max(self.total ?? processed, processed)
        let elapsed = max(0.001, now.timeIntervalSince(started ?? now))
        let calls = max(0, ((try? store.limiterState()?.dayCount) ?? 0) - callsAtStart)
        let callsPerOp = processed > 0 ? Double(calls) / Double(processed) : 1
        let remaining = Double(total - processed)
        let byLimit = remaining * callsPerOp / (Double(requestsPerMinute) / 60)
        let byPace = processed > 0 ? remaining * elapsed / Double(processed) : byLimit
        let eta = max(byLimit, byPace)
        let line = String(format: "\r%d/%d operations, %.1f/s, %d Zoho calls, ETA %@   ", processed, total, Double(processed) / elapsed, calls,
                          Self.duration(eta))
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
        if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s)s"
    }
}
