import Foundation
import Stores
import SyncEngine

/// `zbsync audit`: prints the audit log, newest first. Read-only; never waits on the run lock.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show the audit log: what was done in Zoho, when, and with what result.",
        discussion: "Newest first. Read-only; it does not wait for a running sync."
    )

    static let arguments: [ArgumentSpec] = [
        .option("--order", valueName: "id", help: "Only this BigCommerce order."),
        .flag("--failed", help: "Only failures and dead-lettered operations."),
        .option("--since", valueName: "time", help: "Only entries at or after this date or ISO 8601 time."),
        .option("--limit", valueName: "n", help: "At most this many entries.", defaultValue: "200"),
        .flag("--json", help: "Print a JSON array instead of a table."),
    ]

    var order: Int64?
    var failed: Bool
    var since: Date?
    var limit: Int
    var json: Bool

    init(from arguments: ParsedArguments) throws {
        order = try arguments.int64("order")
        failed = arguments.flag("failed")
        since = try arguments.date("since")
        limit = try arguments.int("limit") ?? 200
        json = arguments.flag("json")
    }

    mutating func validate() throws {
        if let order, order <= 0 { throw UsageError("--order needs a BigCommerce order id (a positive number)") }
        guard limit > 0 else { throw UsageError("--limit must be at least 1") }
    }

    func run(_ context: AppContext) async throws -> ExitCode {
        let store = try context.store()
        var query = AuditQuery()
        if let order { query.entityKey = EntityKey.order(order) }
        query.failedOnly = failed
        query.since = since
        query.limit = limit
        var events = try store.audit(query)
        if let order {
            // Everything about the order: its invoice, payments and credit notes.
            var related = AuditQuery()
            related.failedOnly = failed
            related.since = since
            related.limit = 5000
            let refunds = Set(try store.entries(states: JournalState.allCases, limit: 100_000)
                .filter { ($0.operation.payload["spec"]?["order_id"]?.int64) == order }.map(\.operation.entityKey))
            events += try store.audit(related).filter { refunds.contains($0.entityKey) && $0.entityKey != EntityKey.order(order) }
            events.sort { $0.time > $1.time }
            events = Array(events.prefix(limit))
        }
        if json {
            let f = ISO8601DateFormatter()
            let rows: [JSON] = events.map { e in
                ["time": .string(f.string(from: e.time)), "run_id": .string(e.runID), "entity": .string(e.entityKey),
                 "action": .string(e.action), "outcome": .string(e.outcome), "zoho_id": .optional(e.zohoID),
                 "http_status": e.httpStatus.map { JSON.int($0) } ?? .null, "zoho_code": e.zohoCode.map { JSON.int($0) } ?? .null,
                 "message": .string(e.message)]
            }
            context.output.print(JSON.array(rows).serializedString(sortedKeys: true))
            return .success
        }
        if events.isEmpty {
            context.output.print("No audit entries match.")
            return .success
        }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        for e in events.reversed() {
            var line = "\(f.string(from: e.time))  \(e.entityKey.padding(toLength: 16, withPad: " ", startingAt: 0))  \(e.action.padding(toLength: 18, withPad: " ", startingAt: 0))  \(e.outcome.padding(toLength: 9, withPad: " ", startingAt: 0))"
            if let id = e.zohoID { line += "  zoho \(id)" }
            if let code = e.zohoCode { line += "  code \(code)" }
            if !e.message.isEmpty { line += "  \(e.message)" }
            context.output.print(line)
        }
        return .success
    }
}
