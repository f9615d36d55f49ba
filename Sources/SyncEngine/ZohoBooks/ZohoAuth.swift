import Foundation

/// What zbsync needs to get Zoho access tokens for one home: the self-client's id and secret, the
/// long-lived refresh token, and where the accounts server and the API live.
///
/// Invariant: the secrets stay `Secret` values; they are revealed only into the form body of the token request.
public struct ZohoCredentials: Sendable {
    public var clientID: String
    public var clientSecret: Secret
    public var refreshToken: Secret
    public var region: ZohoRegion
    /// The accounts server the refresh token was issued by (default: the region's). Refreshing elsewhere fails.
    public var accountsURL: URL
    /// Accept any `api_domain` (the local sandbox answers `http://127.0.0.1:port`). Off in production.
    public var allowCustomAPIDomain: Bool

    public init(clientID: String, clientSecret: Secret, refreshToken: Secret, region: ZohoRegion,
                accountsURL: URL? = nil, allowCustomAPIDomain: Bool = false) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.refreshToken = refreshToken
        self.region = region
        self.accountsURL = accountsURL ?? region.accountsURL
        self.allowCustomAPIDomain = allowCustomAPIDomain
    }
}

/// The result of exchanging a self-client grant code: the refresh token to store (as a secret) and a first session.
public struct ZohoGrant: Sendable, Equatable {
    public var refreshToken: Secret
    public var session: ZohoSession
}

