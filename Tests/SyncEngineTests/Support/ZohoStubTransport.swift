import Foundation
@testable import SyncEngine

/// Recorded-shape Zoho replies from `Tests/Fixtures/zoho/<endpoint>.<scenario>.json`.
enum ZohoFixture {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/zoho")

    static func data(_ name: String) -> Data {
        let url = directory.appendingPathComponent("\(name).json")
        guard let d = try? Data(contentsOf: url) else { fatalError("missing fixture \(url.path)") }
        return d
    }

    static func json(_ name: String) -> JSON {
        guard let j = try? JSON.parse(data(name)) else { fatalError("fixture \(name) is not JSON") }
        return j
    }
}

/// A scripted transport for the Zoho client: replies per (method, path), in order; the last reply of a route
/// repeats. Every request is recorded. Unscripted requests get a 404 with Zoho's code 5.
final class ZohoStubTransport: HTTPTransport, @unchecked Sendable {
    enum Reply: Sendable {
        case fixture(String, status: Int = 200, headers: [String: String] = [:])
        case body(String, status: Int, headers: [String: String] = [:])
        case failure(TransportError)
    }

    private struct Route {
        var method: String
        var path: String
        var replies: [Reply]
    }

    private let lock = NSLock()
    private var routes: [Route] = []
    private var recorded: [HTTPRequest] = []

    /// `path` is the URL path, e.g. `/books/v3/invoices` or `/oauth/v2/token`.
    func on(_ method: String, _ path: String, _ replies: Reply...) {
        lock.withLock {
            if let i = routes.firstIndex(where: { $0.method == method && $0.path == path }) {
                routes[i].replies = replies
            } else {
                routes.append(Route(method: method, path: path, replies: replies))
            }
        }
    }

    var requests: [HTTPRequest] { lock.withLock { recorded } }

    func requests(_ method: String, _ path: String) -> [HTTPRequest] {
        requests.filter { $0.method == method && $0.url.path == path }
    }

    /// Requests to the Books API (not the token endpoint).
    var apiRequests: [HTTPRequest] { requests.filter { $0.url.path.hasPrefix("/books/v3") } }
    var tokenRequests: [HTTPRequest] { requests.filter { $0.url.path == "/oauth/v2/token" } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let reply: Reply? = lock.withLock {
            recorded.append(request)
            guard let i = routes.firstIndex(where: { $0.method == request.method && $0.path == request.url.path }) else { return nil }
            let r = routes[i].replies.first
            if routes[i].replies.count > 1 { routes[i].replies.removeFirst() }
            return r
        }
        switch reply {
        case nil:
            return HTTPResponse(status: 404, headers: ["Content-Type": "application/json"], body: ZohoFixture.data("errors.5"))
        case .fixture(let name, let status, let headers)?:
            return HTTPResponse(status: status, headers: headers, body: ZohoFixture.data(name))
        case .body(let text, let status, let headers)?:
            return HTTPResponse(status: status, headers: headers, body: Data(text.utf8))
        case .failure(let error)?:
            throw error
        }
    }
}

extension HTTPRequest {
    /// Query parameters, decoded.
    var zohoQuery: [String: String] {
        var out: [String: String] = [:]
        for item in URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? [] { out[item.name] = item.value ?? "" }
        return out
    }

    var zohoJSONBody: JSON? { body.flatMap { try? JSON.parse($0) } }

    var zohoFormBody: [String: String] {
        var out: [String: String] = [:]
        let text = String(decoding: body ?? Data(), as: UTF8.self)
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            out[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return out
    }
}

/// A `TokenStore` in memory.
final class ZohoTestTokenStore: TokenStore, @unchecked Sendable {
    private let lock = NSLock()
    private var session: ZohoSession?
    private var attempts: [Date] = []
    private var saves = 0

