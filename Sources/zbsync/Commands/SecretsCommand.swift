import Foundation

/// `zbsync secrets`: manage the encrypted credentials in `state.db`.
struct SecretsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets",
        abstract: "Manage the master key that encrypts the stored credentials.",
        subcommands: [SecretsRotateKeyCommand.self]
    )

    init(from arguments: ParsedArguments) {}
}
