import Foundation
import Stores
import SyncEngine

/// `zbsync webhook`: the CGI program (RFC 3875) a web server runs per BigCommerce delivery. Verifies it
/// and stores `(delivery id, scope, entity id)` in the inbox. Never waits on the run lock.
///
/// Invariants:
/// - stdout carries exactly one CGI response (`Status:` header, `Content-Type`, blank line, short body);
///   logs go to stderr (the web server's error log) and never hold a secret, a header value or the body.
/// - `200` is answered only after the inbox row is committed (or was already there: a duplicate changes
///   nothing); `401` stores nothing and appends one `webhook.receive`/`fail` audit row; `400`, `405` and
///   `413` store nothing; a body above `webhooks.max_body_bytes` is refused before it is read.
/// - Only the scope and the entity id of a payload are kept; the sync re-reads the entity from the API.
/// - With `webhooks.process = immediate`, a stored delivery starts a detached `zbsync sync --inbox-only`
///   in its own session with stdin, stdout and stderr on /dev/null, so the response is not held open.
struct WebhookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "CGI program: verify a BigCommerce webhook delivery and store it in the inbox.",
        discussion: """
        Run by a web server that terminates TLS (nginx with fcgiwrap, Apache, Caddy), with ZBSYNC_HOME set in
        its CGI configuration. Reads the body from stdin and headers from HTTP_* variables; answers 200 once
        the delivery is stored, 401 when it cannot be verified (see webhooks.verify).
        """
    )

    /// Where the custom header secret may come from when it is not stored in the vault.
    static let headerSecretVariable = "ZBSYNC_WEBHOOK_HEADER_SECRET"
    /// Store attempts when another process holds the database's write lock past the busy timeout.
    static let busyAttempts = 3

    init(from arguments: ParsedArguments) {}

    func run(_ context: AppContext) async throws -> ExitCode {
        let request = CGIRequest(environment: context.environment)
        let response: CGIResponse
        do {
            response = try handle(request, context: context)
        } catch {
            // The web server needs a response even when the home is unusable; the runner then prints the
            // one failure line (stderr = the server's error log) and exits with its code.
            let busy = (error as? StoreError)?.kind == .busy
            CGIResponse(status: busy ? 503 : 500, body: busy ? "busy, retry later" : "internal error",
                        extraHeaders: busy ? ["Retry-After: 30"] : []).write(redactor: context.redactor)
            throw error
        }
        response.write(redactor: context.redactor)
        if response.startSync {
            do {
                let pid = try DetachedSync.start(home: context.home, environment: context.environment)
                context.logger.debug("started zbsync sync --inbox-only", ["pid": "\(pid)"])
            } catch {
                // The delivery is stored: the next cron run drains it.
                context.logger.warning("could not start zbsync sync --inbox-only (\(error)); the next scheduled sync picks the delivery up")
            }
        }
        return .success
    }

    /// Everything but the writing: checks, verification, the inbox row. Throws only for a home or store
    /// that cannot be used (answered 500, or 503 when the store stayed busy).
    func handle(_ request: CGIRequest, context: AppContext) throws -> CGIResponse {
        guard request.method == "POST" else {
            context.logger.notice("webhook: refused a \(request.method.isEmpty ? "request without method" : request.method) request (only POST is accepted)")
            return CGIResponse(status: 405, body: "method not allowed", extraHeaders: ["Allow: POST"])
        }
        let config = try context.configuration()
        let logger = request.remoteAddress.map { context.logger.with(["webhook.remote": $0]) } ?? context.logger

        let length: Int
        switch request.contentLength {
        case .missing: length = 0
        case .invalid:
            logger.notice("webhook: refused a request with an invalid CONTENT_LENGTH")
            return CGIResponse(status: 400, body: "bad request")
        case .value(let n): length = n
        }
        guard length <= config.webhooks.maxBodyBytes else {
            logger.notice("webhook: refused a \(length)-byte body (webhooks.max_body_bytes = \(config.webhooks.maxBodyBytes))")
            return CGIResponse(status: 413, body: "payload too large")
        }
        guard let body = CGIRequest.readBody(length: length) else {
            logger.notice("webhook: the body ended before CONTENT_LENGTH (\(length) bytes)")
            return CGIResponse(status: 400, body: "bad request")
        }

        let headers = request.webhookHeaders(tokenHeader: config.webhooks.headerName)
        let store = try withBusyRetry(logger) { try context.store() }
        let mode = WebhookVerificationMode(rawValue: config.webhooks.verify.rawValue) ?? .signature
        let verifier = WebhookVerifier(mode: mode,
                                       signingKey: mode == .header ? nil : try withBusyRetry(logger) {
                                           try context.secret(SecretName.bigcommerceClientSecret).map(WebhookVerifier.signingKey(clientSecret:))
                                       },
                                       headerSecret: mode == .signature ? nil : try headerSecret(context, logger: logger))
        let now = context.clock.now()
        if let rejection = verifier.check(headers: headers, body: body, now: now) {
            let auditID = WebhookEvent.usableDeliveryID(headers.id) ?? "unknown"
            logger.warning("webhook: refused delivery \(auditID): \(rejection.description) (webhooks.verify = \(mode.rawValue))")
            let event = AuditEvent(time: now, runID: RunRecorder.newRunID(), entityKey: "webhook:\(auditID)", action: "webhook.receive",
                                   outcome: "fail", httpStatus: 401,
                                   message: "refused (webhooks.verify = \(mode.rawValue)): \(rejection.description)")
            do {
                try withBusyRetry(logger) { try store.appendAudit(event) }
            } catch {
                logger.error("webhook: could not audit the refused delivery: \(error)")
            }
            return CGIResponse(status: 401, body: "unauthorized")
        }

        let parsed: WebhookEvent
        do {
            parsed = try WebhookEvent.parse(body)
        } catch {
            logger.notice("webhook: verified delivery \(WebhookEvent.usableDeliveryID(headers.id) ?? "without webhook-id") has an unusable body: \(error)")
            return CGIResponse(status: 400, body: "bad request")
        }
        let deliveryID = WebhookEvent.deliveryID(header: headers.id, hash: parsed.dedupeKey, body: body)
        guard let delivery = parsed.inboxDelivery(deliveryID: deliveryID, receivedAt: now) else {
            // Answered 2xx so BigCommerce does not retry (and finally deactivate) a hook zbsync has no use for.
            logger.notice("webhook: ignored delivery \(deliveryID) of scope \(parsed.scope) (only store/order/* and store/customer/* are synced)")
            return CGIResponse(status: 200, body: "ignored")
        }
        let inserted = try withBusyRetry(logger) { try store.insertDelivery(delivery) }
        let fields = ["webhook.delivery": deliveryID, "webhook.scope": delivery.scope, "webhook.entity_id": "\(delivery.entityID)"]
        if inserted {
            logger.info("webhook: stored delivery \(deliveryID) (\(delivery.scope) \(delivery.entityID))", fields)
        } else {
            logger.info("webhook: delivery \(deliveryID) was already stored; nothing changed", fields)
        }
        return CGIResponse(status: 200, body: "ok", startSync: inserted && config.webhooks.process == .immediate)
    }

    /// The custom header secret: `$ZBSYNC_WEBHOOK_HEADER_SECRET` when set (for example in the web server's
    /// CGI environment), else the one stored in the vault as `webhooks.header_secret`.
    private func headerSecret(_ context: AppContext, logger: Logger) throws -> Secret? {
        if let value = context.environment[Self.headerSecretVariable]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty {
            let secret = Secret(value)
            context.redactor.register(secret)
            return secret
        }
        return try withBusyRetry(logger) { try context.secret(SecretName.webhookHeaderSecret) }
    }

    /// Runs `body` again (at most ``busyAttempts`` times) while the store answers busy: a sync holding the
    /// write lock longer than the store's busy timeout. The webhook never takes the run lock.
    private func withBusyRetry<T>(_ logger: Logger, _ body: () throws -> T) throws -> T {
        var attempt = 1
        while true {
            do {
                return try body()
            } catch let error as StoreError where error.kind == .busy && attempt < Self.busyAttempts {
                logger.notice("webhook: the state database is busy (attempt \(attempt) of \(Self.busyAttempts)); waiting")
                attempt += 1
                usleep(200_000)
            }
        }
    }
}


