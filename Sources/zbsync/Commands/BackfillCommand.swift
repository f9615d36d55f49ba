import Foundation
import Stores
import SyncEngine

/// `zbsync backfill --since DATE [--until DATE]`: a one-off, resumable import of older orders over a
/// window, through the same engine as `sync`. Takes the run lock.
struct BackfillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Import the orders of a past window (one-off, resumable).",
        discussion: "Orders created in [--since, --until] are planned and pushed like a sync; running it again resumes. Exits 75 when the Zoho daily quota is spent; run it again the next day."
    )

    static let arguments: [ArgumentSpec] = [
        .option("--since", valueName: "date", help: "Start of the window: YYYY-MM-DD (UTC) or an ISO 8601 time.",
                required: true),
        .option("--until", valueName: "date", help: "End of the window (orders created up to this time).", defaultNote: "sync.start"),
        .flag("--dry-run", help: "Print the plan without writing to Zoho."),
        .flag("--json", help: "Print the plan or the summary as JSON."),
    ]

    var since: Date
    var until: Date?
    var dryRun: Bool
    var json: Bool

    init(from arguments: ParsedArguments) throws {
        since = try arguments.date("since") ?? Date.distantPast
        until = try arguments.date("until")
        dryRun = arguments.flag("dry-run")
        json = arguments.flag("json")
    }

    mutating func validate() throws {
        if let until, until <= since { throw UsageError("--until must be after --since") }
    }

    func run(_ context: AppContext) async throws -> ExitCode {
        var options = SyncOptions()
        options.dryRun = dryRun
        let start = try context.configuration().sync.start
        let window = BackfillWindow(since: since, until: until ?? start)
        return try await RunSupport.perform(context, command: "backfill", dryRun: dryRun, json: json) { runner in
            try await runner.backfill(window, options: options)
        }
    }
}
