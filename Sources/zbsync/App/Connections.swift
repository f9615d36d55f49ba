import Foundation
import Stores
import SyncEngine

/// Names of the secrets kept in the vault.
enum SecretName {
    static let bigcommerceToken = "bigcommerce.token"
    static let bigcommerceClientSecret = "bigcommerce.client_secret"
    static let zohoClientSecret = "zoho.client_secret"
    static let zohoRefreshToken = "zoho.refresh_token"
    /// The custom header secret of the webhook (`webhooks.verify = header | both`).
    static let webhookHeaderSecret = "webhooks.header_secret"
}

/// Reads a secret from an environment variable, else from the terminal without echo.
enum SecretInput {
    static func read(variable: String, prompt: String, context: AppContext, required: Bool = true) throws -> Secret? {
        if let value = context.environment[variable]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty {
            let secret = Secret(value)
            context.redactor.register(secret)
            return secret
        }
        guard isatty(STDIN_FILENO) == 1 else {
            if required { throw CommandFailure(.usage, "\(prompt) is needed: set $\(variable) (stdin is not a terminal, so zbsync cannot ask)") }
            return nil
        }
        FileHandle.standardError.write(Data("\(prompt): ".utf8))
        var old = termios()
        tcgetattr(STDIN_FILENO, &old)
        var silent = old
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSANOW, &old)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        let line = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces) ?? ""
        if line.isEmpty {
            if required { throw CommandFailure(.usage, "no \(prompt.lowercased()) given") }
            return nil
        }
        let secret = Secret(line)
        context.redactor.register(secret)
        return secret
    }
}

/// Builds the API clients of one home from its configuration and stored secrets.
struct Connections {
    let context: AppContext
    let config: Configuration
    let store: SQLiteStateStore

    init(_ context: AppContext) throws {
        self.context = context
        config = try context.configuration()
        store = try context.store()
    }

    var userAgent: String { "zbsync/\(ZBSyncVersion.current)" }

    func bigCommerce() throws -> BigCommerceClient {
        guard !config.bigcommerce.storeHash.isEmpty else {
            throw CommandFailure(.configuration, "no BigCommerce store connected; run 'zbsync auth bigcommerce --store-hash HASH'")
        }
        guard let token = try context.secret(SecretName.bigcommerceToken) else {
            throw CommandFailure(.noPermission, "no BigCommerce API token stored; run 'zbsync auth bigcommerce --store-hash \(config.bigcommerce.storeHash)'")
        }
        return BigCommerceClient(storeHash: config.bigcommerce.storeHash, token: token, baseURL: config.bigcommerce.apiURL,
                                 transport: context.makeTransport(), clock: context.clock, logger: context.logger, userAgent: userAgent)
    }

    func zohoCredentials() throws -> ZohoCredentials {
        guard !config.zoho.clientID.isEmpty,
              let secret = try context.secret(SecretName.zohoClientSecret),
              let refresh = try context.secret(SecretName.zohoRefreshToken) else {
            throw CommandFailure(.noPermission, "no Zoho credentials stored; run 'zbsync auth zoho --region \(config.zoho.region.rawValue) --client-id ID'")
        }
        return ZohoCredentials(clientID: config.zoho.clientID, clientSecret: secret, refreshToken: refresh, region: config.zoho.region,
                               accountsURL: config.zoho.accountsURL, allowCustomAPIDomain: config.zoho.allowCustomAPIDomain)
    }

    func limiter() -> ZohoLimiter {
        ZohoLimiter(store: store, clock: context.clock, requestsPerMinute: config.zoho.requestsPerMinute,
                    dailyLimit: config.zoho.dailyLimit)
    }

    func zoho(limiter: ZohoLimiter? = nil) throws -> ZohoBooksClient {
        let transport = context.makeTransport()
        let auth = ZohoAuth(credentials: try zohoCredentials(), tokens: store, transport: transport, clock: context.clock,
                            logger: context.logger, userAgent: userAgent)
        var configuration = ZohoClientConfiguration(organizationID: config.zoho.organizationID)
        configuration.userAgent = userAgent
        let sink = ZohoBooksClient(auth: auth, transport: transport, limiter: limiter ?? self.limiter(), clock: context.clock,
                                   logger: context.logger, configuration: configuration)
        return sink
    }

    /// Sync settings with the organization's base currency filled in (from the cached session: no call after
    /// the first run).
    func syncSettings(sink: ZohoBooksSink?) async throws -> SyncSettings {
        var settings = config.syncSettings(start: Date())
        if let sink {
            let org = try await sink.organization()
            settings.mapping.baseCurrency = org.currencyCode
            // Predict totals the way the organization rounds tax when Zoho says how; Zoho's returned total is
            // checked after every create either way.
            if let rounding = org.taxRounding.flatMap(TaxRounding.init(rawValue:)) { settings.mapping.taxRounding = rounding }
        }
        return settings
    }
}

/// Wraps a run: records it in `runs`, turns the report into an exit code and one summary.
enum RunRecorder {
    static func newRunID() -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss"
        return f.string(from: Date()) + "-" + String(UUID().uuidString.prefix(6)).lowercased()
    }

    /// The exit code of a finished run: a stop reason first, then failures, then unreadable replies and
    /// quarantined records.
    static func exitCode(_ report: SyncReport) -> (ExitCode, String?) {
        switch report.push.stop {
        case .dailyQuota(let m)?:
            return (.temporaryFailure, "the Zoho daily API quota is spent (\(m)); everything is queued and the next run continues")
        case .authorization(let m)?:
            return (.noPermission, "Zoho refused the credentials (\(m)); re-authorize with 'zbsync auth zoho'")
        case .unavailable(let m)?:
            return (.unavailable, "a remote is unavailable (\(m)); the operation is queued and retried on the next run")
        case .rateLimited(let m)?:
            return (.temporaryFailure, "Zoho kept answering 'too many requests' (\(m)); the next run continues")
        case .runLimit(let m)?:
            return (.temporaryFailure, "\(m); the next run continues")
        case .crashed?:
            return (.partialFailure, "the run stopped")
        case nil:
            break
        }
        if report.push.leftUnknown > 0 {
            return (.partialFailure, "\(report.push.leftUnknown) operations have an unknown outcome; the next run looks them up in Zoho before sending anything again")
        }
        if report.push.failed > 0 || report.push.dead > 0 {
            return (.partialFailure, "\(report.push.failed) operations failed and will be retried, \(report.push.dead) need attention; see 'zbsync status'")
        }
        if let first = report.unreadable.first {
            let streams = report.unreadable.map(\.stream).joined(separator: ", ")
            let quarantined = report.quarantined > 0 ? "; \(report.quarantined) records are quarantined, see 'zbsync status'" : ""
            return (.dataError, "stopped reading \(streams): \(first.reason); that cursor did not move, the rest of the run went on, and the next run reads it again\(quarantined)")
        }
        if report.quarantined > 0 {
            return (.dataError, "\(report.quarantined) records could not be read or mapped and are quarantined; see 'zbsync status'")
        }
        return (.success, nil)
    }
}
