import Foundation
import Stores
import SyncEngine

/// `zbsync doctor`: checks both connections with the stored credentials and reports whether the Zoho
/// organization fits (token, scopes, region, organization, currency, taxes, accounts).
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check both connections and whether the Zoho organization fits the configuration.",
        discussion: "Read-only: calls BigCommerce and Zoho Books with the stored credentials and changes nothing."
    )

    static let arguments: [ArgumentSpec] = [
        .flag("--json", help: "Print the report as one JSON object."),
    ]

    var json: Bool

    init(from arguments: ParsedArguments) {
        json = arguments.flag("json")
    }

    func run(_ context: AppContext) async throws -> ExitCode {
        let connections = try Connections(context)
        var checks: [(String, Bool, String)] = []
        var worst: ExitCode = .success
        func record(_ name: String, _ ok: Bool, _ detail: String, failure: ExitCode = .unavailable) {
            checks.append((name, ok, detail))
            if !ok, worst == .success { worst = failure }
        }
        do {
            let source = try connections.bigCommerce()
            let time = try await source.serverTime()
            record("bigcommerce.connection", true, "store \(connections.config.bigcommerce.storeHash) answers; its clock is \(Int(time.timeIntervalSince(context.clock.now()))) s from ours")
            var q = OrderQuery()
            q.limit = 1
            q.includeLines = false
            _ = try await source.orders(q)
            record("bigcommerce.orders", true, "the token can read orders")
            _ = try await source.customers(modifiedFrom: Date(timeIntervalSince1970: 0), modifiedTo: nil, after: nil, limit: 1)
            record("bigcommerce.customers", true, "the token can read customers")
        } catch {
            let failure = FailureReport(for: error)
            record("bigcommerce", false, failure.message, failure: failure.exitCode)
        }
        do {
            let zoho = try connections.zoho()
            let org = try await zoho.organization()
            record("zoho.organization", true, "\(org.name) (\(org.organizationID)), base currency \(org.currencyCode), plan \(org.planName.isEmpty ? "unknown" : org.planName)")
            let taxes = try await zoho.taxes()
            record("zoho.taxes", true, taxes.isEmpty ? "no taxes defined (taxes.mode = \(connections.config.taxes.mode.rawValue))" : taxes.map { "\($0.name) \($0.percentage.plainString)%" }.joined(separator: ", "))
            let currencies = try await zoho.currencies()
            record("zoho.currencies", true, currencies.map(\.currencyCode).joined(separator: ", "))
            let accounts = try await zoho.accounts()
            for (key, wanted) in [("payments.account", connections.config.payments.account), ("refunds.account", connections.config.refunds.account)] {
                guard let wanted, !wanted.isEmpty else { continue }
                let found = accounts.contains { $0.accountID == wanted || $0.name.lowercased() == wanted.lowercased() }
                record("zoho.\(key)", found, found ? "\(wanted) exists" : "no Zoho account named \(wanted)", failure: .configuration)
            }
            if let session = try connections.store.zohoSession() {
                record("zoho.token", true, "access token valid until \(ISO8601DateFormatter().string(from: session.expiresAt))")
            }
        } catch {
            let failure = FailureReport(for: error)
            record("zoho", false, failure.message, failure: failure.exitCode)
        }
        if json {
            context.output.print(JSON.array(checks.map { ["check": .string($0.0), "ok": .bool($0.1), "detail": .string($0.2)] }).serializedString(sortedKeys: true))
        } else {
            for (name, ok, detail) in checks { context.output.print("\(ok ? "ok  " : "FAIL") \(name): \(detail)") }
        }
        if worst != .success { throw CommandFailure(worst, "some checks failed; see above") }
        return .success
    }
}