// MARK: - CGI

/// The parts of a CGI request (RFC 3875 §4.1) the webhook reads.
struct CGIRequest {
    enum Length: Equatable { case missing, invalid, value(Int) }

    let environment: [String: String]

    var method: String { (environment["REQUEST_METHOD"] ?? "").uppercased() }
    var remoteAddress: String? { environment["REMOTE_ADDR"].flatMap { $0.isEmpty ? nil : $0 } }

    var contentLength: Length {
        guard let raw = environment["CONTENT_LENGTH"]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return .missing }
        guard raw.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(raw) else { return .invalid }
        return .value(n)
    }

    /// A request header as the server passes it: `HTTP_` + the name upper-cased with `-` as `_`.
    func header(_ name: String) -> String? {
        let key = "HTTP_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
        return environment[key]
    }

    func webhookHeaders(tokenHeader: String) -> WebhookHeaders {
        WebhookHeaders(id: header("webhook-id"), timestamp: header("webhook-timestamp"), signature: header("webhook-signature"),
                       token: tokenHeader.isEmpty ? nil : header(tokenHeader))
    }

    /// Exactly `length` bytes of stdin, or nil when it ends first.
    static func readBody(length: Int) -> Data? {
        var body = Data()
        guard length > 0 else { return body }
        body.reserveCapacity(length)
        var buffer = [UInt8](repeating: 0, count: min(length, 65_536))
        while body.count < length {
            let want = min(buffer.count, length - body.count)
            let got = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, want) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { return nil }
            body.append(contentsOf: buffer[0..<got])
        }
        return body
    }
}

