import Foundation

/// `zbsync`: the root of the command tree. Run without a subcommand it prints its help.
struct RootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zbsync",
        abstract: "Keep a BigCommerce store's sales in Zoho Books.",
        discussion: """
        Orders become invoices, customers contacts, payments customer payments, refunds credit notes.
        Data flows one way, BigCommerce to Zoho Books. One home folder is one connection.

        First steps:
          zbsync init
          zbsync auth bigcommerce --store-hash HASH
          zbsync auth zoho --region us --client-id ID
          zbsync doctor
          zbsync sync --dry-run
        """,
        subcommands: [
            InitCommand.self, AuthCommand.self, DoctorCommand.self, SyncCommand.self, BackfillCommand.self,
            StatusCommand.self, AuditCommand.self, ReplayCommand.self, RetryCommand.self, WebhookCommand.self, WebhooksCommand.self,
            SecretsCommand.self, DemoCommand.self,
        ]
    )

    init(from arguments: ParsedArguments) {}

    func run(_ context: AppContext) async throws -> ExitCode {
        context.output.print(HelpFormatter.help(for: [Self.self]))
        return .success
    }
}
