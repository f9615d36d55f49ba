import Foundation

/// `zbsync auth`: store credentials (encrypted in `state.db`) for one of the two systems.
struct AuthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "Store the credentials for BigCommerce or Zoho Books (encrypted in state.db).",
        discussion: "Secrets are read from environment variables or a no-echo prompt, never from the command line.",
        subcommands: [AuthBigCommerceCommand.self, AuthZohoCommand.self]
    )

    init(from arguments: ParsedArguments) {}
}
