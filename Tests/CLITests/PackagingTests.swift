import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

// The files in `packaging/` and the command lines of `docs/OPERATIONS.md`, checked against the built binary:
// the systemd units verify, the crontab line and every documented command line parse, the CGI wrapper runs
// `zbsync webhook`, the lighttpd snippet serves the webhook, and `sync -q` is as quiet as the docs say.

enum PackagingFiles {
    static let root = SandboxServer.packageRoot
    static let packaging = root.appendingPathComponent("packaging")
    static let operations = root.appendingPathComponent("docs/OPERATIONS.md")
    /// The paths the files assume (`make install PREFIX=/usr/local`, the home of the `zbsync` user).
    static let installedBinary = "/usr/local/bin/zbsync"
    static let installedWrapper = "/usr/local/lib/zbsync/zbsync-webhook.cgi"
    static let home = "/var/lib/zbsync"

    static func text(_ name: String) throws -> String {
        try String(contentsOf: packaging.appendingPathComponent(name), encoding: .utf8)
    }

    /// `Key=value` lines of a unit file (comments and sections dropped).
    static func unitValues(_ text: String, _ key: String) -> [String] {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    /// The first program on PATH with this name.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs a program to completion with output in files; at most `timeout` seconds.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, stdin: Data? = nil,
                    in scratch: Scratch, timeout: TimeInterval = 60) throws -> RunResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.currentDirectoryURL = scratch.root
        let id = UUID().uuidString
        let outURL = scratch.root.appendingPathComponent("p-out-\(id)")
        let errURL = scratch.root.appendingPathComponent("p-err-\(id)")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        if let stdin {
            let inURL = scratch.root.appendingPathComponent("p-in-\(id)")
            try stdin.write(to: inURL)
            process.standardInput = try FileHandle(forReadingFrom: inURL)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        let started = Date()
        try process.run()
        let deadline = started.addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try out.close()
        try err.close()
        return RunResult(exitCode: process.terminationStatus,
                         stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                         stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self),
                         seconds: Date().timeIntervalSince(started))
    }
}

/// One `zbsync …` command line found in a code block of `docs/OPERATIONS.md`.
struct DocumentedCommand: CustomStringConvertible {
    var line: Int
    var text: String
    /// The words after `zbsync`, quotes removed, up to the first shell operator or comment.
    var arguments: [String]
    var description: String { "OPERATIONS.md line \(line): \(text)" }

    /// Every command line in fenced code blocks that runs `zbsync` (or `/usr/local/bin/zbsync`) with at least
    /// one word after it. `zbsync` as an argument (`-u zbsync`, `useradd … zbsync`) is not a command.
    static func all(in markdown: String) -> [DocumentedCommand] {
        var found: [DocumentedCommand] = []
        var inBlock = false
        for (index, raw) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("```") { inBlock.toggle(); continue }
            guard inBlock else { continue }
            let words = shellWords(line)
            for (i, word) in words.enumerated() where word == "zbsync" || word == PackagingFiles.installedBinary {
                if i > 0, ["-u", "-g", "-o", "--user", "--group", "-U"].contains(words[i - 1]) { continue }
                var args: [String] = []
                for next in words[(i + 1)...] {
                    if ["|", "||", "&&", ";", ">", ">>", "<", "2>", "2>&1", "&"].contains(next) || next.hasPrefix("#") { break }
                    args.append(next)
                }
                guard let first = args.first, first.first.map({ $0.isLowercase || $0 == "-" }) == true else { continue }
                found.append(DocumentedCommand(line: index + 1, text: line, arguments: args))
                break
            }
        }
        return found
    }

    /// Splits a shell line into words: spaces separate, '…' and "…" group (quotes removed).
    static func shellWords(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var started = false
        for c in line {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c; started = true
            } else if c == " " || c == "\t" {
                if started || !current.isEmpty { words.append(current) }
                current = ""; started = false
            } else {
                current.append(c)
            }
        }
        if started || !current.isEmpty { words.append(current) }
        return words
    }
}

@Suite struct PackagingTests {

