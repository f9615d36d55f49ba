import Foundation
import Stores
import SyncEngine

/// `zbsync auth bigcommerce --store-hash HASH`: stores the API token and, optionally, the app's client
/// secret (for webhook signatures), and writes `bigcommerce.store_hash` into the config file.
struct AuthBigCommerceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bigcommerce",
        abstract: "Store the BigCommerce API token for a store.",
        discussion: """
        The API token is read from $ZBSYNC_BIGCOMMERCE_TOKEN, else from a no-echo prompt. The app's client
        secret, used to verify webhook signatures, is read from $ZBSYNC_BIGCOMMERCE_CLIENT_SECRET (optional), and the
        webhook's custom header secret from $ZBSYNC_WEBHOOK_HEADER_SECRET (optional).
        The token needs read-only scopes: Orders, Order Transactions, Customers.
        """
    )

    static let arguments: [ArgumentSpec] = [
        .option("--store-hash", valueName: "hash", help: "The store hash (the part after /stores/ in the API path).",
                required: true),
    ]

    var storeHash: String

    init(from arguments: ParsedArguments) {
        storeHash = arguments.string("store-hash") ?? ""
    }

    mutating func validate() throws {
        storeHash = storeHash.trimmingCharacters(in: .whitespaces).lowercased()
        guard !storeHash.isEmpty, storeHash.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw UsageError("--store-hash must be letters and digits only (like abc123de), got '\(storeHash)'")
        }
    }

    func run(_ context: AppContext) async throws -> ExitCode {
        let store = try context.store()
        let token = try SecretInput.read(variable: "ZBSYNC_BIGCOMMERCE_TOKEN", prompt: "BigCommerce API token", context: context)!
        let clientSecret = try SecretInput.read(variable: "ZBSYNC_BIGCOMMERCE_CLIENT_SECRET", prompt: "BigCommerce client secret",
                                                context: context, required: false)
        // The webhook's custom header secret is optional and never prompted for.
        let headerSecret = context.environment["ZBSYNC_WEBHOOK_HEADER_SECRET"].flatMap { $0.isEmpty ? nil : Secret($0) }
        if let headerSecret { try store.setSecret(headerSecret, name: SecretName.webhookHeaderSecret) }
        try ConfigFile.update(home: context.home, settings: ["bigcommerce.store_hash": storeHash])
        try store.setSecret(token, name: SecretName.bigcommerceToken)
        if let clientSecret { try store.setSecret(clientSecret, name: SecretName.bigcommerceClientSecret) }
        context.output.print("Stored the BigCommerce API token for store \(storeHash)" + (clientSecret == nil ? "." : " and the client secret for webhook signatures."))
        context.output.print("Next: zbsync auth zoho --region us --client-id ID, then zbsync doctor.")
        return .success
    }
}
