import Foundation
import Testing

/// `--help`, `--version` and misuse of the command line, checked on the built binary.
@Suite struct HelpAndUsageTests {
    @Test func rootHelpListsCommandsGlobalOptionsAndExitCodes() throws {
        let scratch = try Scratch()
        let result = try ZBSync.run(["--help"], in: scratch)
        #expect(result.exitCode == 0, "\(result)")
        #expect(result.stderr.isEmpty)
        for text in ["OVERVIEW:", "USAGE: zbsync", "GLOBAL OPTIONS:", "--home <dir>", "--log-format <format>",
                     "-v, --verbose", "-q, --quiet", "SUBCOMMANDS:", "status", "secrets", "EXIT CODES:", "78"] {
            #expect(result.stdout.contains(text), "missing \(text)")
        }
    }

    @Test func statusHelpShowsUsageOptionsAndDefaults() throws {
        let scratch = try Scratch()
        let result = try ZBSync.run(["status", "--help"], in: scratch)
        #expect(result.exitCode == 0, "\(result)")
        #expect(result.stdout.contains("USAGE: zbsync status [--json]"))
        #expect(result.stdout.contains("--json"))
        #expect(result.stdout.contains("(default: 10)"))
        #expect(result.stdout.contains("GLOBAL OPTIONS:"))
        // `help status`, `-h` and `--help` before the command are the same screen.
        for variant in [["help", "status"], ["status", "-h"], ["--help", "status"]] {
            #expect(try ZBSync.run(variant, in: scratch).stdout == result.stdout, "\(variant)")
        }
    }

    @Test(arguments: [["init"], ["auth"], ["auth", "bigcommerce"], ["auth", "zoho"], ["doctor"], ["sync"], ["backfill"],
                      ["status"], ["audit"], ["replay"], ["retry"], ["webhook"], ["secrets"], ["secrets", "rotate-key"], ["demo"]])
    func everyCommandHasHelp(_ path: [String]) throws {
        let scratch = try Scratch()
        let result = try ZBSync.run(path + ["--help"], in: scratch)
        #expect(result.exitCode == 0, "\(result)")
        #expect(result.stdout.hasPrefix("OVERVIEW: "))
        #expect(result.stdout.contains("USAGE: zbsync \(path.joined(separator: " "))"))
    }

    @Test func versionPrintsTheVersion() throws {
        let scratch = try Scratch()
        for args in [["--version"], ["status", "--version"]] {
            let result = try ZBSync.run(args, in: scratch)
            #expect(result.exitCode == 0)
            #expect(result.stdout == "zbsync 0.1.0\n")
        }
    }

    @Test func unknownOptionIsAUsageError() throws {
        let scratch = try Scratch()
        let result = try ZBSync.run(["status", "--frobnicate"], in: scratch)
        #expect(result.exitCode == 64, "\(result)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "Error: unknown option '--frobnicate'\nTry: zbsync status --help\n")
    }

    @Test func mistypedOptionGetsASuggestion() throws {
        let scratch = try Scratch()
        let result = try ZBSync.run(["sync", "--dryrun"], in: scratch)
        #expect(result.exitCode == 64)
        #expect(result.stderr.contains("did you mean '--dry-run'?"), "\(result)")
    }

    @Test func unknownCommandSuggestsTheClosest() throws {
        let scratch = try Scratch()
        let result = try ZBSync.run(["stauts"], in: scratch)
        #expect(result.exitCode == 64, "\(result)")
        #expect(result.stderr.hasPrefix("Error: unknown command 'stauts' (did you mean 'status'?)\n"))
        #expect(result.stderr.contains("Try: zbsync --help"))

        let nested = try ZBSync.run(["secrets", "rotate"], in: scratch)
        #expect(nested.exitCode == 64)
        #expect(nested.stderr.contains("did you mean 'rotate-key'?"), "\(nested)")
        #expect(nested.stderr.contains("Try: zbsync secrets --help"))
    }

    @Test func optionValuesWorkWithEqualsOrSpace() throws {
        let scratch = try Scratch()
        let missing = try ZBSync.run(["backfill", "--since"], in: scratch)
        #expect(missing.exitCode == 64)
        #expect(missing.stderr.contains("Error: --since needs a value"), "\(missing)")

        let badDate = try ZBSync.run(["backfill", "--since=2024-13-01"], in: scratch)
        #expect(badDate.exitCode == 64)
        #expect(badDate.stderr.contains("--since needs a date"), "\(badDate)")

        let flagWithValue = try ZBSync.run(["sync", "--dry-run=yes"], in: scratch)
        #expect(flagWithValue.exitCode == 64)
        #expect(flagWithValue.stderr.contains("--dry-run does not take a value"))

        let badChoice = try ZBSync.run(["status", "--log-format", "xml"], in: scratch)
        #expect(badChoice.exitCode == 64)
        #expect(badChoice.stderr.contains("--log-format must be one of text, json"))
    }

    @Test func validationErrorsAreUsageErrors() throws {
        let scratch = try Scratch()
        let both = try ZBSync.run(["retry", "--all", "--op", "3"], in: scratch)
        #expect(both.exitCode == 64)
        #expect(both.stderr == "Error: use either --all or --op, not both\nTry: zbsync retry --help\n")

        let required = try ZBSync.run(["replay"], in: scratch)
        #expect(required.exitCode == 64)
        #expect(required.stderr.hasPrefix("Error: missing --order <id>\n"))

        let verboseQuiet = try ZBSync.run(["status", "-v", "-q"], in: scratch)
        #expect(verboseQuiet.exitCode == 64)

        let group = try ZBSync.run(["auth"], in: scratch)
        #expect(group.exitCode == 64)
        #expect(group.stderr.contains("'auth' needs a subcommand: bigcommerce, zoho"))
    }

    /// A sync on a home that has no store connected yet says which command connects it (exit 78, one line).
    @Test func syncBeforeAuthSaysWhatToDo() throws {
        let scratch = try Scratch()
        try scratch.initialize()
        let result = try scratch.run(["sync", "--dry-run"])
        #expect(result.exitCode == 78, "\(result)")
        #expect(result.failureLines == ["zbsync: no BigCommerce store connected; run 'zbsync auth bigcommerce --store-hash HASH'"])
    }
}
