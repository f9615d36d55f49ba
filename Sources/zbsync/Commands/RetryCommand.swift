import Foundation
import Stores
import SyncEngine

/// `zbsync retry --all | --op ID…`: puts dead-lettered operations back in the queue for the next run.
/// Takes the run lock.
struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Re-queue dead-lettered operations for the next run.",
        discussion: "Operation ids are shown by 'zbsync status' and 'zbsync audit --failed'.",
        usage: "retry (--all | --op <id> ...) [--include-failed] [<global options>]"
    )

    static let arguments: [ArgumentSpec] = [
        .flag("--all", help: "Every dead operation."),
        .option("--op", valueName: "id", help: "One operation id.", repeatable: true),
        .flag("--include-failed", help: "Also operations still waiting for their next automatic attempt."),
    ]

    var all: Bool
    var operationIDs: [Int64]
    var includeFailed: Bool

    init(from arguments: ParsedArguments) throws {
        all = arguments.flag("all")
        includeFailed = arguments.flag("include-failed")
        operationIDs = try arguments.strings("op").map { text in
            guard let id = Int64(text), id > 0 else { throw UsageError("--op needs an operation id (a positive number), got '\(text)'") }
            return id
        }
    }

    mutating func validate() throws {
        if all && !operationIDs.isEmpty { throw UsageError("use either --all or --op, not both") }
        if !all && operationIDs.isEmpty { throw UsageError("say which operations: --all, or --op <id>") }
    }

    func run(_ context: AppContext) async throws -> ExitCode {
        try context.acquireRunLock()
        let store = try context.store()
        let count = try store.requeue(ids: all ? nil : operationIDs, includeFailed: includeFailed || !all, at: context.clock.now())
        for entry in try store.entries(states: [.pending], limit: 10_000) where all || operationIDs.contains(entry.id) {
            try? store.resolveAttention(kind: "attention", entityKey: entry.operation.entityKey, at: context.clock.now())
        }
        var cleared = 0
        if all {
            // Attention entries that are not tied to a re-queued operation (an edit Zoho refused, a void
            // invoice) are acknowledged by `retry --all`; if the cause is still there, the next run raises it again.
            for item in try store.openAttention(limit: 100_000) where item.kind == "attention" {
                try store.resolveAttention(kind: item.kind, entityKey: item.entityKey, at: context.clock.now())
                cleared += 1
            }
        }
        context.output.print(count == 0 ? "Nothing to re-queue." : "Re-queued \(count) operation\(count == 1 ? "" : "s"); the next 'zbsync sync' sends them.")
        if cleared > 0 { context.output.print("Cleared \(cleared) attention entr\(cleared == 1 ? "y" : "ies").") }
        return .success
    }
}
