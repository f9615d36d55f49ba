import Foundation
import Testing

// Shared pieces of the fault, chaos and bad-input suites (`make fault`): counting what was really injected,
// running `zbsync sync` until it converges (bounded), and reading the sandbox's request log with wall times.
//
// Every suite here is nested in `SandboxEndToEnd` (serialized): one sandbox and one zbsync at a time.

/// The parent of every fault suite, so `--filter FaultSuites` selects exactly them.
extension SandboxEndToEnd {
    @Suite struct FaultSuites {}
}

/// Faults the sandbox really fired, by kind (`<api> <action>[ <status>/<code>] <path>`), read from
/// `GET /_sandbox/faults` before the rules are cleared.
struct FaultTally: CustomStringConvertible {
    private(set) var fired: [String: Int] = [:]

    var total: Int { fired.values.reduce(0, +) }

    /// Adds every rule's `fired` count; returns the rules that never fired (by kind).
    @discardableResult
    mutating func collect(_ sandbox: SandboxServer) throws -> [String] {
        var silent: [String] = []
        // A `delay` only slows a request down (to place a kill inside a run); it is not a fault of its own.
        for rule in try sandbox.faults() where rule["action"] as? String != "delay" {
            let kind = Self.kind(rule)
            let n = intValue(rule["fired"]) ?? 0
            fired[kind, default: 0] += n
            if n == 0 { silent.append(kind) }
        }
        return silent
    }

    mutating func add(_ kind: String, _ n: Int = 1) { fired[kind, default: 0] += n }

    static func kind(_ rule: [String: Any]) -> String {
        let match = rule["match"] as? [String: Any] ?? [:]
        var action = rule["action"] as? String ?? "?"
        if let status = intValue(rule["status"]) { action += " \(status)" }
        if let code = intValue(rule["code"]) { action += "/\(code)" }
        var path = (match["path_regex"] as? String ?? "*").replacingOccurrences(of: "^/books/v3", with: "").replacingOccurrences(of: "^/stores/[^/]+", with: "")
            .replacingOccurrences(of: "$", with: "")
        if path == "/" || path.isEmpty { path = "(any path)" }
        return "\(match["api"] as? String ?? "*") \(match["method"] as? String ?? "any") \(path) \(action)"
    }

    var description: String {
        fired.isEmpty ? "no fault fired" : fired.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: "; ")
    }

    /// Appends this tally to the file named by `$ZBSYNC_FAULT_TALLY` (one `suite<TAB>kind<TAB>count` line per
    /// kind), which `make fault` sums up per kind (`scripts/fault-report.sh`). Without the variable nothing is written.
    func record(suite: String) {
        guard let path = ProcessInfo.processInfo.environment["ZBSYNC_FAULT_TALLY"], !path.isEmpty, !fired.isEmpty else { return }
        let text = fired.sorted { $0.key < $1.key }.map { "\(suite)\t\($0.key)\t\($0.value)\n" }.joined()
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
    }
}

/// One request of the sandbox log with its wall-clock time (the harness's `LoggedRequest` has no times).
struct TimedRequest {
    var seq: Int
    var wall: Double
    var api: String
    var method: String
    var path: String
    var status: Int
    var code: String
    var fault: String

    init(_ row: [String: Any]) {
        seq = row["seq"] as? Int ?? 0
        wall = (row["wall"] as? NSNumber)?.doubleValue ?? 0
        api = row["api"] as? String ?? ""
        method = row["method"] as? String ?? ""
        path = row["path"] as? String ?? ""
        status = row["status"] as? Int ?? 0
        code = row["code"].map { "\($0)" } ?? ""
        fault = row["fault"] as? String ?? ""
    }

    var isZohoBooks: Bool { api == "zoho" && path.hasPrefix("/books/v3") }
}

extension SandboxServer {
    func timedRequests(since: Int) throws -> [TimedRequest] {
        let body = try object("GET", "/_sandbox/requests?since=\(since)")
        return (body["requests"] as? [[String: Any]] ?? []).map(TimedRequest.init)
    }

    /// A new plain order through the control endpoint (`lines: [{name, sku, price, quantity}]`).
    @discardableResult
    func createOrder(_ body: [String: Any]) throws -> [String: Any] { try object("POST", "/_sandbox/bc/orders", body: body) }
}

