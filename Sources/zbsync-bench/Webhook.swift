import Foundation
import Stores
import SyncEngine

/// Webhook intake: the release `zbsync webhook` run as a CGI program per delivery, as a web server runs it
/// (`REQUEST_METHOD`, `CONTENT_LENGTH`, `HTTP_WEBHOOK_*` in the environment, the body on stdin), signed deliveries
/// into a home made with `zbsync init` and `zbsync auth bigcommerce`. Time to `200` is from the start of the
/// process to the `Status: 200` line on its stdout.
enum WebhookBench {
    static let clientSecret = "bench-app-client-secret-4e1b"

    static func run(_ options: Options) async throws {
        let binary = try options.string("zbsync")
        let work = URL(fileURLWithPath: try options.string("dir"))
        let count = options.int("deliveries", default: 200)
        let concurrency = options.int("concurrency", default: 2)
        let out = try options.string("out")
        let home = work.appendingPathComponent("home-webhook", isDirectory: true)
        try? FileManager.default.removeItem(at: home)
        let baseEnvironment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": work.path]

        let initialized = try runTool(binary, ["init", "--home", home.path], environment: baseEnvironment)
        guard initialized.status == 0 else { throw BenchError("zbsync init failed: \(initialized.output)") }
        let authorized = try runTool(binary, ["auth", "bigcommerce", "--home", home.path, "--store-hash", Sandbox.storeHash],
                                     environment: baseEnvironment.merging(["ZBSYNC_BIGCOMMERCE_TOKEN": Sandbox.bcToken,
                                                                           "ZBSYNC_BIGCOMMERCE_CLIENT_SECRET": clientSecret]) { $1 })
        guard authorized.status == 0 else { throw BenchError("zbsync auth bigcommerce failed: \(authorized.output)") }

        let key = WebhookVerifier.signingKey(clientSecret: Secret(clientSecret))
        let delivery: @Sendable (Int) -> (environment: [String: String], body: Data) = { i in
            let body = Data("""
            {"scope":"store/order/updated","store_id":"1001","data":{"type":"order","id":\(100 + i)},"hash":"bench\(i)","created_at":\(Int(Date().timeIntervalSince1970)),"producer":"stores/\(Sandbox.storeHash)"}
            """.utf8)
            let id = "msg_bench_\(i)_\(getpid())"
            let timestamp = String(Int(Date().timeIntervalSince1970))
            var env = baseEnvironment
            env["ZBSYNC_HOME"] = home.path
            env["GATEWAY_INTERFACE"] = "CGI/1.1"
            env["SERVER_PROTOCOL"] = "HTTP/1.1"
            env["REQUEST_METHOD"] = "POST"
            env["CONTENT_TYPE"] = "application/json"
            env["CONTENT_LENGTH"] = String(body.count)
            env["REMOTE_ADDR"] = "127.0.0.1"
            env["HTTP_WEBHOOK_ID"] = id
            env["HTTP_WEBHOOK_TIMESTAMP"] = timestamp
            env["HTTP_WEBHOOK_SIGNATURE"] = WebhookVerifier.signature(key: key, id: id, timestamp: timestamp, body: body)
            return (env, body)
        }

        // Warm-up (page cache, dynamic loader): not counted.
        for i in 0..<3 { _ = try deliver(binary, delivery(1_000_000 + i)) }

        note("webhook: \(count) deliveries one after another")
        var latencies: [Double] = []
        var non200 = 0
        let s0 = wallSeconds()
        for i in 0..<count {
            let d = delivery(i)
            let result = try deliver(binary, d)
            if let t = result { latencies.append(t) } else { non200 += 1 }
        }
        let sequentialWall = wallSeconds() - s0

        note("webhook: \(count) deliveries, \(concurrency) at a time")
        let collected = Collected()
        let p0 = wallSeconds()
        DispatchQueue.concurrentPerform(iterations: concurrency) { worker in
            var i = worker
            while i < count {
                let d = delivery(10_000 + i)
                let result = try? deliver(binary, d)
                collected.add(result ?? nil)
                i += concurrency
            }
        }
        let parallelWall = wallSeconds() - p0
        let (parallelLatencies, parallelNon200) = collected.values

        // Every delivery must be in the inbox.
        let store = try SQLiteStateStore.open(home: home, vault: SecretsVault(key: try MasterKey.load(home: home, environment: [:])))
        let stored = try store.unprocessedDeliveries(limit: 100_000).count

        func percentile(_ values: [Double], _ p: Double) -> Double {
            let s = values.sorted()
            guard !s.isEmpty else { return 0 }
            return s[min(s.count - 1, Int((p / 100 * Double(s.count)).rounded(.up)) - 1)]
        }
        var r = JSONObject()
        r["deliveries"] = .int(count)
        r["concurrency"] = .int(concurrency)
        r["sequential_per_second"] = .decimal(Decimal(Double(count) / sequentialWall).rounded(scale: 1))
        r["sequential_p50_ms"] = .decimal(Decimal(percentile(latencies, 50) * 1000).rounded(scale: 1))
        r["sequential_p99_ms"] = .decimal(Decimal(percentile(latencies, 99) * 1000).rounded(scale: 1))
        r["sequential_max_ms"] = .decimal(Decimal((latencies.max() ?? 0) * 1000).rounded(scale: 1))
        r["parallel_per_second"] = .decimal(Decimal(Double(count) / parallelWall).rounded(scale: 1))
        r["parallel_p99_ms"] = .decimal(Decimal(percentile(parallelLatencies, 99) * 1000).rounded(scale: 1))
        r["non_200"] = .int(non200 + parallelNon200)
        r["stored"] = .int(stored)
        try writeResult(.object(r), to: out)
        note("webhook: \(fmt(Double(count) / sequentialWall)) deliveries/s one at a time (p99 \(fmt(percentile(latencies, 99) * 1000)) ms), "
            + "\(fmt(Double(count) / parallelWall))/s \(concurrency) at a time; \(stored) stored, \(non200 + parallelNon200) not 200")
    }

    /// Runs one CGI delivery; the seconds until `Status: 200` appeared on stdout, or nil for any other answer.
    static func deliver(_ binary: String, _ d: (environment: [String: String], body: Data)) throws -> Double? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["webhook"]
        process.environment = d.environment
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        let t0 = wallSeconds()
        try process.run()
        stdin.fileHandleForWriting.write(d.body)
        try? stdin.fileHandleForWriting.close()
        var seen = Data()
        var answered: Double? = nil
        var status = ""
        while true {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen.append(chunk)
            if let text = String(data: seen, encoding: .utf8), let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Status:") }) {
                status = String(line)
                if answered == nil, line.contains("200") { answered = wallSeconds() - t0 }
                if answered != nil { break }
                break
            }
        }
        _ = try? stdout.fileHandleForReading.readToEnd()
        process.waitUntilExit()
        if answered == nil { note("webhook: delivery answered \(status.isEmpty ? "nothing" : status)") }
        return answered
    }

    /// Runs a zbsync command to completion; its exit status and output.
    static func runTool(_ binary: String, _ arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// Latencies gathered by concurrent workers.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var latencies: [Double] = []
    private var failures = 0
    func add(_ latency: Double?) {
        lock.withLock { if let latency { latencies.append(latency) } else { failures += 1 } }
    }
    var values: ([Double], Int) { lock.withLock { (latencies, failures) } }
}
