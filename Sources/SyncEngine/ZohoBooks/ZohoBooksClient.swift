import Foundation

/// Tunables of the Zoho Books client. Defaults follow DESIGN.md §6 and the Zoho reference.
public struct ZohoClientConfiguration: Sendable {
    /// `zoho.organization_id`; nil means "the only organization of the login".
    public var organizationID: String?
    public var userAgent: String = "zbsync"
    /// Seconds before a request's reply is given up on.
    public var requestTimeout: TimeInterval = 60
    /// How many times a call answered with code 44 (per-minute limit) is sent again after the pause.
    public var maxRateLimitRetries = 5
    /// How many times a call answered with code 1070 (too many in flight) is sent again.
    public var maxConcurrencyRetries = 5
    /// How many times a read is sent again after a 5xx, a network failure or a garbled reply.
    public var maxReadRetries = 4
    /// How many times a write is sent again after a connection that was never made (`TransportError.notSent`).
    public var maxNotSentRetries = 3
    /// Cached currencies, taxes and accounts are read again after this many seconds.
    public var settingsCacheLifetime: TimeInterval = 86_400
    /// Random source in `0..<1` for backoff jitter.
    public var random: @Sendable () -> Double = { Double.random(in: 0..<1) }

    public init(organizationID: String? = nil) { self.organizationID = organizationID }
}

/// The Zoho Books v3 client: every call goes to `{api_domain}/books/v3/<path>?organization_id=…` with
/// `Authorization: Zoho-oauthtoken …` (header only), through the shared ``ZohoLimiter``.
///
/// Invariants (the ``ZohoBooksSink`` contract):
/// - Zoho's `code` is checked on every reply, HTTP 200 included; failures are classified ``RemoteError``s.
/// - Writes (POST/PUT) are never sent twice by the client, except after `TransportError.notSent` (nothing reached
///   Zoho), HTTP 401 / code 14 / 57 (one refresh, one retry), code 44 (after the limiter's pause) and 1070 (after a
///   short backoff): answers that mean the request was not executed. A timeout, a lost connection, a 5xx, or a 2xx
///   whose body cannot be read throws ``RemoteError/unknownOutcome(_:_:)``.
/// - Reads are retried on 5xx, network failures and garbled replies with jittered exponential backoff, bounded by
///   ``ZohoClientConfiguration/maxReadRetries``, then throw ``RemoteError/unavailable(_:_:)`` (or `.malformed`).
/// - Code 45 marks the day spent in the limiter and throws ``RemoteError/dailyQuotaExhausted(_:)`` at once.
/// - Ids are decoded as strings (also from bare numbers) and money as `Decimal`, never through `Double`.
/// - Logs carry method, host, path, `http.status`, `zoho.code` and ids; never tokens, query strings or bodies.
/// - All waiting goes through the ``SyncClock``.
public final class ZohoBooksClient: ZohoBooksSink, Sendable {
    let auth: ZohoAuth
    let transport: any HTTPTransport
    let limiter: ZohoLimiter
    let clock: any SyncClock
    let logger: Logger
    let configuration: ZohoClientConfiguration
    let org: OrganizationContext

    public init(auth: ZohoAuth, transport: any HTTPTransport, limiter: ZohoLimiter, clock: any SyncClock,
                logger: Logger = .silent, configuration: ZohoClientConfiguration = ZohoClientConfiguration()) {
        self.auth = auth
        self.transport = transport
        self.limiter = limiter
        self.clock = clock
        self.logger = logger
        self.configuration = configuration
        self.org = OrganizationContext()
    }

    // MARK: Calls

    /// One Zoho API call as the resource files describe it.
    struct Call: Sendable {
        var method: String
        /// Below `/books/v3`, starting with `/`.
        var path: String
        var query: [(String, String)] = []
        var body: JSON? = nil
        /// False only for `GET /organizations`.
        var needsOrganization = true
        /// Extra log metadata (`zoho.invoice_id`, …).
        var logContext: [String: String] = [:]

