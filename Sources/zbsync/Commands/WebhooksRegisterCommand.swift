import Foundation

/// `zbsync webhooks`: help with the BigCommerce side of webhooks.
struct WebhooksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Show how to register the BigCommerce webhooks that feed 'zbsync webhook'.",
        subcommands: [WebhooksRegisterCommand.self]
    )

    init(from arguments: ParsedArguments) {}
}

/// `zbsync webhooks register --destination URL`: prints the BigCommerce API calls that create the hooks
/// (`POST /v3/hooks`, one per scope). It sends nothing: zbsync never writes to BigCommerce.
///
/// Invariant: the output holds no secret; the API token and the header secret appear as shell variables
/// (`$ZBSYNC_BIGCOMMERCE_TOKEN`, `$ZBSYNC_WEBHOOK_HEADER_SECRET`) for the user to fill in.
struct WebhooksRegisterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Print the BigCommerce API calls that register the webhooks (sends nothing).",
        discussion: """
        One hook per scope: store/order/* (orders, refunds, transactions) and store/customer/* (customers and
        their addresses). The destination must be HTTPS on port 443, served by a web server that runs
        'zbsync webhook' as a CGI program. The hooks carry the custom header webhooks.header_name with the
        header secret, so webhooks.verify = header or both can check it.
        """
    )

    static let arguments: [ArgumentSpec] = [
        .option("--destination", valueName: "url", help: "The public HTTPS URL the web server runs 'zbsync webhook' at.",
                required: true),
    ]

    /// The scopes zbsync's inbox handles.
    static let scopes = ["store/order/*", "store/customer/*"]

    var destination: String

    init(from arguments: ParsedArguments) {
        destination = arguments.string("destination") ?? ""
    }

    mutating func validate() throws {
        destination = destination.trimmingCharacters(in: .whitespaces)
        guard let url = URLComponents(string: destination), url.scheme?.lowercased() == "https",
              let host = url.host, !host.isEmpty, url.port == nil || url.port == 443 else {
            throw UsageError("--destination must be an https:// URL on port 443 (BigCommerce delivers nowhere else), got '\(destination)'")
        }
        guard !destination.contains("\""), !destination.contains("'"), !destination.contains("\\") else {
            throw UsageError("--destination must not contain quotes or backslashes")
        }
    }

    func run(_ context: AppContext) async throws -> ExitCode {
        let config = try context.configuration()
        let hash = config.bigcommerce.storeHash
        guard !hash.isEmpty else {
            throw CommandFailure(.configuration, "no BigCommerce store connected; run 'zbsync auth bigcommerce --store-hash HASH' first")
        }
        var base = config.bigcommerce.apiURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        let endpoint = "\(base)/stores/\(hash)/v3/hooks"
        let header = config.webhooks.headerName
        let out = context.output
        out.print("Register one hook per scope with BigCommerce (zbsync itself never writes to BigCommerce):")
        out.print()
        for scope in Self.scopes {
            out.print("  POST \(endpoint)")
            out.print("  {\"scope\":\"\(scope)\",\"destination\":\"\(destination)\",\"is_active\":true,\"headers\":{\"\(header)\":\"<header secret>\"}}")
            out.print()
        }
        out.print("With curl (export ZBSYNC_BIGCOMMERCE_TOKEN and ZBSYNC_WEBHOOK_HEADER_SECRET first):")
        out.print()
        for scope in Self.scopes {
            let body = "{\\\"scope\\\":\\\"\(scope)\\\",\\\"destination\\\":\\\"\(destination)\\\",\\\"is_active\\\":true,"
                + "\\\"headers\\\":{\\\"\(header)\\\":\\\"$ZBSYNC_WEBHOOK_HEADER_SECRET\\\"}}"
            out.print("  curl -sS -X POST '\(endpoint)' -H \"X-Auth-Token: $ZBSYNC_BIGCOMMERCE_TOKEN\" \\")
            out.print("    -H 'Content-Type: application/json' -H 'Accept: application/json' -d \"\(body)\"")
        }
        out.print()
        out.print("The header secret must also reach 'zbsync webhook': set ZBSYNC_WEBHOOK_HEADER_SECRET in the web server's CGI")
        out.print("environment, next to ZBSYNC_HOME. webhooks.verify is now '\(config.webhooks.verify.rawValue)'.")
        return .success
    }
}
