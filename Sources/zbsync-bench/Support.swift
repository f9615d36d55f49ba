import Foundation
import Stores
import SyncEngine
#if canImport(Glibc)
import Glibc
#endif

/// A failure of the benchmark harness itself.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// `--name value` options of one subcommand.
struct Options {
    private var values: [String: String] = [:]
    init(_ arguments: ArraySlice<String>) {
        var it = arguments.makeIterator()
        while let a = it.next() {
            guard a.hasPrefix("--") else { continue }
            let name = String(a.dropFirst(2))
            if let eq = name.firstIndex(of: "=") {
                values[String(name[..<eq])] = String(name[name.index(after: eq)...])
            } else {
                values[name] = it.next() ?? ""
            }
        }
    }
    func string(_ name: String) throws -> String {
        guard let v = values[name], !v.isEmpty else { throw BenchError("missing --\(name)") }
        return v
    }
    func optional(_ name: String) -> String? { values[name].flatMap { $0.isEmpty ? nil : $0 } }
    func int(_ name: String, default d: Int) -> Int { values[name].flatMap(Int.init) ?? d }
    func double(_ name: String, default d: Double) -> Double { values[name].flatMap(Double.init) ?? d }
}

/// Monotonic wall time in seconds.
func wallSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Peak resident set size of this process in bytes (`ru_maxrss` is in KiB on Linux).
func peakRSSBytes() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Int(usage.ru_maxrss) * 1024
}

func fmt(_ value: Double, _ decimals: Int = 1) -> String { String(format: "%.\(decimals)f", value) }

/// Writes one scenario's figures as JSON.
func writeResult(_ json: JSON, to path: String) throws {
    try (json.serializedString(sortedKeys: true) + "\n").write(toFile: path, atomically: true, encoding: .utf8)
}

/// Progress lines for the person running `make bench` (stderr, so stdout stays the table).
func note(_ text: String) {
    FileHandle.standardError.write(Data("bench: \(text)\n".utf8))
}

/// A ``SyncClock`` that runs `scale` times faster than wall time, like a sandbox started with `--time-scale`:
/// `now()` is `start + wall elapsed × scale`, and `sleep(s)` sleeps `s / scale` wall seconds.
final class ScaledClock: SyncClock, @unchecked Sendable {
    let start: Date
    let scale: Double
    private let wall0: UInt64

    init(start: Date, scale: Double) {
        self.start = start
        self.scale = scale
        self.wall0 = DispatchTime.now().uptimeNanoseconds
    }

    func now() -> Date {
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - wall0) / 1e9
        return start.addingTimeInterval(elapsed * scale)
    }

    func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(nanoseconds: UInt64(min(seconds / scale, 600) * 1e9))
    }
}

/// One line of the sandbox's request log.
struct LoggedRequest {
    var seq: Int
    /// Sandbox time, unix seconds.
    var time: Double
    var method: String
    var path: String
    var status: Int
    var code: String?

    init(_ json: JSON) {
        seq = json["seq"]?.int ?? 0
        time = json["time"]?.decimal.map { NSDecimalNumber(decimal: $0).doubleValue } ?? 0
        method = json["method"]?.string ?? ""
        path = json["path"]?.string ?? ""
        status = json["status"]?.int ?? 0
        code = json["code"].flatMap { $0.isNull ? nil : $0.stringOrNumberText }
    }

    var isWrite: Bool { method != "GET" }
    /// 429 of any kind (per-minute 44, daily 45, in flight 1070).
    var isThrottled: Bool { status == 429 || code == "44" || code == "45" || code == "1070" }
}

/// The sandbox's control endpoints and the credentials it accepts.
struct Sandbox: Sendable {
    static let storeHash = "sbx1a2b3c"
    static let bcToken = "bc-sandbox-token"
    static let zohoClientID = "zoho-sandbox-client"
    static let zohoClientSecret = "zoho-sandbox-secret"
    static let zohoRefreshToken = "zoho-sandbox-refresh"

    let port: Int
    let transport: URLSessionTransport
    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    init(port: Int) {
        self.port = port
        self.transport = URLSessionTransport(userAgent: "zbsync-bench")
    }

    /// `GET` or `POST` a control endpoint; the JSON reply.
    @discardableResult
    func control(_ path: String, _ body: JSON? = nil, method: String? = nil) async throws -> JSON {
        let request = HTTPRequest(method: method ?? (body == nil ? "GET" : "POST"), url: URL(string: "http://127.0.0.1:\(port)\(path)")!,
                                  headers: body == nil ? [:] : ["Content-Type": "application/json"],
                                  body: body?.serialized(), timeout: 120)
        let response = try await transport.send(request)
        guard (200..<300).contains(response.status) else {
            throw BenchError("sandbox \(path) answered \(response.status): \(String(decoding: response.body, as: UTF8.self).prefix(300))")
        }
        return response.body.isEmpty ? .null : try JSON.parse(response.body)
    }

