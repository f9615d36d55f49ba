import Foundation
import Stores
import SyncEngine
import SyncEngine

/// `zbsync auth zoho --region R --client-id ID [--code GRANT_CODE]`: stores the Zoho client secret and
/// refresh token (exchanging a self-client grant code when `--code` is given).
struct AuthZohoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zoho",
        abstract: "Store the Zoho Books OAuth client and refresh token.",
        discussion: """
        The client secret is read from $ZBSYNC_ZOHO_CLIENT_SECRET and the refresh token from
        $ZBSYNC_ZOHO_REFRESH_TOKEN, else from no-echo prompts. With --code, the self-client grant code
        (scope ZohoBooks.fullaccess.all) is exchanged for a refresh token instead.
        """
    )

    static let arguments: [ArgumentSpec] = [
        .option("--region", valueName: "region", help: "Zoho data centre of the organization.",
                defaultNote: "zoho.region from the config", allowedValues: ZohoRegion.allCases.map(\.rawValue)),
        .option("--client-id", valueName: "id", help: "Client id from the Zoho API console.", required: true),
        .option("--code", valueName: "grant-code", help: "Self-client grant code to exchange for a refresh token."),
    ]

    var region: ZohoRegion?
    var clientID: String
    var code: String?

    init(from arguments: ParsedArguments) {
        region = arguments.string("region").flatMap(ZohoRegion.init(rawValue:))
        clientID = arguments.string("client-id") ?? ""
        code = arguments.string("code")
    }

    mutating func validate() throws {
        clientID = clientID.trimmingCharacters(in: .whitespaces)
        guard !clientID.isEmpty else { throw UsageError("--client-id must not be empty") }
        if let code, code.trimmingCharacters(in: .whitespaces).isEmpty { throw UsageError("--code must not be empty") }
    }

    func run(_ context: AppContext) async throws -> ExitCode {
        let store = try context.store()
        let config = try context.configuration()
        let region = self.region ?? config.zoho.region
        let accountsURL = (self.region == nil || self.region == config.zoho.region) ? config.zoho.accountsURL : region.accountsURL
        let secret = try SecretInput.read(variable: "ZBSYNC_ZOHO_CLIENT_SECRET", prompt: "Zoho client secret", context: context)!
        let refreshToken: Secret
        if let code {
            let grantCode = Secret(code)
            context.redactor.register(grantCode)
            let grant = try await ZohoAuth.exchangeGrantCode(code: grantCode, clientID: clientID, clientSecret: secret, accountsURL: accountsURL,
                                                             region: region, allowCustomAPIDomain: config.zoho.allowCustomAPIDomain,
                                                             transport: context.makeTransport(), clock: context.clock, logger: context.logger,
                                                             userAgent: "zbsync/\(ZBSyncVersion.current)")
            refreshToken = grant.refreshToken
            context.redactor.register(refreshToken)
            try store.saveZohoSession(grant.session)
        } else {
            refreshToken = try SecretInput.read(variable: "ZBSYNC_ZOHO_REFRESH_TOKEN", prompt: "Zoho refresh token", context: context)!
            try store.clearZohoSession()
        }
        try ConfigFile.update(home: context.home, settings: ["zoho.client_id": clientID, "zoho.region": region.rawValue])
        try store.setSecret(secret, name: SecretName.zohoClientSecret)
        try store.setSecret(refreshToken, name: SecretName.zohoRefreshToken)
        context.output.print("Stored the Zoho client (\(clientID), region \(region.rawValue)) and the refresh token.")
        context.output.print("Next: zbsync doctor, then zbsync sync --dry-run.")
        return .success
    }
}
