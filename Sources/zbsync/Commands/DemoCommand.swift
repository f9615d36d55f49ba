import Foundation

/// `zbsync demo`: a full run against the local sandbox of both APIs; needs no credentials.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a full sync against the local sandbox (no credentials needed).",
        discussion: "Uses a temporary home folder unless --home is given; the sandbox listens on loopback only."
    )

    init(from arguments: ParsedArguments) {}

    func run(_ context: AppContext) async throws -> ExitCode {
        throw CommandUnavailable(command: "zbsync demo")
    }
}
