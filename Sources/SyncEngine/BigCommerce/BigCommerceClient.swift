import Foundation

/// Reads a BigCommerce store over its REST API (v2 orders, v3 refunds, transactions and customers).
///
/// Invariants:
/// - Read-only: every request is a `GET`, so every failure below HTTP and every 5xx may be retried safely.
/// - Every request carries `X-Auth-Token`, `Accept: application/json` and the configured `User-Agent`; the token
///   never appears in a log line or an error message (logs show method, host and path only).
/// - Retries are bounded: at most `maxRetries` retries for 5xx/transport failures (jittered exponential backoff,
///   base 0.5 s, cap 30 s) and at most `maxRetries` for 429 (waiting `X-Rate-Limit-Time-Reset-Ms`, or an
///   escalating backoff when the header is missing). All waiting goes through `clock.sleep`.
/// - When a reply says `X-Rate-Limit-Requests-Left` ≤ 2, the client waits for the window to reset before
///   returning, so the next request does not spend the store's last calls (the quota is shared by every app).
/// - Statuses map to ``RemoteError``: 401/403 → `.authorization`, 404 → `.notFound` (or `nil` where the API
///   returns an optional), other 4xx → `.rejected`, 5xx and network failures after the retries → `.unavailable`,
///   a body that is not JSON → `.malformed`. A single bad record in a list is quarantined in
///   ``SourcePage/rejected`` instead.
public struct BigCommerceClient: BigCommerceSource {
    public let storeHash: String
    public let baseURL: URL
    public let userAgent: String
    public let maxRetries: Int
    private let token: Secret
    let transport: any HTTPTransport
    let clock: any SyncClock
    let logger: Logger
    /// Returns a value in `0...1`; spreads backoff delays so parallel clients do not retry in step.
    let jitter: @Sendable () -> Double

    /// First backoff delay in seconds; doubles per retry.
    static let backoffBase = 0.5
    /// Longest backoff delay in seconds.
    static let backoffCap = 30.0
    /// First wait after a 429 without rate-limit headers; doubles per repeat.
    static let throttleBase = 2.0
    static let throttleCap = 60.0
    /// Pause proactively when the store has this many requests or fewer left in the window.
    static let lowQuotaThreshold = 2
    /// BigCommerce's largest page.
    static let maxPageSize = 250
    /// Guard against a server that ignores `page` and repeats itself: no list is read past this many pages.
    static let maxPages = 4_000

    /// - Parameters:
    ///   - storeHash: the store's short id (the `{store_hash}` path segment).
    ///   - baseURL: `https://api.bigcommerce.com` or the sandbox; requests go to `{baseURL}/stores/{hash}/v2|v3/…`.
    ///   - maxRetries: retries after the first attempt, per kind of failure (5xx/network, and 429).
    public init(storeHash: String, token: Secret, baseURL: URL = URL(string: "https://api.bigcommerce.com")!,
                transport: any HTTPTransport, clock: any SyncClock, logger: Logger, userAgent: String,
                maxRetries: Int = 4) {
        self.init(storeHash: storeHash, token: token, baseURL: baseURL, transport: transport, clock: clock,
                  logger: logger, userAgent: userAgent, maxRetries: maxRetries,
                  jitter: { Double.random(in: 0...1) })
    }

    init(storeHash: String, token: Secret, baseURL: URL, transport: any HTTPTransport, clock: any SyncClock,
         logger: Logger, userAgent: String, maxRetries: Int, jitter: @escaping @Sendable () -> Double) {
        self.storeHash = storeHash
        self.token = token
        self.baseURL = baseURL
        self.transport = transport
        self.clock = clock
        self.logger = logger
        self.userAgent = userAgent
        self.maxRetries = max(0, maxRetries)
        self.jitter = jitter
    }

    // MARK: Server time

    /// `GET /v2/time` → `{"time": <unix seconds>}`.
    public func serverTime() async throws -> Date {
        let response = try await get(.v2, "/time")
        guard case .json(let json) = try BCBody.read(response, context: "GET /v2/time"),
              let seconds = json["time"]?.decimal else {
            throw RemoteError.malformed(.bigcommerce, "GET /v2/time: expected {\"time\": <unix seconds>}")
        }
        return Date(timeIntervalSince1970: NSDecimalNumber(decimal: seconds).doubleValue)
    }

    // MARK: Requests

    /// `{baseURL}/stores/{hash}/{version}{path}?{query}`.
    func url(_ version: BigCommerceAPIVersion, _ path: String, _ query: [BigCommerceQueryItem] = []) -> URL {
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        let hash = BigCommerceQueryItem.percentEncode(storeHash, keep: "")
        var text = "\(base)/stores/\(hash)/\(version.rawValue)\(path)"
        if !query.isEmpty { text += "?" + bigCommerceQueryString(query) }
        guard let url = URL(string: text) else {
            preconditionFailure("BigCommerce URL could not be built from the configured base URL")
        }
        return url
    }

    func request(_ version: BigCommerceAPIVersion, _ path: String, _ query: [BigCommerceQueryItem]) -> HTTPRequest {
        HTTPRequest(method: "GET", url: url(version, path, query), headers: [
            "X-Auth-Token": token.reveal(),
            "Accept": "application/json",
            "User-Agent": userAgent,
        ])
    }