/// One CGI response: `Status`, `Content-Type: text/plain`, a short body.
struct CGIResponse: Equatable {
    var status: Int
    var body: String
    var extraHeaders: [String] = []
    /// Start a detached `sync --inbox-only` once the response is out.
    var startSync = false

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 405: return "Method Not Allowed"
        case 413: return "Content Too Large"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }

    var text: String {
        var lines = ["Status: \(status) \(Self.reason(status))", "Content-Type: text/plain"] + extraHeaders
        lines.append("")
        return lines.joined(separator: "\r\n") + "\r\n" + body + "\n"
    }

    func write(redactor: Redactor) {
        FileHandle.standardOutput.write(Data(redactor.redact(text).utf8))
    }
}

// MARK: - Detached sync

/// Starts `zbsync sync --inbox-only --home H -q` fully detached: its own session (`setsid`), stdin, stdout
/// and stderr on /dev/null, no other inherited descriptor. The webhook does not wait for it; when the
/// webhook exits, init adopts it. A sync already running makes it exit 75 at once, which is fine: that run
/// or the next scheduled one drains the inbox.
enum DetachedSync {
    struct SpawnError: Error, CustomStringConvertible {
        var code: Int32
        var description: String { "posix_spawn failed: \(String(cString: strerror(code)))" }
    }

    /// Variables passed on to the sync: no CGI request variables, only what a zbsync run can use.
    static func environment(from environment: [String: String]) -> [String: String] {
        let kept = ["PATH", "HOME", "LANG", "TZ", "TMPDIR", "USER", "LOGNAME"]
        return environment.filter { kept.contains($0.key) || $0.key.hasPrefix("LC_") || $0.key.hasPrefix("ZBSYNC_") }
    }

    static var executablePath: String {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        #endif
        return Bundle.main.executablePath ?? CommandLine.arguments[0]
    }

    @discardableResult
    static func start(home: URL, environment: [String: String]) throws -> pid_t {
        let arguments = [executablePath, "sync", "--inbox-only", "--home", home.path, "-q"]
        let env = Self.environment(from: environment).map { "\($0.key)=\($0.value)" }

        // Descriptors the web server or this process left open without close-on-exec would keep the
        // response (or a database file) open in the child.
        let fdDir = FileManager.default.fileExists(atPath: "/proc/self/fd") ? "/proc/self/fd" : "/dev/fd"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: fdDir)) ?? [] {
            if let fd = Int32(name), fd > 2 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }

        #if os(Linux)
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #else
        var actions: posix_spawn_file_actions_t?
        var attributes: posix_spawnattr_t?
        #endif
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // POSIX_SPAWN_SETSID (glibc ≥ 2.26, macOS ≥ 10.15) is not imported into Swift; its values:
        #if os(Linux)
        let setsid: Int16 = 0x80
        #else
        let setsid: Int16 = 0x400
        #endif
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, setsid | Int16(POSIX_SPAWN_SETSIGMASK) | Int16(POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard rc == 0 else { throw SpawnError(code: rc) }
        return pid
    }
}