/// Zoho OAuth: keeps one valid access token for a home, persisted in the ``TokenStore`` and reused across runs.
///
/// Invariants:
/// - A stored token is used until fewer than ``refreshMargin`` seconds (5 minutes) remain; then it is refreshed.
///   (A token this process obtained with a lifetime under an hour uses a twelfth of its lifetime as the margin.)
/// - Refreshes are single-flight: callers that need a new token at the same time share one token request.
/// - Never more than ``maxRefreshesPerWindow`` refresh attempts in any ``refreshWindow`` (counted in the
///   token store, so across processes); past that, `RemoteError.rateLimited(.zoho, code: nil, retryAfter: 600)`
///   and no request: the run stops with everything queued (exit 75), as for Zoho's own throttle.
/// - A throttled refresh ("Access Denied", "too many requests") throws
///   `RemoteError.rateLimited(.zoho, code: nil, retryAfter: 900)`, and no run (this one or a later one: the
///   pause is kept in the token store) makes a token request for 15 minutes. Zoho lifts the throttle only after
///   15–30 minutes without attempts.
/// - `invalid_code`, `invalid_token`, `invalid_client`, `invalid_grant` (with any HTTP status, 200 included)
///   throw `RemoteError.authorization(.zoho, "… re-authorize with `zbsync auth zoho`")`.
/// - Neither tokens nor token-endpoint bodies are ever logged or put in an error message.
public actor ZohoAuth {
    /// Refresh when fewer than this many seconds of the token's life remain.
    public static let refreshMargin: TimeInterval = 300
    public static let maxRefreshesPerWindow = 6
    public static let refreshWindow: TimeInterval = 600
    /// How long to stay away from the token endpoint after Zoho throttled it.
    public static let throttlePause: TimeInterval = 900

    private let credentials: ZohoCredentials
    private let tokens: any TokenStore
    private let transport: any HTTPTransport
    private let clock: any SyncClock
    private let logger: Logger
    private let userAgent: String

    private var current: ZohoSession?
    private var inFlight: Task<ZohoSession, Error>?
    private var throttledUntil: Date?
    private var issuedLifetime: (token: Secret, seconds: TimeInterval)?

    public init(credentials: ZohoCredentials, tokens: any TokenStore, transport: any HTTPTransport, clock: any SyncClock,
                logger: Logger = .silent, userAgent: String = "zbsync") {
        self.credentials = credentials
        self.tokens = tokens
        self.transport = transport
        self.clock = clock
        self.logger = logger
        self.userAgent = userAgent
    }

    /// The region and accounts server these credentials belong to.
    public nonisolated var region: ZohoRegion { credentials.region }

    /// A session whose token has at least ``refreshMargin`` seconds left: the cached one, the stored one
    /// (another run's), or a freshly refreshed one.
    public func session() async throws -> ZohoSession {
        let now = clock.now()
        if let s = current, isUsable(s, at: now) { return s }
        if let stored = try loadStored(), isUsable(stored, at: now) {
            current = stored
            return stored
        }
        return try await refreshSingleFlight()
    }

    /// Called after Zoho rejected `rejected` (HTTP 401, code 14 or 57). Refreshes once for all callers that saw
    /// the same token fail: when the token has already been replaced (by this process or another one), the newer
    /// session is returned without a new refresh.
    public func refresh(replacing rejected: Secret) async throws -> ZohoSession {
        let now = clock.now()
        if let s = current, s.accessToken != rejected, isUsable(s, at: now) { return s }
        if let stored = try loadStored(), stored.accessToken != rejected, isUsable(stored, at: now) {
            current = stored
            return stored
        }
        if let task = inFlight { return try await task.value }
        return try await refreshSingleFlight()
    }

    /// Records the resolved organization and its cached settings in the session (persisted).
    @discardableResult
    public func updateOrganization(id: String?, settings: JSON) throws -> ZohoSession? {
        guard var s = try current ?? loadStored() else { return nil }
        s.organizationID = id
        s.orgSettings = settings
        try tokens.saveZohoSession(s)
        current = s
        return s
    }

    /// The stored session as is (for `status`: expiry, api domain, organization), without refreshing.
    public func storedSession() throws -> ZohoSession? { try current ?? loadStored() }

    // MARK: Refresh

    /// Usable while at least ``refreshMargin`` remains; for a token this process obtained with a short lifetime
    /// (a sandbox with scaled time), the margin is a twelfth of that lifetime instead (5 of 60 minutes).
    private func isUsable(_ s: ZohoSession, at now: Date) -> Bool {
        var margin = Self.refreshMargin
        if let issued = issuedLifetime, issued.token == s.accessToken { margin = min(margin, issued.seconds / 12) }
        return !s.accessToken.isEmpty && s.expiresAt.timeIntervalSince(now) >= margin
    }

    /// The stored session, unless its API domain no longer passes the region check (then it is ignored).
    private func loadStored() throws -> ZohoSession? {
        guard let s = try tokens.zohoSession() else { return nil }
        guard (try? ZohoRegion.validatedAPIDomain(s.apiDomain, region: credentials.region,
                                                  allowCustom: credentials.allowCustomAPIDomain)) == s.apiDomain else {
            return nil
        }
        return s
    }

    private func refreshSingleFlight() async throws -> ZohoSession {
        if let task = inFlight { return try await task.value }
        let task = Task { try await self.performRefresh() }
        inFlight = task
        defer { inFlight = nil }
        return try await task.value
    }

    private func performRefresh() async throws -> ZohoSession {
        let now = clock.now()
        // Zoho's throttle is kept in the token store too, so a run started by cron minutes later stays away as well.
        let storedThrottle = try tokens.refreshThrottledUntil()
        if let until = [throttledUntil, storedThrottle].compactMap({ $0 }).max(), now < until {
            logger.warning("zoho token refresh skipped: Zoho throttled the refresh token", ["zoho.retry_after": String(Int(until.timeIntervalSince(now).rounded(.up)))])
            throw RemoteError.rateLimited(.zoho, code: nil, retryAfter: until.timeIntervalSince(now).rounded(.up))
        }
        let recent = try tokens.refreshAttempts(since: now.addingTimeInterval(-Self.refreshWindow))
        if recent >= Self.maxRefreshesPerWindow {
            // A pause, not a refused credential: the run stops with everything queued (exit 75) and the next one
            // goes on once the window has room.
            logger.error("zoho token refresh held back: too many token refreshes (\(recent) in the last 10 minutes); "
                + "zbsync stops before Zoho throttles the refresh token", ["zoho.refresh_attempts": String(recent)])
            throw RemoteError.rateLimited(.zoho, code: nil, retryAfter: Self.refreshWindow)
        }
        try tokens.recordRefreshAttempt(at: now)
        let form = [
            ("refresh_token", credentials.refreshToken.reveal()),
            ("client_id", credentials.clientID),
            ("client_secret", credentials.clientSecret.reveal()),
            ("grant_type", "refresh_token"),
        ]
        let reply: TokenReply
        do {
            reply = try await Self.requestToken(form: form, accountsURL: credentials.accountsURL, purpose: .refresh,
                                                transport: transport, clock: clock, logger: logger, userAgent: userAgent)
        } catch let error as RemoteError {
            if case .rateLimited = error {
                let until = clock.now().addingTimeInterval(Self.throttlePause)
                throttledUntil = until
                try? tokens.recordRefreshThrottled(until: until)
            }
            throw error
        }
        let apiDomain = try ZohoRegion.validatedAPIDomain(reply.apiDomain, region: credentials.region,
                                                          allowCustom: credentials.allowCustomAPIDomain)
        let stored: ZohoSession? = (try? tokens.zohoSession()) ?? nil
        let previous = current ?? stored
        let session = ZohoSession(accessToken: reply.accessToken,
                                  expiresAt: now.addingTimeInterval(reply.expiresIn),
                                  apiDomain: apiDomain,
                                  organizationID: previous?.organizationID,
                                  orgSettings: previous?.orgSettings ?? .null)
        try tokens.saveZohoSession(session)
        if storedThrottle != nil { try? tokens.recordRefreshThrottled(until: nil) }
        current = session
        issuedLifetime = (reply.accessToken, reply.expiresIn)
        logger.debug("zoho access token refreshed", ["zoho.expires_in": String(Int(reply.expiresIn))])
        return session
    }

    // MARK: Grant code

    /// Exchanges a self-client grant code (valid for minutes, single use) for a refresh token and a first session.
    /// `invalid_code` means the code expired or was used; the user generates a new one.
    public static func exchangeGrantCode(code: Secret, clientID: String, clientSecret: Secret, accountsURL: URL,
                                         region: ZohoRegion, allowCustomAPIDomain: Bool = false,
                                         transport: any HTTPTransport, clock: any SyncClock,
                                         logger: Logger = .silent, userAgent: String = "zbsync") async throws -> ZohoGrant {
        let form = [
            ("code", code.reveal()),
            ("client_id", clientID),
            ("client_secret", clientSecret.reveal()),
            ("grant_type", "authorization_code"),
        ]
        let now = clock.now()
        let reply = try await requestToken(form: form, accountsURL: accountsURL, purpose: .grant, transport: transport,
                                           clock: clock, logger: logger, userAgent: userAgent)
        guard let refresh = reply.refreshToken, !refresh.isEmpty else {
            throw RemoteError.authorization(.zoho, "Zoho returned no refresh token for the grant code; generate the code "
                + "for a self client (offline access) and run `zbsync auth zoho --code …` again")
        }
        let apiDomain = try ZohoRegion.validatedAPIDomain(reply.apiDomain, region: region, allowCustom: allowCustomAPIDomain)
        let session = ZohoSession(accessToken: reply.accessToken, expiresAt: now.addingTimeInterval(reply.expiresIn),
                                  apiDomain: apiDomain)
        return ZohoGrant(refreshToken: refresh, session: session)
    }

    // MARK: Token endpoint

    enum Purpose { case refresh, grant }

    struct TokenReply {
        var accessToken: Secret
        var refreshToken: Secret?
        var expiresIn: TimeInterval
        var apiDomain: String?
    }

    /// `POST {accounts}/oauth/v2/token` with a form body. The body of the reply is parsed, never logged.
    static func requestToken(form: [(String, String)], accountsURL: URL, purpose: Purpose, transport: any HTTPTransport,
                             clock: any SyncClock, logger: Logger, userAgent: String) async throws -> TokenReply {
        let url = accountsURL.appendingPathComponent("oauth/v2/token")
        let body = form.map { "\(ZohoQuery.encode($0.0))=\(ZohoQuery.encode($0.1))" }.joined(separator: "&")
        let request = HTTPRequest(method: "POST", url: url,
                                  headers: ["Content-Type": "application/x-www-form-urlencoded",
                                            "Accept": "application/json", "User-Agent": userAgent],
                                  body: Data(body.utf8), timeout: 30)
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch let error as TransportError {
            logger.warning("zoho token request failed", ["http.request": request.redactedDescription])
            throw RemoteError.unavailable(.zoho, "Zoho accounts server \(url.host ?? ""): \(error)")
        }
        logger.debug("zoho token request", ["http.request": request.redactedDescription, "http.status": String(response.status)])
        let json = try? JSON.parse(response.body)
        if let error = json?["error"]?.stringOrNumberText, !error.isEmpty {
            throw classifyTokenError(error, description: json?["error_description"]?.string ?? "", purpose: purpose)
        }
        if response.status == 429 { throw throttled() }
        if response.status >= 500 {
            throw RemoteError.unavailable(.zoho, "Zoho accounts server answered HTTP \(response.status)")
        }
        if response.status >= 400 {
            throw RemoteError.authorization(.zoho, "Zoho accounts server refused the token request (HTTP \(response.status)); "
                + "re-authorize with `zbsync auth zoho`")
        }
        guard let json else {
            throw RemoteError.unavailable(.zoho, "Zoho accounts server sent a reply that is not JSON (HTTP \(response.status))")
        }
        guard let token = json["access_token"]?.string, !token.isEmpty else {
            throw RemoteError.unavailable(.zoho, "Zoho accounts server answered without an access token")
        }
        var expires: TimeInterval = 3600
        if let sec = json["expires_in_sec"]?.int, sec > 0 {
            expires = TimeInterval(sec)
        } else if let v = json["expires_in"]?.int, v > 0 {
            // Older Zoho replies give milliseconds here (3600000) next to `expires_in_sec`.
            expires = v > 86_400 ? TimeInterval(v) / 1000 : TimeInterval(v)
        }
        return TokenReply(accessToken: Secret(token),
                          refreshToken: json["refresh_token"]?.string.map(Secret.init),
                          expiresIn: expires,
                          apiDomain: json["api_domain"]?.string)
    }

    static func throttled() -> RemoteError {
        .rateLimited(.zoho, code: nil, retryAfter: throttlePause)
    }

    static func classifyTokenError(_ error: String, description: String, purpose: Purpose) -> RemoteError {
        let e = error.lowercased()
        let d = description.lowercased()
        if e == "access denied" || (e == "access_denied" && d.contains("too many")) || d.contains("too many requests") {
            return throttled()
        }
        switch (e, purpose) {
        case ("invalid_code", .grant):
            return .authorization(.zoho, "the grant code expired or was already used (invalid_code); generate a new code "
                + "and run `zbsync auth zoho --code …` again")
        case ("invalid_client", _), ("invalid_client_secret", _):
            return .authorization(.zoho, "Zoho does not accept the client id or secret (\(e)); check them and re-authorize "
                + "with `zbsync auth zoho`")
        default:
            return .authorization(.zoho, "Zoho refused the stored credentials (\(e)); re-authorize with `zbsync auth zoho`")
        }
    }
}