        var isWrite: Bool { method != "GET" }
    }

    /// Sends `call` and decodes the reply's envelope with `decode`. A decoding failure of a write's 2xx reply is an
    /// unknown outcome; of a read's, a garbled reply (retried, then `.malformed`).
    func send<T>(_ call: Call, decode: (JSON) throws -> T) async throws -> T {
        var authRetried = false
        var rateLimitRetries = 0
        var concurrencyRetries = 0
        var readRetries = 0
        var notSentRetries = 0
        while true {
            let organizationID = call.needsOrganization ? try await organizationID() : nil
            // The limiter first: a day that is spent (or a long wait) costs no token request, and the token is
            // taken just before sending. After a refresh this is the new session (the actor hands out the current one).
            try await limiter.acquire()
            let session = try await auth.session()
            let request = try buildRequest(call, session: session, organizationID: organizationID)
            var metadata = call.logContext
            metadata["http.method"] = call.method
            metadata["http.host"] = request.url.host ?? ""
            metadata["http.path"] = request.url.path

            let response: HTTPResponse
            do {
                response = try await transport.send(request)
            } catch let error as TransportError {
                logger.warning("zoho request failed", metadata.merging(["error": error.description]) { $1 })
                if case .notSent = error, notSentRetries < configuration.maxNotSentRetries, call.isWrite {
                    notSentRetries += 1
                    try await clock.sleep(seconds: backoff(notSentRetries, cap: 10))
                    continue
                }
                if call.isWrite {
                    if case .notSent(let m) = error { throw RemoteError.unavailable(.zoho, "could not connect: \(m)") }
                    throw RemoteError.unknownOutcome(.zoho, "\(request.redactedDescription): \(error)")
                }
                if readRetries < configuration.maxReadRetries {
                    readRetries += 1
                    try await clock.sleep(seconds: backoff(readRetries, cap: 30))
                    continue
                }
                throw RemoteError.unavailable(.zoho, "\(request.redactedDescription): \(error)")
            }

            let envelope = try? JSON.parse(response.body)
            let code = envelope?["code"]?.int
            let message = envelope?["message"]?.string ?? ""
            metadata["http.status"] = String(response.status)
            if let code { metadata["zoho.code"] = String(code) }
            let retryAfter = response.header("Retry-After").flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }

            // Success: 2xx and code 0 (or no code at all).
            if (200..<300).contains(response.status), code == nil || code == 0 {
                if let envelope, let value = try? decode(envelope) {
                    logger.debug("zoho request", metadata)
                    return value
                }
                logger.warning("zoho reply could not be read", metadata)
                if call.isWrite {
                    throw RemoteError.unknownOutcome(.zoho, "\(request.redactedDescription): HTTP \(response.status) with a reply that cannot be read")
                }
                if readRetries < configuration.maxReadRetries {
                    readRetries += 1
                    try await clock.sleep(seconds: backoff(readRetries, cap: 30))
                    continue
                }
                throw RemoteError.malformed(.zoho, "\(request.redactedDescription): HTTP \(response.status) with a reply that cannot be read")
            }

            logger.debug("zoho request answered with an error", metadata)

            // Authorization: refresh once, send once more.
            if response.status == 401 || code == 14 || code == 57 {
                if !authRetried {
                    authRetried = true
                    _ = try await auth.refresh(replacing: session.accessToken)
                    continue
                }
                if code == 57 {
                    throw RemoteError.authorization(.zoho, "Zoho says this login may not do \(request.redactedDescription) (code 57) "
                        + "even with a fresh token: check the self client's scopes and the user's role, then re-authorize "
                        + "with `zbsync auth zoho`")
                }
                throw RemoteError.authorization(.zoho, "Zoho rejected a freshly refreshed access token; re-authorize with `zbsync auth zoho`")
            }

            switch code {
            case 45:
                try limiter.recordDailyQuotaExhausted()
                throw RemoteError.dailyQuotaExhausted("Zoho answered that the organization's daily API quota is spent (code 45); "
                    + "try again tomorrow. Everything not sent stays queued")
            case 1070:
                concurrencyRetries += 1
                if concurrencyRetries > configuration.maxConcurrencyRetries {
                    throw RemoteError.rateLimited(.zoho, code: 1070, retryAfter: retryAfter)
                }
                let pause = retryAfter ?? backoff(concurrencyRetries, base: 1, cap: 10)
                try limiter.pause(until: clock.now().addingTimeInterval(pause))
                continue
            case 44:
                rateLimitRetries += 1
                if rateLimitRetries > configuration.maxRateLimitRetries {
                    throw RemoteError.rateLimited(.zoho, code: 44, retryAfter: retryAfter)
                }
                try limiter.recordPerMinuteLimit(retryAfter: retryAfter)
                continue
            default:
                break
            }
            if response.status == 429 {
                rateLimitRetries += 1
                if rateLimitRetries > configuration.maxRateLimitRetries {
                    throw RemoteError.rateLimited(.zoho, code: code, retryAfter: retryAfter)
                }
                try limiter.recordPerMinuteLimit(retryAfter: retryAfter)
                continue
            }

            if let code, let duplicate = Self.duplicate(code: code, message: message) { throw duplicate }
            if code == 1002 || code == 2006 || response.status == 404 {
                throw RemoteError.notFound(.zoho, message.isEmpty ? "\(request.redactedDescription): HTTP \(response.status)" : message)
            }
            if response.status >= 500 || envelope == nil && !(400..<500).contains(response.status) {
                if call.isWrite {
                    throw RemoteError.unknownOutcome(.zoho, "\(request.redactedDescription): HTTP \(response.status)")
                }
                if readRetries < configuration.maxReadRetries {
                    readRetries += 1
                    try await clock.sleep(seconds: max(retryAfter ?? 0, backoff(readRetries, cap: 30)))
                    continue
                }
                throw RemoteError.unavailable(.zoho, "\(request.redactedDescription): HTTP \(response.status)")
            }
            throw RemoteError.rejected(.zoho, status: response.status, code: code,
                                       message: message.isEmpty ? "HTTP \(response.status)" : message)
        }
    }

    /// Zoho's "already exists" answers: 1001 (invoice number), 12018 (credit-note number), 3062 (contact name), and
    /// any other code whose message says "already exist" (1000 is also Zoho's generic internal error, so it counts
    /// only with that message). A create that meets one looks its key up and adopts what exists.
    static func duplicate(code: Int, message: String) -> RemoteError? {
        switch code {
        case 1001, 12018, 3062: return .duplicate(code: code, message: message)
        case _ where message.lowercased().contains("already exist"): return .duplicate(code: code, message: message)
        default: return nil
        }
    }

    /// Full-jitter-ish exponential backoff: between half and all of `min(cap, base × 2^(attempt−1))` seconds.
    func backoff(_ attempt: Int, base: Double = 1, cap: Double) -> Double {
        let ceiling = min(cap, base * pow(2, Double(max(0, attempt - 1))))
        return ceiling * (0.5 + 0.5 * configuration.random())
    }

    func buildRequest(_ call: Call, session: ZohoSession, organizationID: String?) throws -> HTTPRequest {
        var query = call.query
        if let organizationID { query.insert(("organization_id", organizationID), at: 0) }
        var text = session.apiDomain
        while text.hasSuffix("/") { text.removeLast() }
        text += "/books/v3" + call.path
        if !query.isEmpty {
            text += "?" + query.map { "\(ZohoQuery.encode($0.0))=\(ZohoQuery.encode($0.1))" }.joined(separator: "&")
        }
        guard let url = URL(string: text) else {
            throw ZohoConfigurationError.apiDomainRefused(session.apiDomain)
        }
        var headers = [
            "Authorization": "Zoho-oauthtoken \(session.accessToken.reveal())",
            "Accept": "application/json",
            "User-Agent": configuration.userAgent,
        ]
        var body: Data? = nil
        if let json = call.body {
            headers["Content-Type"] = "application/json"
            body = json.serialized()
        }
        return HTTPRequest(method: call.method, url: url, headers: headers, body: body, timeout: configuration.requestTimeout)
    }

    // MARK: Paging

    /// One page of a list: the records under `key` and whether Zoho has more (`page_context.has_more_page`;
    /// `page_context` may also come as a one-element array).
    func page<T>(path: String, key: String, page: Int, query: [(String, String)], logContext: [String: String] = [:],
                 decode: @escaping (JSON) throws -> T) async throws -> (records: [T], hasMore: Bool) {
        let q = query + [("page", String(page)), ("per_page", "200")]
        return try await send(Call(method: "GET", path: path, query: q, logContext: logContext)) { envelope in
            guard let rows = envelope[key]?.array else { throw JSONError.field(path: key, problem: "missing list") }
            let records = try rows.map(decode)
            var context = envelope["page_context"]
            if let first = context?.array?.first { context = first }
            let hasMore = context?["has_more_page"]?.bool ?? false
            return (records, hasMore)
        }
    }

    /// Every page of a filtered list, bounded (lookups by a key return a handful of rows).
    func all<T>(path: String, key: String, query: [(String, String)], maxPages: Int = 20, logContext: [String: String] = [:],
                decode: @escaping (JSON) throws -> T) async throws -> [T] {
        var out: [T] = []
        var n = 1
        while n <= maxPages {
            let (records, hasMore) = try await page(path: path, key: key, page: n, query: query, logContext: logContext, decode: decode)
            out += records
            if !hasMore { break }
            n += 1
        }
        return out
    }
}