    /// The systemd units pass `systemd-analyze verify` (with the built binary in place of the installed one),
    /// the service is a hardened oneshot `zbsync sync -q` as its own user, and the timer runs it every 5 minutes.
    @Test(.enabled(if: PackagingFiles.which("systemd-analyze") != nil, "systemd-analyze is not installed; the unit check is skipped"))
    func systemdUnitsVerify() throws {
        let scratch = try Scratch()
        let units = scratch.root.appendingPathComponent("units")
        try FileManager.default.createDirectory(at: units, withIntermediateDirectories: true)
        let fcgiwrap = PackagingFiles.which("fcgiwrap") ?? "/bin/true"
        let names = ["zbsync.service", "zbsync.timer", "zbsync-fcgiwrap.socket", "zbsync-fcgiwrap.service"]
        for name in names {
            let text = try PackagingFiles.text(name)
                .replacingOccurrences(of: PackagingFiles.installedBinary, with: ZBSync.binary.path)
                .replacingOccurrences(of: "/usr/sbin/fcgiwrap", with: fcgiwrap)
            try text.write(to: units.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let verify = try PackagingFiles.run(PackagingFiles.which("systemd-analyze")!, ["verify"] + names.map { units.appendingPathComponent($0).path },
                                            in: scratch)
        #expect(verify.exitCode == 0, "systemd-analyze verify: \(verify)")

        let service = try PackagingFiles.text("zbsync.service")
        #expect(PackagingFiles.unitValues(service, "Type") == ["oneshot"])
        #expect(PackagingFiles.unitValues(service, "ExecStart") == ["\(PackagingFiles.installedBinary) sync -q"])
        #expect(PackagingFiles.unitValues(service, "Environment") == ["ZBSYNC_HOME=\(PackagingFiles.home)"])
        #expect(PackagingFiles.unitValues(service, "User") == ["zbsync"])
        #expect(PackagingFiles.unitValues(service, "SuccessExitStatus") == ["75"])
        for (key, value) in [("ProtectSystem", "strict"), ("ReadWritePaths", PackagingFiles.home), ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes")] {
            #expect(PackagingFiles.unitValues(service, key) == [value], "\(key)=\(value) in zbsync.service")
        }
        #expect(PackagingFiles.unitValues(service, "PrivateNetwork").allSatisfy { $0 == "no" }, "the sync must reach the network")
        #expect(PackagingFiles.unitValues(service, "IPAddressDeny").isEmpty, "the sync must reach the network")
        let timer = try PackagingFiles.text("zbsync.timer")
        #expect(PackagingFiles.unitValues(timer, "OnCalendar") == ["*:0/5"])
        #expect(PackagingFiles.unitValues(timer, "Unit") == ["zbsync.service"])

        // The same command with the same arguments parses: `sync -q --help` exits 0.
        let args = Array(PackagingFiles.unitValues(service, "ExecStart")[0].split(separator: " ").dropFirst().map(String.init))
        let help = try ZBSync.run(args + ["--help"], in: scratch)
        #expect(help.exitCode == 0, "\(args) --help: \(help)")

        let fcgi = try PackagingFiles.text("zbsync-fcgiwrap.service")
        #expect(PackagingFiles.unitValues(fcgi, "User") == ["zbsync"], "fcgiwrap runs the webhook as the home's owner")
        #expect(PackagingFiles.unitValues(fcgi, "ReadWritePaths") == [PackagingFiles.home])
    }

    /// The crontab line runs every 5 minutes with ZBSYNC_HOME set, names the installed binary, and its command
    /// parses with the built binary (`zbsync sync -q --help` exits 0).
    @Test func crontabLineParses() throws {
        let text = try PackagingFiles.text("crontab.example")
        let entries = text.split(separator: "\n").map(String.init).filter {
            let t = $0.trimmingCharacters(in: .whitespaces)
            return !t.isEmpty && !t.hasPrefix("#") && !(t.split(separator: " ").first?.contains("=") ?? false)
        }
        try #require(entries.count == 1, "exactly one crontab entry: \(entries)")
        let fields = entries[0].split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        try #require(fields.count > 6, "\(entries[0])")
        #expect(fields[0..<5] == ["*/5", "*", "*", "*", "*"], "every 5 minutes: \(entries[0])")
        var rest = Array(fields[5...])
        var environment: [String: String] = [:]
        while let first = rest.first, let eq = first.firstIndex(of: "="), first.first != "-" {
            environment[String(first[..<eq])] = String(first[first.index(after: eq)...])
            rest.removeFirst()
        }
        #expect(environment["ZBSYNC_HOME"] == PackagingFiles.home, "\(entries[0])")
        #expect(rest.first == PackagingFiles.installedBinary, "\(entries[0])")
        let args = Array(rest.dropFirst())
        #expect(args == ["sync", "-q"], "\(entries[0])")
        let scratch = try Scratch()
        let help = try ZBSync.run(args + ["--help"], in: scratch)
        #expect(help.exitCode == 0, "zbsync \(args.joined(separator: " ")) --help: \(help)")
        #expect(help.stdout.contains("USAGE: zbsync sync"), "\(help)")
        // The comment lists every exit code sync can end with.
        for code in ["0", "1", "64", "65", "69", "75", "77", "78"] {
            #expect(text.range(of: "\\b\(code)\\b", options: .regularExpression) != nil, "crontab.example explains exit \(code)")
        }
    }

    /// The wrapper is an executable two-line `#!/bin/sh` script that execs `zbsync webhook`, and run as a CGI
    /// program (with the built binary) it answers a GET with 405 from the home in ZBSYNC_HOME.
    @Test func webhookWrapperIsExecutableAndRunsTheWebhook() throws {
        let url = PackagingFiles.packaging.appendingPathComponent("zbsync-webhook.cgi")
        let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? NSNumber
        #expect(((mode?.intValue ?? 0) & 0o111) == 0o111, "zbsync-webhook.cgi is executable by all (mode \(String(mode?.intValue ?? 0, radix: 8)))")
        let text = try String(contentsOf: url, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[0] == "#!/bin/sh", "\(text)")
        #expect(lines.last?.hasPrefix("exec \(PackagingFiles.installedBinary) webhook") == true, "\(text)")

        let scratch = try Scratch()
        try scratch.initialize()
        let script = scratch.root.appendingPathComponent("zbsync-webhook.cgi")
        try text.replacingOccurrences(of: PackagingFiles.installedBinary, with: ZBSync.binary.path).write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        var env = ZBSync.baseEnvironment(userHome: scratch.userHome)
        env["ZBSYNC_HOME"] = scratch.home.path
        env["REQUEST_METHOD"] = "GET"
        env["GATEWAY_INTERFACE"] = "CGI/1.1"
        let get = try PackagingFiles.run(script.path, [], environment: env, in: scratch)
        #expect(get.exitCode == 0 && get.stdout.hasPrefix("Status: 405"), "\(get)")
    }

    /// Every `zbsync …` command line in the code blocks of docs/OPERATIONS.md is accepted: `--help` appended
    /// exits 0, and each option it uses is one that command's help lists (help wins over misuse in the
    /// parser, so the exit code alone would not catch a misspelt option).
    @Test func operationsCommandLinesParse() throws {
        let markdown = try String(contentsOf: PackagingFiles.operations, encoding: .utf8)
        let commands = DocumentedCommand.all(in: markdown)
        #expect(commands.count >= 10, "found only \(commands.count) zbsync command lines in OPERATIONS.md: \(commands)")
        let scratch = try Scratch()
        for command in commands {
            let help = try ZBSync.run(command.arguments + ["--help"], in: scratch)
            #expect(help.exitCode == 0, "\(command)\n\(help)")
            let usage = help.stdout
            for word in command.arguments where word.hasPrefix("-") {
                let option = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
                #expect(usage.range(of: "(^|[\\s,\\[(|])\(NSRegularExpression.escapedPattern(for: option))([\\s,\\])|=]|$)", options: .regularExpression) != nil,
                        "\(command): '\(option)' is not in the help of that command")
            }
        }
    }

    /// The lighttpd snippet, included in a minimal lighttpd configuration with the paths of a scratch install,
    /// serves the webhook: 405 for GET, 401 for an unsigned POST, 413 above the body limit without running zbsync.
    @Test(.enabled(if: WebhookWebServer.isInstalled, Comment(rawValue: WebhookWebServer.skipMessage)))
    func lighttpdSnippetServesTheWebhook() throws {
        let scratch = try Scratch()
        try scratch.initialize()
        let web = scratch.root.appendingPathComponent("web")
        try FileManager.default.createDirectory(at: web.appendingPathComponent("www"), withIntermediateDirectories: true)
        let wrapper = web.appendingPathComponent("zbsync-webhook.cgi")
        try PackagingFiles.text("zbsync-webhook.cgi").replacingOccurrences(of: PackagingFiles.installedBinary, with: ZBSync.binary.path)
            .write(to: wrapper, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper.path)
        let snippet = try PackagingFiles.text("lighttpd-cgi.conf")
            .replacingOccurrences(of: PackagingFiles.installedWrapper, with: wrapper.path)
            .replacingOccurrences(of: PackagingFiles.home, with: scratch.home.path)
        try snippet.write(to: web.appendingPathComponent("zbsync.conf"), atomically: true, encoding: .utf8)
        let port = try WebhookWebServer.freePort()
        let main = """
        server.document-root = "\(web.appendingPathComponent("www").path)"
        server.bind = "127.0.0.1"
        server.port = \(port)
        server.errorlog = "\(web.appendingPathComponent("error.log").path)"
        include "\(web.appendingPathComponent("zbsync.conf").path)"

        """
        let config = web.appendingPathComponent("lighttpd.conf")
        try main.write(to: config, atomically: true, encoding: .utf8)
        let check = try PackagingFiles.run(WebhookWebServer.binary, ["-tt", "-f", config.path], in: scratch)
        #expect(check.exitCode == 0, "lighttpd -tt: \(check)")

        let server = Process()
        server.executableURL = URL(fileURLWithPath: WebhookWebServer.binary)
        server.arguments = ["-D", "-f", config.path]
        server.environment = ZBSync.baseEnvironment(userHome: scratch.userHome)
        server.standardInput = FileHandle.nullDevice
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            server.terminate()
            let deadline = Date().addingTimeInterval(3)
            while server.isRunning, Date() < deadline { usleep(20_000) }
            if server.isRunning { kill(server.processIdentifier, SIGKILL) }
            server.waitUntilExit()
        }
        let deadline = Date().addingTimeInterval(10)
        while !WebhookWebServer.canConnect(port: port), server.isRunning, Date() < deadline { usleep(20_000) }
        let log = { (try? String(contentsOf: web.appendingPathComponent("error.log"), encoding: .utf8)) ?? "" }
        try #require(WebhookWebServer.canConnect(port: port), "lighttpd did not listen: \(log())")

        let sender = WebhookSender(url: URL(string: "http://127.0.0.1:\(port)/zbsync/webhook")!)
        let get = try sender.send(method: "GET", body: Data(), headers: [:])
        #expect(get.status == 405, "\(get)\n\(log())")
        let unsigned = try sender.send(body: WebhookSender.payload(id: 100), headers: [:])
        #expect(unsigned.status == 401, "\(unsigned)\n\(log())")
        let big = try sender.send(body: Data(repeating: 0x20, count: 262_144 + 4096), headers: [:])
        #expect(big.status == 413, "\(big)\n\(log())")
        let inbox = try scratch.run(["status", "--json"])
        #expect(intValue((try jsonObject(inbox.stdout)["inbox"] as? [String: Any])?["waiting"]) == 0, "nothing stored: \(inbox)")
    }
}

