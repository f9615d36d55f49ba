import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import SyncEngine

/// A failure of the sandbox harness itself (not of the code under test).
struct SandboxError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One line of the sandbox's request log (`GET /_sandbox/requests`).
struct SandboxRequest: Sendable, CustomStringConvertible {
    var seq: Int
    /// Sandbox time, unix seconds.
    var time: Double
    var method: String
    var path: String
    var query: String
    /// 0 when the connection was dropped.
    var status: Int
    /// `bc`, `zoho` or `accounts`.
    var api: String
    /// Zoho's body code, or the accounts server's `error`.
    var code: String?
    var fault: String?
    var applied: Bool

    init(_ json: JSON) throws {
        guard let seq = json["seq"]?.int, let time = json["time"]?.decimal, let method = json["method"]?.string,
              let path = json["path"]?.string, let status = json["status"]?.int, let api = json["api"]?.string else {
            throw SandboxError("unreadable request log entry: \(json.serializedString())")
        }
        self.seq = seq
        self.time = NSDecimalNumber(decimal: time).doubleValue
        self.method = method
        self.path = path
        self.query = json["query"]?.string ?? ""
        self.status = status
        self.api = api
        self.code = json["code"].flatMap { $0.isNull ? nil : $0.stringOrNumberText }
        self.fault = json["fault"]?.string
        self.applied = json["applied"]?.bool ?? true
    }

    var isTokenRequest: Bool { api == "accounts" && method == "POST" && path == "/oauth/v2/token" }

    var description: String {
        "#\(seq) t=\(String(format: "%.3f", time)) \(api) \(method) \(path)\(query.isEmpty ? "" : "?…") → \(status)"
            + (code.map { " code=\($0)" } ?? "") + (fault.map { " fault=\($0)" } ?? "")
    }
}

/// A running `sandbox/zbsandbox.py`, started for one test.
///
/// Started from the repository root (found from this file's path) on a free loopback port
/// (`--port 0 --port-file`), in a fresh temporary folder, always with `--ttl 300` so it can never outlive
/// the test run. ``stop()`` (also called on deinit) ends it.
final class SandboxProcess: @unchecked Sendable {
    let baseURL: URL
    let port: Int
    let folder: URL
    let transport: URLSessionTransport
    private let process: Process
    private let lock = NSLock()
    private var stopped = false
    /// How many ``SandboxSlots`` this process holds.
    private var slots = 1

    /// The repository root: three folders above `Tests/SyncEngineTests/Sandbox/`.
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let storeHash = "sbx1a2b3c"
    static let bcToken = "bc-sandbox-token"
    static let zohoClientID = "zoho-sandbox-client"
    static let zohoClientSecret = "zoho-sandbox-secret"
    static let zohoRefreshToken = "zoho-sandbox-refresh"

    private init(baseURL: URL, port: Int, folder: URL, process: Process, transport: URLSessionTransport) {
        self.baseURL = baseURL
        self.port = port
        self.folder = folder
        self.process = process
        self.transport = transport
    }

    deinit { stop() }

    /// Starts a sandbox with extra command-line `arguments` (for example `["--orders", "1000"]`) and waits
    /// (at most `startTimeout` wall seconds) until it listens.
    ///
    /// With `exclusive`, no other sandbox of this test run runs at the same time (for timing measurements).
    static func start(_ arguments: [String] = [], exclusive: Bool = false, startTimeout: Double = 10) async throws -> SandboxProcess {
        let slots = exclusive ? SandboxSlots.shared.total : 1
        await SandboxSlots.shared.acquire(slots)
        do {
            let sandbox = try await launch(arguments, startTimeout: startTimeout)
            sandbox.slots = slots
            return sandbox
        } catch {
            SandboxSlots.shared.release(slots)
            throw error
        }
    }