/// Strict percent-encoding for query strings and form bodies: only RFC 3986 unreserved characters stay as they
/// are (so `+` in a timestamp and `&` in a name are encoded).
enum ZohoQuery {
    static let unreserved: CharacterSet = {
        var s = CharacterSet()
        s.insert(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return s
    }()

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}

/// Field readers for Zoho replies: ids as strings (bare numbers too), money as `Decimal`.
enum ZohoField {
    static func id(_ json: JSON, _ key: String) throws -> String {
        guard let v = json[key]?.stringOrNumberText, !v.isEmpty else { throw JSONError.field(path: key, problem: "missing id") }
        return v
    }
    static func string(_ json: JSON, _ key: String) -> String { json[key]?.stringOrNumberText ?? "" }
    static func requiredString(_ json: JSON, _ key: String) throws -> String {
        guard let v = json[key]?.stringOrNumberText else { throw JSONError.field(path: key, problem: "missing") }
        return v
    }
    static func money(_ json: JSON, _ key: String) throws -> Decimal {
        guard let v = json[key], !v.isNull else { return 0 }
        if case .string(let s) = v, s.trimmingCharacters(in: .whitespaces).isEmpty { return 0 }
        guard let d = v.decimal else { throw JSONError.field(path: key, problem: "not an amount") }
        return d
    }
    /// True when `key` holds a value that is not null or blank.
    static func present(_ json: JSON, _ key: String) -> Bool {
        guard let v = json[key], !v.isNull else { return false }
        if case .string(let s) = v { return !s.trimmingCharacters(in: .whitespaces).isEmpty }
        return true
    }
    /// The object under `key`, as a `JSON` (throws when missing).
    static func object(_ envelope: JSON, _ key: String) throws -> JSON {
        guard let v = envelope[key], v.object != nil else { throw JSONError.field(path: key, problem: "missing object") }
        return v
    }
    static func money(_ value: Decimal) -> JSON { .decimal(value) }
}
