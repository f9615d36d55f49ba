import Foundation

/// What a command is called and how it is described in `--help`.
///
/// Invariant: `commandName` is unique among its siblings; a configuration with `subcommands` is a
/// group whose own `run` is only reached when no subcommand was named.
struct CommandConfiguration: Sendable {
    /// The word typed on the command line (`status`, `rotate-key`).
    var commandName: String
    /// One line for the `OVERVIEW:` of `--help` and the parent's `SUBCOMMANDS:` list.
    var abstract: String
    /// Paragraphs printed after the overview.
    var discussion: String
    /// Replaces the generated usage line when set (without the leading `zbsync`).
    var usage: String?
    /// Nested commands, in the order `--help` lists them.
    var subcommands: [any ParsableCommand.Type]

    init(commandName: String, abstract: String, discussion: String = "", usage: String? = nil,
         subcommands: [any ParsableCommand.Type] = []) {
        self.commandName = commandName
        self.abstract = abstract
        self.discussion = discussion
        self.usage = usage
        self.subcommands = subcommands
    }
}

/// A command of the `zbsync` tool: a struct with a static configuration and a table of the
/// options, flags and arguments it accepts.
///
/// Life cycle, driven by ``CommandLineRunner``: the parser checks the command line against
/// ``arguments`` (plus ``GlobalOptions/specs``, accepted anywhere), then `init(from:)` reads the
/// parsed values, `validate()` checks combinations (throwing ``UsageError``, exit 64), and
/// `run(_:)` does the work. `run` returns ``ExitCode/success`` or throws; the runner maps the error to
/// an exit code and one stderr line (``FailureReport``).
///
/// To add a command: write `Commands/<Name>Command.swift` with a struct conforming to this protocol
/// and list its type in the parent's `configuration.subcommands`.
protocol ParsableCommand: Sendable {
    static var configuration: CommandConfiguration { get }
    /// The command's own options, flags and positional arguments (global options excluded).
    static var arguments: [ArgumentSpec] { get }
    /// Reads the parsed command line. Throws ``UsageError`` for values of the wrong type.
    init(from arguments: ParsedArguments) throws
    /// Checks the parsed values together. Throws ``UsageError`` for misuse.
    mutating func validate() throws
    /// Does the work. Results go to stdout (`context.output`), logs to stderr (`context.logger`).
    func run(_ context: AppContext) async throws -> ExitCode
}

extension ParsableCommand {
    static var arguments: [ArgumentSpec] { [] }
    mutating func validate() throws {}

    /// A group reached without a subcommand: misuse.
    func run(_ context: AppContext) async throws -> ExitCode {
        let names = Self.configuration.subcommands.map { $0.configuration.commandName }
        throw UsageError("'\(Self.configuration.commandName)' needs a subcommand: \(names.joined(separator: ", "))")
    }
}

/// A command that exists on the command line (options, help, validation) but whose work is not in
/// this version. Running it exits 64 with one line that says so.
struct CommandUnavailable: Error, CustomStringConvertible {
    /// The full command, e.g. `zbsync auth zoho`.
    var command: String
    var description: String {
        "'\(command)' is not available in zbsync \(ZBSyncVersion.current) yet; run 'zbsync --help' for the commands that are"
    }
}