    private static func launch(_ arguments: [String], startTimeout: Double) async throws -> SandboxProcess {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("zbsync-sandbox-\(UUID().uuidString.prefix(8))", isDirectory: true)
        let stateDir = folder.appendingPathComponent("state", isDirectory: true)
        try FileManager.default.createDirectory(at: stateDir, withIntermediateDirectories: true)
        let portFile = folder.appendingPathComponent("port")
        let script = repositoryRoot.appendingPathComponent("sandbox/zbsandbox.py")
        guard FileManager.default.fileExists(atPath: script.path) else {
            throw SandboxError("sandbox script not found at \(script.path)")
        }
        let outputURL = folder.appendingPathComponent("output.txt")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputURL)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--port", "0", "--port-file", portFile.path,
                             "--state-dir", stateDir.path, "--ttl", "300"] + arguments
        process.currentDirectoryURL = repositoryRoot
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        try process.run()
        try? output.close()

        let deadline = Date().addingTimeInterval(startTimeout)
        while true {
            if let text = try? String(contentsOf: portFile, encoding: .utf8),
               let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), port > 0 {
                let base = URL(string: "http://127.0.0.1:\(port)")!
                return SandboxProcess(baseURL: base, port: port, folder: folder, process: process, transport: URLSessionTransport(userAgent: "zbsync-tests"))
            }
            if !process.isRunning {
                let said = (try? String(contentsOf: outputURL, encoding: .utf8)) ?? ""
                throw SandboxError("the sandbox exited (status \(process.terminationStatus)) before listening: \(said.suffix(2000))")
            }
            if Date() > deadline {
                process.terminate()
                throw SandboxError("the sandbox did not write its port file within \(startTimeout) s")
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    /// Stops the process (SIGTERM; the sandbox writes `state.json` and exits) and removes its folder.
    func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(3)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: folder)
        SandboxSlots.shared.release(slots)
    }

    // MARK: Control endpoints

    /// Calls a control endpoint (`/_sandbox/...`) and returns its JSON reply; anything but HTTP 200 throws.
    @discardableResult
    func control(_ path: String, _ body: JSON? = nil, method: String = "POST") async throws -> JSON {
        let url = URL(string: baseURL.absoluteString + path)!
        var headers = ["Accept": "application/json"]
        if body != nil { headers["Content-Type"] = "application/json" }
        let request = HTTPRequest(method: method, url: url, headers: headers, body: body?.serialized(), timeout: 30)
        let response = try await transport.send(request)
        guard response.status == 200 else {
            throw SandboxError("\(method) \(path) answered HTTP \(response.status): \(String(decoding: response.body, as: UTF8.self))")
        }
        return try JSON.parse(response.body)
    }

    /// `GET path` on the sandbox as a control call (`/_sandbox/...`).
    func get(_ path: String) async throws -> JSON { try await control(path, method: "GET") }

    /// The request log after sequence number `since`, optionally for one API.
    func requests(since: Int = 0, api: String? = nil) async throws -> [SandboxRequest] {
        var path = "/_sandbox/requests?since=\(since)"
        if let api { path += "&api=\(api)" }
        guard let rows = try await get(path)["requests"]?.array else { throw SandboxError("no requests list") }
        return try rows.map(SandboxRequest.init)
    }

    /// The sequence number of the last request logged so far.
    func lastSequence() async throws -> Int {
        try await get("/_sandbox/requests?since=\(Int.max)")["last_seq"]?.int ?? 0
    }

    /// Sandbox time, unix seconds.
    func now() async throws -> Double {
        guard let t = try await get("/_sandbox/clock")["time"]?.decimal else { throw SandboxError("no time") }
        return NSDecimalNumber(decimal: t).doubleValue
    }

    /// Moves sandbox time forward.
    func advance(_ seconds: Double) async throws {
        try await control("/_sandbox/clock", ["advance": .number(String(seconds))])
    }

    /// Adds one fault rule. (Sent as `{"rules": [rule]}`: the sandbox silently ignores a bare rule object.)
    func addFault(_ rule: JSON) async throws {
        let reply = try await control("/_sandbox/faults", ["rules": [rule]])
        guard reply["added"]?.array?.count == 1 else {
            throw SandboxError("the sandbox did not add the fault rule: \(reply.serializedString())")
        }
    }

    /// The fault rules with their `seen` / `fired` counters.
    func faults() async throws -> [JSON] {
        try await get("/_sandbox/faults")["rules"]?.array ?? []
    }
}

/// Bounds how many sandbox processes run at once, so parallel tests on a small machine do not starve each
/// other (a starved sandbox answers late, which would distort timing-sensitive checks).
final class SandboxSlots: @unchecked Sendable {
    static let shared = SandboxSlots(count: 4)

    private let lock = NSLock()
    let total: Int
    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(count: Int) { total = count; free = count }

    /// Takes `count` slots, one at a time, waiting in line for each.
    func acquire(_ count: Int) async {
        for _ in 0..<count { await acquire() }
    }

    func release(_ count: Int) {
        for _ in 0..<count { release() }
    }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = lock.withLock { () -> Bool in
                if free > 0 { free -= 1; return true }
                waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func release() {
        let next = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            if waiters.isEmpty { free += 1; return nil }
            return waiters.removeFirst()
        }
        next?.resume()
    }
}
