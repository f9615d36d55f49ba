import Foundation

/// `zbsync doctor`: checks both connections with the stored credentials and reports whether the Zoho
/// organization fits (token, scopes, region, organization, currency, taxes, accounts).
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check both connections and whether the Zoho organization fits the configuration.",
        discussion: "Read-only: calls BigCommerce and Zoho Books with the stored credentials and changes nothing."
    )

    static let arguments: [ArgumentSpec] = [
        .flag("--json", help: "Print the report as one JSON object."),
    ]

    var json: Bool

    init(from arguments: ParsedArguments) {
        json = arguments.flag("json")
    }

    func run(_ context: AppContext) async throws -> ExitCode {
        throw CommandUnavailable(command: "zbsync doctor")
    }
}
