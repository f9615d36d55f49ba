import Foundation
import Testing
@testable import SyncEngine
import Stores

/// A temporary home folder with a master key, removed by ``remove()``.
struct SandboxHome: Sendable {
    let url: URL
    let key: MasterKey

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("zbsync-home-\(UUID().uuidString.prefix(8))",
                                                                            isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        key = try MasterKey.create(home: url)
    }

    /// Opens the home's state database the way a new process would: the key read back from `master.key`,
    /// a new store object on the same file.
    func openStore() throws -> SQLiteStateStore {
        let key = try MasterKey.load(home: url, environment: [:])
        return try SQLiteStateStore.open(home: url, vault: SecretsVault(key: key))
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// One "process" worth of Zoho objects: a state store, the auth, the limiter and the client.
struct SandboxZoho {
    let store: SQLiteStateStore
    let auth: ZohoAuth
    let limiter: ZohoLimiter
    let client: ZohoBooksClient
    let logs: InMemoryLogSink

    static let credentialValues = [SandboxProcess.zohoClientSecret, SandboxProcess.zohoRefreshToken]

    /// Builds the objects against `sandbox`, on `home`'s state database.
    static func make(_ sandbox: SandboxProcess, home: SandboxHome, clock: any SyncClock, requestsPerMinute: Int,
                     logs: InMemoryLogSink = InMemoryLogSink(),
                     configure: (inout ZohoClientConfiguration) -> Void = { _ in }) throws -> SandboxZoho {
        let store = try home.openStore()
        let logger = Logger(sink: logs, minimumLevel: .debug)
        let credentials = ZohoCredentials(clientID: SandboxProcess.zohoClientID,
                                          clientSecret: Secret(SandboxProcess.zohoClientSecret),
                                          refreshToken: Secret(SandboxProcess.zohoRefreshToken),
                                          region: .us, accountsURL: sandbox.baseURL, allowCustomAPIDomain: true)
        let auth = ZohoAuth(credentials: credentials, tokens: store, transport: sandbox.transport, clock: clock,
                            logger: logger, userAgent: "zbsync-tests")
        let limiter = ZohoLimiter(store: store, clock: clock, requestsPerMinute: requestsPerMinute)
        var configuration = ZohoClientConfiguration()
        configuration.userAgent = "zbsync-tests"
        configuration.requestTimeout = 30
        configure(&configuration)
        let client = ZohoBooksClient(auth: auth, transport: sandbox.transport, limiter: limiter, clock: clock,
                                     logger: logger, configuration: configuration)
        return SandboxZoho(store: store, auth: auth, limiter: limiter, client: client, logs: logs)
    }
}

extension SandboxProcess {
    /// A ``BigCommerceClient`` for the sandbox's store.
    func bigCommerceClient(clock: any SyncClock = SystemClock(), logs: InMemoryLogSink = InMemoryLogSink(),
                           maxRetries: Int = 4) -> BigCommerceClient {
        BigCommerceClient(storeHash: Self.storeHash, token: Secret(Self.bcToken), baseURL: baseURL, transport: transport,
                          clock: clock, logger: Logger(sink: logs, minimumLevel: .debug), userAgent: "zbsync-tests",
                          maxRetries: maxRetries)
    }

    /// Creates an order through `POST /_sandbox/bc/orders`; returns the order as the control endpoint shows it.
    @discardableResult
    func createOrder(_ body: JSON) async throws -> JSON {
        try await control("/_sandbox/bc/orders", body)
    }

    /// Edits an order (bumps its `date_modified` to now unless `date_modified` is given).
    func editOrder(_ id: Int64, _ fields: JSONObject = JSONObject()) async throws {
        var body = fields
        body["id"] = .int64(id)
        if fields.keys.isEmpty { body["staff_notes"] = .string("edited \(UUID().uuidString.prefix(6))") }
        try await control("/_sandbox/bc/orders", .object(body))
    }

    /// A ``BigCommerceSeeder`` that writes through the sandbox's control endpoints.
    func bigCommerceSeeder() -> BigCommerceSeeder {
        BigCommerceSeeder(
            createOrder: { lines, total in
                let rows: [JSON] = lines.map { l in
                    ["name": .string("Product \(l.sku)"), "sku": .string(l.sku), "price": .decimal(l.priceExTax),
                     "quantity": .int(NSDecimalNumber(decimal: l.quantity).intValue)]
                }
                let order = try await self.createOrder(["lines": .array(rows), "tax_pct": 0, "status_id": 11,
                                                        "payment": "purchase"])
                guard let id = order["id"]?.int64 else { throw SandboxError("no order id in \(order.serializedString())") }
                guard order["total_inc_tax"]?.decimal == total else {
                    throw SandboxError("the sandbox built order \(id) with total \(order["total_inc_tax"]?.stringOrNumberText ?? "?"), "
                        + "the seeder was asked for \(total)")
                }
                return id
            },
            touchOrder: { id in
                try await self.control("/_sandbox/bc/orders", ["id": .int64(id),
                                                               "customer_message": .string("touched \(UUID().uuidString.prefix(6))")])
            },
            createRefund: { orderID, amount in
                let refund = try await self.control("/_sandbox/bc/refunds", ["order_id": .int64(orderID), "amount": .decimal(amount)])
                guard let id = refund["id"]?.int64 else { throw SandboxError("no refund id in \(refund.serializedString())") }
                return id
            },
            createCustomer: { email in
                let customer = try await self.control("/_sandbox/bc/customers", ["email": .string(email), "first_name": "Contract",
                                                                                 "last_name": "Customer"])
                guard let id = customer["id"]?.int64 else { throw SandboxError("no customer id in \(customer.serializedString())") }
                return id
            },
            advance: { seconds in try await self.advance(seconds) }
        )
    }
}

/// Expects `body` to throw a `RemoteError` for which `match` is true; `what` names the case in a failure.
func expectSandboxError(_ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                        _ body: () async throws -> Void, _ match: (RemoteError) -> Bool) async {
    do {
        try await body()
        Issue.record("expected a RemoteError \(what), got success", sourceLocation: sourceLocation)
    } catch let error as RemoteError {
        #expect(match(error), "unexpected \(error) \(what)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a RemoteError \(what), got \(error)", sourceLocation: sourceLocation)
    }
}
