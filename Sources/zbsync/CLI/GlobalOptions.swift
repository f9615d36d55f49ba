import Foundation

/// Options every command accepts, before or after the subcommand (`zbsync --home H status` and
/// `zbsync status --home H` are the same).
///
/// Invariant: `verbose` and `quiet` are not both set (the parser refuses the combination).
struct GlobalOptions: Sendable, Equatable {
    /// `--home DIR` as typed; nil means `$ZBSYNC_HOME`, else `~/.zbsync`.
    var home: String?
    /// `--log-format`; nil means `log.format` from the configuration.
    var logFormat: LogFormat?
    var verbose = false
    var quiet = false
    var showVersion = false
    var showHelp = false

    static let specs: [ArgumentSpec] = [
        .option("--home", valueName: "dir", help: "Home folder: config, state and key of one connection.",
                defaultNote: "$ZBSYNC_HOME, else ~/.zbsync"),
        .option("--log-format", valueName: "format", help: "How log lines on stderr look.",
                defaultNote: "log.format from the config, text", allowedValues: LogFormat.allCases.map(\.rawValue)),
        .flag("-v", "--verbose", help: "Log debug details too."),
        .flag("-q", "--quiet", help: "Print only errors (cron mail stays empty when all is well)."),
        .flag("--version", help: "Print the version and exit."),
        .flag("-h", "--help", help: "Show help for the command and exit."),
    ]

    /// Applies one parsed global option. `spec` is one of ``specs``.
    mutating func apply(_ spec: ArgumentSpec, value: String?) {
        switch spec.key {
        case "home": home = value
        case "log-format": logFormat = value.flatMap(LogFormat.init(rawValue:))
        case "verbose": verbose = true
        case "quiet": quiet = true
        case "version": showVersion = true
        case "help": showHelp = true
        default: preconditionFailure("unhandled global option \(spec.key)")
        }
    }
}

/// How log lines are written.
enum LogFormat: String, Sendable, CaseIterable {
    case text, json
}
