import Foundation

/// The result of reading a command line: which command, its values, the global options, and the
/// first misuse found (kept rather than thrown so that `--help` and `--version` still win over it).
struct ParsedCommandLine: Sendable {
    /// Root first, the command to run last.
    var path: [any ParsableCommand.Type]
    var arguments: ParsedArguments
    var globals: GlobalOptions
    var error: UsageError?
    /// True when the error is an unknown subcommand: help for a half-resolved path would mislead.
    var errorIsUnknownCommand = false

    var command: any ParsableCommand.Type { path[path.count - 1] }
    /// `zbsync auth zoho`.
    var commandLine: String { CommandParser.commandLine(path) }
}

/// Reads `argv` against the command tree. Pure: no I/O, so parsing is testable as values.
///
/// Rules: `--name value` and `--name=value` are the same; a flag takes no value; global options are
/// accepted at any position before `--`; a bare word names a subcommand while the current command has
/// subcommands and none of its own arguments were given yet, else it is a positional argument;
/// `zbsync help <command>…` is `zbsync <command>… --help`; after `--` every word is positional.
struct CommandParser {
    let root: any ParsableCommand.Type

    static func commandLine(_ path: [any ParsableCommand.Type]) -> String {
        path.map { $0.configuration.commandName }.joined(separator: " ")
    }

    func parse(_ argv: [String]) -> ParsedCommandLine {
        var result = ParsedCommandLine(path: [root], arguments: ParsedArguments(specs: root.arguments), globals: GlobalOptions())
        var index = 0
        var onlyPositionals = false
        var ownInputSeen = false
        var helpWords = false

        func fail(_ message: String, hint: String? = nil, unknownCommand: Bool = false) {
            guard result.error == nil else { return }
            result.error = UsageError(message, hint: hint)
            result.errorIsUnknownCommand = unknownCommand
        }

        while index < argv.count {
            let token = argv[index]
            index += 1

            if result.error != nil {
                // After a misuse, only look for the options that override it.
                if token == "--help" || token == "-h" { result.globals.showHelp = true }
                if token == "--version" { result.globals.showVersion = true }
                continue
            }

            if !onlyPositionals && token == "--" { onlyPositionals = true; continue }

            if !onlyPositionals && token.hasPrefix("-") && token.count > 1 {
                var name = token
                var inlineValue: String?
                if token.hasPrefix("--"), let eq = token.firstIndex(of: "=") {
                    name = String(token[..<eq])
                    inlineValue = String(token[token.index(after: eq)...])
                }
                let own = result.command.arguments.first { $0.kind != .positional && $0.names.contains(name) }
                let global = GlobalOptions.specs.first { $0.names.contains(name) }
                guard let spec = own ?? global else {
                    let known = (result.command.arguments + GlobalOptions.specs).flatMap(\.names).filter { $0.hasPrefix("--") }
                    if let guess = Suggestion.closest(to: name, in: known) {
                        fail("unknown option '\(name)' (did you mean '\(guess)'?)")
                    } else {
                        fail("unknown option '\(name)'")
                    }
                    continue
                }
                var value: String?
                switch spec.kind {
                case .flag:
                    if inlineValue != nil { fail("\(spec.displayName) does not take a value"); continue }
                case .option:
                    if let inlineValue {
                        value = inlineValue
                    } else if index < argv.count, !argv[index].hasPrefix("--") {
                        value = argv[index]
                        index += 1
                    } else {
                        fail("\(spec.displayName) needs a value: \(spec.synopsis)")
                        continue
                    }
                    if let allowed = spec.allowedValues, let v = value, !allowed.contains(v) {
                        fail("\(spec.displayName) must be one of \(allowed.joined(separator: ", ")); got '\(v)'")
                        continue
                    }
                case .positional:
                    preconditionFailure("positionals have no names")
                }
                if own != nil {
                    ownInputSeen = true
                    if spec.kind == .flag { result.arguments.countFlag(spec) } else { result.arguments.append(value: value!, for: spec) }
                } else {
                    result.globals.apply(spec, value: value)
                }
                continue
            }

            let subcommands = result.command.configuration.subcommands
            if !onlyPositionals && !ownInputSeen && !subcommands.isEmpty {
                if result.path.count == 1 && token == "help" && !helpWords {
                    helpWords = true
                    result.globals.showHelp = true
                    continue
                }
                if let sub = subcommands.first(where: { $0.configuration.commandName == token }) {
                    result.path.append(sub)
                    result.arguments = ParsedArguments(specs: sub.arguments)
                    continue
                }
                let names = subcommands.map { $0.configuration.commandName }
                let hint = "\(result.commandLine) --help"
                if let guess = Suggestion.closest(to: token, in: names) {
                    fail("unknown command '\(token)' (did you mean '\(guess)'?)", hint: hint, unknownCommand: true)
                } else {
                    fail("unknown command '\(token)'; commands: \(names.joined(separator: ", "))", hint: hint, unknownCommand: true)
                }
                continue
            }

            let positionals = result.command.arguments.filter { $0.kind == .positional }
            if result.arguments.positionalCount < positionals.count {
                result.arguments.appendPositional(token)
                ownInputSeen = true
            } else {
                fail("unexpected argument '\(token)'")
            }
        }

        if result.error == nil {
            if result.globals.verbose && result.globals.quiet {
                fail("--verbose and --quiet cannot be used together")
            }
            let positionals = result.command.arguments.filter { $0.kind == .positional }
            for spec in result.command.arguments where spec.isRequired {
                let given = spec.kind == .positional
                    ? (positionals.firstIndex { $0.key == spec.key } ?? Int.max) < result.arguments.positionalCount
                    : result.arguments.hasValue(for: spec)
                if !given { fail("missing \(spec.synopsis)"); break }
            }
        }
        return result
    }
}
