import Foundation
import SyncEngine

/// Runs one command line from `argv` to an exit code: parse, `--version`/`--help`, build the command,
/// `validate()`, build the ``AppContext``, `run`, map failures.
///
/// Invariants: help and the version go to stdout with exit 0; a usage error prints `Error: …` and
/// `Try: …` on stderr and exits 64; any other failure prints exactly one `zbsync: …` line on stderr
/// with the code from ``FailureReport``. Every printed line passes through the redactor.
struct CommandLineRunner {
    var root: any ParsableCommand.Type = RootCommand.self
    var arguments: [String]
    var environment: [String: String]
    var redactor = Redactor()

    func run() async -> ExitCode {
        let output = Output(redactor: redactor)
        let parsed = CommandParser(root: root).parse(arguments)

        if parsed.globals.showVersion {
            output.print("zbsync \(ZBSyncVersion.current)")
            return .success
        }
        if parsed.globals.showHelp && !parsed.errorIsUnknownCommand {
            output.print(HelpFormatter.help(for: parsed.path))
            return .success
        }
        if let error = parsed.error {
            return usageFailure(error, path: parsed, output: output)
        }
        if parsed.path.count == 1 {
            output.print(HelpFormatter.help(for: parsed.path))
            return .success
        }

        var command: any ParsableCommand
        do {
            command = try parsed.command.init(from: parsed.arguments)
            try command.validate()
        } catch let error as UsageError {
            return usageFailure(error, path: parsed, output: output)
        } catch {
            return report(error, parsed: parsed, output: output)
        }

        do {
            let context = try AppContext(globals: parsed.globals, environment: environment, redactor: redactor,
                                         commandLine: parsed.commandLine)
            let code = try await command.run(context)
            if code != .success {
                output.error("zbsync: \(parsed.commandLine) finished with exit code \(code.rawValue): \(code.meaning)")
            }
            return code
        } catch {
            return report(error, parsed: parsed, output: output)
        }
    }

    private func usageFailure(_ error: UsageError, path: ParsedCommandLine, output: Output) -> ExitCode {
        output.error("Error: \(Self.oneLine(error.message))")
        output.error("Try: \(Self.oneLine(error.hint ?? "\(path.commandLine) --help"))")
        return .usage
    }

    private func report(_ error: Error, parsed: ParsedCommandLine, output: Output) -> ExitCode {
        if let usage = error as? UsageError { return usageFailure(usage, path: parsed, output: output) }
        let failure = FailureReport(for: error)
        output.error("zbsync: \(Self.oneLine(failure.message))")
        return failure.exitCode
    }

    /// `text` with its control characters shown as escapes (`\n`, `\r`, `\t`, `\u{1B}`): a value quoted in a
    /// message (an argument, a config line, a remote's reply) can neither break the one failure line nor send
    /// escape sequences to the terminal.
    static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            guard scalar.properties.generalCategory == .control else { out.unicodeScalars.append(scalar); continue }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return out
    }
}
