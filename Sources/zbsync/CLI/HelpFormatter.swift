import Foundation

/// Renders `--help` screens from a command's configuration and argument table. Pure: returns text.
///
/// Layout (as swift-argument-parser prints it): `OVERVIEW:`, the discussion, `USAGE:`, `ARGUMENTS:`,
/// `OPTIONS:` (help text, allowed values and defaults), `GLOBAL OPTIONS:`, `SUBCOMMANDS:` and, on the
/// root screen, `EXIT CODES:`.
enum HelpFormatter {
    static let column = 28

    static func help(for path: [any ParsableCommand.Type]) -> String {
        let command = path[path.count - 1]
        let config = command.configuration
        let line = CommandParser.commandLine(path)
        var out: [String] = []

        out.append("OVERVIEW: \(config.abstract)")
        out.append("")
        if !config.discussion.isEmpty {
            out.append(config.discussion)
            out.append("")
        }
        out.append("USAGE: \(usage(for: path))")
        out.append("")

        let visible = command.arguments.filter { !$0.isHidden }
        let positionals = visible.filter { $0.kind == .positional }
        if !positionals.isEmpty {
            out.append("ARGUMENTS:")
            out += positionals.map { row("<\($0.valueName)>", describe($0)) }
            out.append("")
        }
        let options = visible.filter { $0.kind != .positional }
        if !options.isEmpty {
            out.append("OPTIONS:")
            out += options.map { row(label($0), describe($0)) }
            out.append("")
        }
        out.append("GLOBAL OPTIONS:")
        out += GlobalOptions.specs.filter { !$0.isHidden }.map { row(label($0), describe($0)) }
        out.append("")

        if !config.subcommands.isEmpty {
            out.append("SUBCOMMANDS:")
            out += config.subcommands.map { row($0.configuration.commandName, $0.configuration.abstract) }
            out.append("")
            out.append("  See '\(path.count == 1 ? "zbsync help <subcommand>" : "\(line) <subcommand> --help")' for detailed help.")
            out.append("")
        }
        if path.count == 1 {
            out.append("EXIT CODES:")
            out += ExitCode.documented.map { row(String($0.rawValue), $0.meaning) }
            out.append("")
        }
        return out.joined(separator: "\n")
    }

    /// The `USAGE:` line: the custom one from the configuration, else generated from the table.
    static func usage(for path: [any ParsableCommand.Type]) -> String {
        let command = path[path.count - 1]
        let line = CommandParser.commandLine(path)
        if let custom = command.configuration.usage { return "zbsync " + custom }
        var parts = [line]
        if path.count == 1 { parts.append("[<global options>]") }
        for spec in command.arguments where !spec.isHidden {
            let text = spec.synopsis + (spec.isRepeatable && spec.kind == .option ? " ..." : "")
            parts.append(spec.isRequired ? text : "[\(text)]")
        }
        if !command.configuration.subcommands.isEmpty { parts.append("<subcommand>") }
        if path.count > 1 { parts.append("[<global options>]") }
        return parts.joined(separator: " ")
    }

    private static func label(_ spec: ArgumentSpec) -> String {
        let names = spec.names.joined(separator: ", ")
        return spec.kind == .option ? "\(names) <\(spec.valueName)>" : names
    }

    private static func describe(_ spec: ArgumentSpec) -> String {
        var text = spec.help
        var notes: [String] = []
        if let allowed = spec.allowedValues { notes.append("values: \(allowed.joined(separator: ", "))") }
        if let d = spec.defaultNote ?? spec.defaultValue { notes.append("default: \(d)") }
        if spec.isRepeatable && spec.kind == .option { notes.append("repeatable") }
        if !notes.isEmpty { text += " (\(notes.joined(separator: "; ")))" }
        return text
    }

    private static func row(_ label: String, _ text: String) -> String {
        let indent = "  " + label
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let pad = String(repeating: " ", count: column)
        var first: String
        if indent.count + 2 <= column {
            first = indent + String(repeating: " ", count: column - indent.count) + (lines.first ?? "")
            return ([first] + lines.dropFirst().map { pad + $0 }).joined(separator: "\n")
        }
        first = indent
        return ([first] + lines.map { pad + $0 }).joined(separator: "\n")
    }
}