    /// The sandbox clock (unix seconds).
    func now() async throws -> Date {
        let health = try await control("/_sandbox/health")
        guard let t = health["time"]?.decimal else { throw BenchError("no time in /_sandbox/health") }
        return Date(timeIntervalSince1970: NSDecimalNumber(decimal: t).doubleValue)
    }

    func advance(_ seconds: Double) async throws {
        try await control("/_sandbox/clock", ["advance": .decimal(Decimal(seconds))])
    }

    /// The last sequence number of the request log.
    func lastSequence() async throws -> Int {
        try await control("/_sandbox/requests?since=999999999")["last_seq"]?.int ?? 0
    }

    /// Requests to `api` after sequence number `since`.
    func requests(since: Int, api: String = "zoho") async throws -> [LoggedRequest] {
        var out: [LoggedRequest] = []
        var after = since
        while true {
            let page = try await control("/_sandbox/requests?since=\(after)&api=\(api)")
            let rows = page["requests"]?.array ?? []
            out += rows.map(LoggedRequest.init)
            guard let last = rows.last?["seq"]?.int, last > after, rows.count >= 1000 else { break }
            after = last
        }
        return out
    }

    func bigCommerce(clock: any SyncClock) -> BigCommerceClient {
        BigCommerceClient(storeHash: Self.storeHash, token: Secret(Self.bcToken), baseURL: baseURL, transport: transport,
                          clock: clock, logger: .silent, userAgent: "zbsync-bench")
    }
}

/// A home folder: the state database with its master key, as `zbsync init` makes it.
struct BenchHome {
    let url: URL
    let key: MasterKey

    init(under parent: URL, name: String) throws {
        url = parent.appendingPathComponent(name, isDirectory: true)
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        key = try MasterKey.create(home: url)
    }

    /// A new store object on the home's database, as a new process would open it.
    func openStore() throws -> SQLiteStateStore {
        try SQLiteStateStore.open(home: url, vault: SecretsVault(key: key))
    }
}

/// The objects one `zbsync sync` process builds (Connections + RunSupport), against the sandbox.
struct RunWiring {
    let store: SQLiteStateStore
    let source: BigCommerceClient
    let sink: ZohoBooksClient
    let limiter: ZohoLimiter
    let runner: SyncRunner

    static func make(sandbox: Sandbox, home: BenchHome, clock: any SyncClock, requestsPerMinute: Int, start: Date,
                     mapping: MappingSettings = BenchSettings.mapping) async throws -> RunWiring {
        let store = try home.openStore()
        let source = sandbox.bigCommerce(clock: clock)
        let credentials = ZohoCredentials(clientID: Sandbox.zohoClientID, clientSecret: Secret(Sandbox.zohoClientSecret),
                                          refreshToken: Secret(Sandbox.zohoRefreshToken), region: .us,
                                          accountsURL: sandbox.baseURL, allowCustomAPIDomain: true)
        let auth = ZohoAuth(credentials: credentials, tokens: store, transport: sandbox.transport, clock: clock,
                            logger: .silent, userAgent: "zbsync-bench")
        let limiter = ZohoLimiter(store: store, clock: clock, requestsPerMinute: requestsPerMinute)
        var configuration = ZohoClientConfiguration()
        configuration.userAgent = "zbsync-bench"
        let sink = ZohoBooksClient(auth: auth, transport: sandbox.transport, limiter: limiter, clock: clock,
                                   logger: .silent, configuration: configuration)
        // As `Connections.syncSettings`: the base currency from the organization (cached after the first run).
        var settings = SyncSettings(mapping: mapping, start: start)
        settings.mapping.baseCurrency = try await sink.organization().currencyCode
        let runner = SyncRunner(source: source, sink: sink, store: store, clock: clock, logger: .silent,
                                settings: settings, runID: "bench-\(UUID().uuidString.prefix(6))")
        return RunWiring(store: store, source: source, sink: sink, limiter: limiter, runner: runner)
    }
}

enum BenchSettings {
    /// The configuration the benchmark runs with: defaults, except `taxes.mode = create` (the sandbox
    /// organization starts without the 5% rate some seeded orders use).
    static var mapping: MappingSettings {
        var m = MappingSettings()
        m.taxMode = .create
        return m
    }
}

/// Zoho's plans and their daily call limits.
let zohoPlans: [(name: String, daily: Int)] = [("Free", 1_000), ("Standard", 2_000), ("Professional", 5_000), ("Premium", 10_000)]