    func zohoSession() throws -> ZohoSession? { lock.withLock { session } }
    func saveZohoSession(_ s: ZohoSession) throws { lock.withLock { session = s; saves += 1 } }
    func clearZohoSession() throws { lock.withLock { session = nil } }
    func recordRefreshAttempt(at: Date) throws { lock.withLock { attempts.append(at) } }
    func refreshAttempts(since: Date) throws -> Int { lock.withLock { attempts.filter { $0 >= since }.count } }
    private var throttle: Date?
    func refreshThrottledUntil() throws -> Date? { lock.withLock { throttle } }
    func recordRefreshThrottled(until: Date?) throws { lock.withLock { throttle = until } }
    var allAttempts: [Date] { lock.withLock { attempts } }
    var saveCount: Int { lock.withLock { saves } }
}

/// A `LimiterStateStore` in memory: a throwing body leaves the state unchanged, like a rolled-back transaction.
final class ZohoTestLimiterStore: LimiterStateStore, @unchecked Sendable {
    private let lock = NSLock()
    private var state: LimiterState?

    func updateLimiterState<T>(_ body: (inout LimiterState?) throws -> T) throws -> T {
        try lock.withLock {
            var copy = state
            let result = try body(&copy)
            state = copy
            return result
        }
    }

    func limiterState() throws -> LimiterState? { lock.withLock { state } }
}

/// Everything a Zoho client test needs, wired together with a test clock.
struct ZohoHarness {
    static let organizationID = "10234695"
    static let validToken = "1000.aaaabbbbccccddddeeeeffff00001111.2222333344445555666677778888999a"

    let clock = TestClock()
    let tokens = ZohoTestTokenStore()
    let limiterStore = ZohoTestLimiterStore()
    let transport = ZohoStubTransport()
    let logSink = InMemoryLogSink()
    var requestsPerMinute = 6000
    var dailyLimit: Int? = nil
    var allowCustomAPIDomain = false

    static let clientSecret = Secret("client-secret-0123456789abcdef")
    static let refreshToken = Secret("1000.refresh0123456789abcdef0123456789.abcdef0123456789abcdef0123456789")

    var logger: Logger { Logger(sink: logSink, minimumLevel: .debug) }

    var credentials: ZohoCredentials {
        ZohoCredentials(clientID: "1000.CLIENTID0123456789", clientSecret: Self.clientSecret, refreshToken: Self.refreshToken,
                        region: .us, allowCustomAPIDomain: allowCustomAPIDomain)
    }

    func makeAuth() -> ZohoAuth {
        ZohoAuth(credentials: credentials, tokens: tokens, transport: transport, clock: clock, logger: logger)
    }

    func makeLimiter() -> ZohoLimiter {
        ZohoLimiter(store: limiterStore, clock: clock, requestsPerMinute: requestsPerMinute, dailyLimit: dailyLimit, jitter: { 1 })
    }

    func makeClient(organizationID: String? = nil, auth: ZohoAuth? = nil, limiter: ZohoLimiter? = nil) -> ZohoBooksClient {
        var config = ZohoClientConfiguration(organizationID: organizationID)
        config.random = { 0.5 }
        return ZohoBooksClient(auth: auth ?? makeAuth(), transport: transport, limiter: limiter ?? makeLimiter(), clock: clock,
                               logger: logger, configuration: config)
    }

    /// Stores a session as a previous run left it: a valid token, the organization resolved, currencies cached.
    func seedSession(token: String = ZohoHarness.validToken, expiresIn: TimeInterval = 3000, withOrganization: Bool = true) throws {
        var settings = JSONObject()
        if withOrganization {
            var org = ZohoOrganization(organizationID: Self.organizationID, name: "Zillium Outdoor Goods", currencyCode: "USD")
            org.currencyID = "982000000000190"
            org.timeZone = "America/Los_Angeles"
            settings["organization"] = org.zohoJSON
            let usd = ZohoCurrency(currencyID: "982000000000190", currencyCode: "USD")
            let eur = ZohoCurrency(currencyID: "982000000000200", currencyCode: "EUR")
            settings["currencies"] = .array([usd.zohoJSON, eur.zohoJSON])
            settings["currencies_fetched_at"] = .int(Int(clock.now().timeIntervalSince1970))
        }
        try tokens.saveZohoSession(ZohoSession(accessToken: Secret(token), expiresAt: clock.now().addingTimeInterval(expiresIn),
                                               apiDomain: "https://www.zohoapis.com",
                                               organizationID: withOrganization ? Self.organizationID : nil,
                                               orgSettings: withOrganization ? .object(settings) : .null))
    }
}