extension SandboxEndToEnd {
    /// `zbsync sync -q` as cron and systemd run it: silent when all is well, one `zbsync:` line when not.
    @Suite struct PackagingQuietModeTests {
        /// Invariant (DESIGN.md §2): on a healthy home `sync -q` prints nothing on stdout or stderr, both on a
        /// first run that sends documents and on a second run with nothing to do.
        @Test func quietSyncOnAHealthyHomePrintsNothing() throws {
            let world = try SandboxWorld(SandboxOptions(orders: 12))
            defer { world.close() }
            for attempt in 1...2 {
                let run = try world.run(["sync", "-q"], timeout: 180)
                #expect(run.exitCode == 0 && !run.signaled && !run.timedOut, "run \(attempt): \(run)")
                #expect(run.stdout.isEmpty, "run \(attempt): stdout must be empty with -q:\n\(run)")
                #expect(run.stderr.isEmpty, "run \(attempt): stderr must be empty with -q:\n\(run)")
                if attempt == 1 {
                    let done = try world.journalCounts()["done", default: 0]
                    #expect(done > 0, "the quiet run did send documents (journal done = \(done))")
                }
            }
        }

        /// Invariant (DESIGN.md §2): a failing `sync -q` (a revoked Zoho refresh token: exit 77) prints exactly
        /// one line on stderr, the `zbsync:` line, and nothing on stdout.
        @Test func quietSyncWithARevokedTokenPrintsOneLine() throws {
            let world = try SandboxWorld(SandboxOptions(orders: 12))
            defer { world.close() }
            try world.sandbox.revokeRefreshToken()
            try world.sandbox.advanceClock(seconds: 2 * 3600)
            let run = try world.run(["sync", "-q"], timeout: 120)
            #expect(run.exitCode == 77 && !run.signaled, "\(run)")
            #expect(run.stdout.isEmpty, "stdout must be empty with -q:\n\(run)")
            let lines = run.stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            #expect(lines.count == 1 && lines.first?.hasPrefix("zbsync: ") == true, "exactly one 'zbsync:' line on stderr:\n\(run)")
        }
    }
}