/// The most calls in any `window`-second span of `times` (sorted or not).
func maxCallsInWindow(_ times: [Double], window: Double) -> (count: Int, start: Double) {
    let t = times.sorted()
    var best = (count: 0, start: 0.0)
    var j = 0
    for i in t.indices {
        while t[i] - t[j] >= window { j += 1 }
        if i - j + 1 > best.count { best = (i - j + 1, t[j]) }
    }
    return best
}

/// A deterministic random source (SplitMix64), so a trial is replayed from its seed.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SandboxWorld {
    /// Runs `zbsync sync` until it exits 0, at most `maxRuns` times. Returns every run.
    func syncUntilClean(maxRuns: Int = 3, timeout: TimeInterval = 120) throws -> [SandboxRun] {
        var runs: [SandboxRun] = []
        for _ in 0..<maxRuns {
            let run = try run(["sync"], timeout: timeout)
            runs.append(run)
            if run.exitCode == 0, !run.signaled, !run.timedOut { break }
        }
        return runs
    }

    /// Operations not done in the journal (pending, sending, unknown, failed, dead).
    func unfinishedOperations() throws -> Int {
        let journal = try journalCounts()
        return ["pending", "sending", "unknown", "failed", "dead"].reduce(0) { $0 + (journal[$1] ?? 0) }
    }

    /// The raw bytes of the state database (and its `-wal` / `-shm` files when present).
    func stateDatabaseBytes() -> Data {
        var data = Data()
        for suffix in ["", "-wal", "-shm", "-journal"] {
            if let d = try? Data(contentsOf: home.appendingPathComponent("state.db" + suffix)) { data += d }
        }
        return data
    }

    /// Runs one SQL statement on the state database with `/usr/bin/sqlite3` (used only to stand in for the
    /// passing of a day, which no test can wait for).
    func sqlite(_ sql: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = ["-cmd", ".timeout 5000", home.appendingPathComponent("state.db").path, sql]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

/// Short figures for failure messages: how each run ended.
func describeRuns(_ runs: [SandboxRun]) -> String {
    runs.enumerated().map { i, r in
        "run \(i + 1): \(r.timedOut ? "timed out" : r.signaled ? "signal \(r.exitCode)" : "exit \(r.exitCode)") in \(String(format: "%.1f", r.seconds)) s\(r.failureLines.isEmpty ? "" : " — " + r.failureLines.joined(separator: " | "))"
    }.joined(separator: "\n")
}

/// Runs `zbsync webhook` as a web server's CGI would: the body on stdin, headers in `HTTP_*` variables.
struct CGIReply: CustomStringConvertible {
    var exitCode: Int32
    var status: Int
    var stdout: String
    var stderr: String
    var description: String { "CGI exit \(exitCode), Status \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
}

func runWebhookCGI(home: URL, scratch: Scratch, body: Data, headers: [String: String], contentLength: Int? = nil,
                   extraEnvironment: [String: String] = [:]) throws -> CGIReply {
    let id = UUID().uuidString
    let inURL = scratch.root.appendingPathComponent("cgi-in-\(id)")
    let outURL = scratch.root.appendingPathComponent("cgi-out-\(id)")
    let errURL = scratch.root.appendingPathComponent("cgi-err-\(id)")
    try body.write(to: inURL)
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer { for u in [inURL, outURL, errURL] { try? FileManager.default.removeItem(at: u) } }
    let process = Process()
    process.executableURL = ZBSync.binary
    process.arguments = ["webhook"]
    var env = ZBSync.baseEnvironment(userHome: scratch.userHome)
    env["ZBSYNC_HOME"] = home.path
    env["REQUEST_METHOD"] = "POST"
    env["CONTENT_LENGTH"] = "\(contentLength ?? body.count)"
    env["CONTENT_TYPE"] = "application/json"
    env["REMOTE_ADDR"] = "127.0.0.1"
    for (k, v) in headers { env["HTTP_" + k.uppercased().replacingOccurrences(of: "-", with: "_")] = v }
    env.merge(extraEnvironment) { _, new in new }
    process.environment = env
    let input = try FileHandle(forReadingFrom: inURL)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    process.standardInput = input
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let deadline = Date().addingTimeInterval(30)
    while process.isRunning, Date() < deadline { usleep(5_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    try? input.close(); try? out.close(); try? err.close()
    let stdout = String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self)
    let stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
    var status = 0
    for line in stdout.split(separator: "\n") where line.lowercased().hasPrefix("status:") {
        status = Int(line.dropFirst(7).trimmingCharacters(in: .whitespaces).prefix(3)) ?? 0
        break
    }
    return CGIReply(exitCode: process.terminationStatus, status: status, stdout: stdout, stderr: stderr)
}
