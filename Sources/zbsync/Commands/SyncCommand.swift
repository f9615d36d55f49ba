import Foundation
import Stores
import SyncEngine

/// `zbsync sync`: the cron job. Drains the webhook inbox, polls BigCommerce since the cursors, pushes
/// the journal to Zoho Books. Takes the run lock.
struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Drain the webhook inbox, poll BigCommerce since the cursors, push to Zoho Books.",
        discussion: """
        Meant for cron, every few minutes. Only one run per home at a time: a second one exits 75 at once.
        With --dry-run, prints the plan and makes no Zoho writes; no cursor moves.
        """
    )

    static let arguments: [ArgumentSpec] = [
        .flag("--dry-run", help: "Print the plan (order, action, Zoho document, amount) without writing to Zoho."),
        .flag("--json", help: "Print the plan or the summary as JSON."),
        .flag("--inbox-only", help: "Only process webhook deliveries waiting in the inbox."),
    ]

    var dryRun: Bool
    var json: Bool
    var inboxOnly: Bool

    init(from arguments: ParsedArguments) {
        dryRun = arguments.flag("dry-run")
        json = arguments.flag("json")
        inboxOnly = arguments.flag("inbox-only")
    }

    func run(_ context: AppContext) async throws -> ExitCode {
        var options = SyncOptions()
        options.dryRun = dryRun
        options.inboxOnly = inboxOnly
        return try await RunSupport.perform(context, command: inboxOnly ? "sync --inbox-only" : "sync", dryRun: dryRun, json: json) { runner in
            try await runner.sync(options)
        }
    }
}
