import Foundation
import Stores
import SyncEngine

/// `zbsync replay --order N`: re-reads one order from BigCommerce and re-plans and pushes it. Idempotent.
/// Takes the run lock.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-read one order from BigCommerce and re-plan and push it (idempotent).",
        discussion: "Nothing is created twice: existing Zoho documents are found by their numbers and updated or left alone."
    )

    static let arguments: [ArgumentSpec] = [
        .option("--order", valueName: "id", help: "The BigCommerce order id.", required: true),
        .flag("--dry-run", help: "Print the plan without writing to Zoho."),
        .flag("--json", help: "Print the plan or the summary as JSON."),
    ]

    var order: Int64
    var dryRun: Bool
    var json: Bool

    init(from arguments: ParsedArguments) throws {
        order = try arguments.int64("order") ?? 0
        dryRun = arguments.flag("dry-run")
        json = arguments.flag("json")
    }

    mutating func validate() throws {
        guard order > 0 else { throw UsageError("--order needs a BigCommerce order id (a positive number)") }
    }

    func run(_ context: AppContext) async throws -> ExitCode {
        var options = SyncOptions()
        options.dryRun = dryRun
        return try await RunSupport.perform(context, command: "replay", dryRun: dryRun, json: json) { runner in
            try await runner.replay(orderID: order, options: options)
        }
    }
}
