import Foundation

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
        .flag("--json", help: "Print JSON lines instead of a table."),
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
        throw CommandUnavailable(command: "zbsync audit")
    }
}