    /// Sends a GET with the retry policy and returns a 2xx reply; every other outcome is thrown as ``RemoteError``.
    func get(_ version: BigCommerceAPIVersion, _ path: String, _ query: [BigCommerceQueryItem] = [],
             orderID: Int64? = nil) async throws -> HTTPResponse {
        let request = request(version, path, query)
        let what = request.redactedDescription
        var metadata = ["http.method": request.method]
        if let orderID { metadata["bc.order_id"] = String(orderID) }
        var failures = 0
        var throttles = 0
        while true {
            try Task.checkCancellation()
            let response: HTTPResponse
            do {
                response = try await transport.send(request)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                let reason = (error as? TransportError)?.description ?? "transport failure"
                failures += 1
                guard failures <= maxRetries else {
                    logger.error("\(what) failed: \(reason)", metadata)
                    throw RemoteError.unavailable(.bigcommerce, "\(what): \(reason) (\(failures) attempts)")
                }
                let delay = backoff(retry: failures)
                logger.warning("\(what) failed: \(reason); retrying in \(Self.seconds(delay))", metadata)
                try await clock.sleep(seconds: delay)
                continue
            }

            var md = metadata
            md["http.status"] = String(response.status)
            logger.debug(what, md)

            if response.status == 429 {
                throttles += 1
                let wait = throttleWait(response, repeat: throttles)
                guard throttles <= maxRetries else {
                    logger.error("\(what) still rate limited after \(throttles) attempts", md)
                    throw RemoteError.rateLimited(.bigcommerce, code: 429, retryAfter: wait)
                }
                logger.notice("BigCommerce rate limit reached; waiting \(Self.seconds(wait))", md)
                try await clock.sleep(seconds: wait)
                continue
            }

            try await pauseIfQuotaLow(response, metadata: md)

            switch response.status {
            case 200..<300:
                return response
            case 500, 502, 503, 504:
                failures += 1
                let message = BigCommerceErrorBody.message(from: response.body) ?? "HTTP \(response.status)"
                guard failures <= maxRetries else {
                    logger.error("\(what) answered HTTP \(response.status) \(failures) times", md)
                    throw RemoteError.unavailable(.bigcommerce, "\(what): HTTP \(response.status) after \(failures) attempts: \(message)")
                }
                let delay = backoff(retry: failures)
                logger.warning("\(what) answered HTTP \(response.status); retrying in \(Self.seconds(delay))", md)
                try await clock.sleep(seconds: delay)
                continue
            default:
                throw classify(response, what: what)
            }
        }
    }

    /// The ``RemoteError`` for a non-2xx reply that is not retried.
    func classify(_ response: HTTPResponse, what: String) -> RemoteError {
        let message = BigCommerceErrorBody.message(from: response.body) ?? "HTTP \(response.status)"
        switch response.status {
        case 401:
            return .authorization(.bigcommerce, "\(what): the API token was rejected (HTTP 401: \(message)); check it with `zbsync auth bigcommerce`")
        case 403:
            return .authorization(.bigcommerce, "\(what): the API account lacks a scope or the store hash is wrong (HTTP 403: \(message))")
        case 404:
            return .notFound(.bigcommerce, "\(what): \(message)")
        case 500...:
            return .unavailable(.bigcommerce, "\(what): HTTP \(response.status): \(message)")
        default:
            return .rejected(.bigcommerce, status: response.status, code: nil, message: "\(what): \(message)")
        }
    }

    /// Delay before retry number `retry` (1-based): `min(cap, base·2^(retry−1))`, with the upper half jittered
    /// so it never drops below half the nominal delay.
    func backoff(retry: Int) -> Double {
        let nominal = min(Self.backoffCap, Self.backoffBase * pow(2, Double(max(0, retry - 1))))
        return nominal / 2 + nominal / 2 * min(1, max(0, jitter()))
    }

    /// Seconds to wait after a 429: the reset time the store announces, else `X-Retry-After`, else an escalating
    /// backoff (BigCommerce sends 429 without headers when the platform itself is under load).
    func throttleWait(_ response: HTTPResponse, repeat count: Int) -> Double {
        if let ms = response.header("X-Rate-Limit-Time-Reset-Ms").flatMap(Double.init), ms >= 0 {
            return ms / 1000
        }
        if let s = response.header("X-Retry-After").flatMap(Double.init), s >= 0 { return s }
        return min(Self.throttleCap, Self.throttleBase * pow(2, Double(max(0, count - 1))))
    }

    private func pauseIfQuotaLow(_ response: HTTPResponse, metadata: [String: String]) async throws {
        guard let left = response.header("X-Rate-Limit-Requests-Left").flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }),
              left <= Self.lowQuotaThreshold else { return }
        let wait = response.header("X-Rate-Limit-Time-Reset-Ms").flatMap(Double.init).map { max(0, $0) / 1000 } ?? 1
        logger.info("BigCommerce quota nearly spent (\(left) left); pausing \(Self.seconds(wait))", metadata)
        try await clock.sleep(seconds: wait)
    }

    static func seconds(_ s: Double) -> String { String(format: "%.1f s", s) }

    /// The page size actually sent: BigCommerce refuses more than 250 (HTTP 413) and less than 1 makes no sense.
    static func clampLimit(_ limit: Int) -> Int { min(maxPageSize, max(1, limit)) }

    // MARK: Paging

    /// Every row of a v2 sub-resource list, reading `page=1,2,…` with `limit=250` until a short or empty page.
    func v2AllPages(_ path: String, _ extra: [BigCommerceQueryItem] = [], orderID: Int64?) async throws -> [JSON] {
        var rows: [JSON] = []
        var page = 1
        while page <= Self.maxPages {
            let query = extra + [.int("limit", Self.maxPageSize), .int("page", page)]
            let response = try await get(.v2, path, query, orderID: orderID)
            let items = try BCBody.read(response, context: "GET /v2\(path)").v2Array(context: "GET /v2\(path)")
            rows += items
            if items.count < Self.maxPageSize { return rows }
            page += 1
        }
        throw RemoteError.malformed(.bigcommerce, "GET /v2\(path): more than \(Self.maxPages) pages; the server may be ignoring `page`")
    }
}
