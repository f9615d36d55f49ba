import Foundation
import SyncEngine

/// `taxes.mode` and `items.missing` are the engine's own enums.
typealias TaxMode = MappingSettings.TaxMode
typealias MissingItemPolicy = MappingSettings.MissingItemPolicy

/// `webhooks.verify`.
enum WebhookVerification: String, Sendable, CaseIterable {
    case signature, header, both
}

/// `webhooks.process`.
enum WebhookProcessing: String, Sendable, CaseIterable {
    case queue, immediate
}

/// Every configuration key resolved to its typed value: defaults, then `zbsync.conf`, then
/// `ZBSYNC_<SECTION>_<KEY>` environment overrides.
///
/// Invariant: a `Configuration` only exists when every value passed its key's check
/// (``ConfigFile/resolve(file:environment:)`` throws ``ConfigError`` otherwise).
struct Configuration: Sendable, Equatable {
    struct BigCommerce: Sendable, Equatable {
        /// Empty until `zbsync auth bigcommerce`.
        var storeHash: String
        var apiURL: URL
        /// 1–250.
        var pageSize: Int
    }

    struct Zoho: Sendable, Equatable {
        var region: ZohoRegion
        /// `zoho.accounts_url`, else the region's accounts server.
        var accountsURL: URL
        var organizationID: String?
        var allowCustomAPIDomain: Bool
        var requestsPerMinute: Int
        var dailyLimit: Int
        /// Empty until `zbsync auth zoho`.
        var clientID: String
    }

    struct Sync: Sendable, Equatable {
        /// nil when the file does not set it (`init` always writes it).
        var start: Date?
        var lookback: TimeInterval
        var lag: TimeInterval
        var maxAttempts: Int
        var batchSize: Int
    }

    struct Store: Sendable, Equatable {
        var timeZone: TimeZone
    }

    struct Orders: Sendable, Equatable {
        /// BigCommerce status ids that are invoiced; never contains 0, 1 or 6.
        var statuses: [Int]
        var invoicePrefix: String
        var paidWithoutTransactions: Bool
    }

    struct Payments: Sendable, Equatable {
        var mode: String
        var account: String?
        /// Gateway name (as BigCommerce reports it, lower-cased) → Zoho payment mode.
        var gatewayModes: [String: String]
    }

    struct Refunds: Sendable, Equatable {
        var creditNotePrefix: String
        var mode: String
        var account: String?
    }

    struct Taxes: Sendable, Equatable { var mode: TaxMode }

    struct Items: Sendable, Equatable {
        var missing: MissingItemPolicy
        var genericName: String
    }

    struct Webhooks: Sendable, Equatable {
        var verify: WebhookVerification
        var headerName: String
        var process: WebhookProcessing
        var maxBodyBytes: Int
    }

    struct Log: Sendable, Equatable {
        var format: LogFormat
        var level: LogLevel
    }

    /// The file the values were read from (it may not exist when only defaults and the environment apply).
    var file: URL
    var bigcommerce: BigCommerce
    var zoho: Zoho
    var sync: Sync
    var store: Store
    var orders: Orders
    var payments: Payments
    var refunds: Refunds
    var taxes: Taxes
    var items: Items
    var webhooks: Webhooks
    var log: Log

    /// Builds the typed value from checked raw values (`section.name` → text; unset keys absent).
    /// The values were validated against ``ConfigKey/all`` by the caller, so conversions cannot fail.
    init(file: URL, values: [String: String]) {
        func text(_ path: String) -> String? { values[path] }
        func string(_ path: String) -> String { values[path] ?? "" }
        func int(_ path: String) -> Int { Int(values[path] ?? "") ?? 0 }
        func bool(_ path: String) -> Bool { ConfigValueType.parseBool(values[path] ?? "") ?? false }
        func seconds(_ path: String) -> TimeInterval { TimeInterval(ConfigValueType.parseSeconds(values[path] ?? "") ?? 0) }

        self.file = file
        bigcommerce = BigCommerce(storeHash: string("bigcommerce.store_hash"),
                                  apiURL: URL(string: string("bigcommerce.api_url"))!,
                                  pageSize: int("bigcommerce.page_size"))
        let region = ZohoRegion(code: string("zoho.region")) ?? .us
        zoho = Zoho(region: region,
                    accountsURL: text("zoho.accounts_url").flatMap(URL.init(string:)) ?? region.accountsURL,
                    organizationID: text("zoho.organization_id"),
                    allowCustomAPIDomain: bool("zoho.allow_custom_api_domain"),
                    requestsPerMinute: int("zoho.requests_per_minute"),
                    dailyLimit: int("zoho.daily_limit"),
                    clientID: string("zoho.client_id"))
        sync = Sync(start: text("sync.start").flatMap(DateText.parse),
                    lookback: seconds("sync.lookback"), lag: seconds("sync.lag"),
                    maxAttempts: int("sync.max_attempts"), batchSize: int("sync.batch_size"))
        store = Store(timeZone: TimeZone(identifier: string("store.timezone")) ?? TimeZone(identifier: "UTC")!)
        orders = Orders(statuses: ConfigValueType.parseIntList(string("orders.statuses")) ?? [],
                        invoicePrefix: string("orders.invoice_prefix"),
                        paidWithoutTransactions: bool("orders.paid_without_transactions"))
        var gateways: [String: String] = [:]
        for (gateway, mode) in text("payments.gateway_modes").flatMap(ConfigValueType.parsePairs) ?? [] {
            gateways[gateway.lowercased()] = mode
        }
        payments = Payments(mode: string("payments.mode"), account: text("payments.account"), gatewayModes: gateways)
        refunds = Refunds(creditNotePrefix: string("refunds.creditnote_prefix"), mode: string("refunds.mode"),
                          account: text("refunds.account"))
        taxes = Taxes(mode: TaxMode(rawValue: string("taxes.mode")) ?? .create)
        items = Items(missing: MissingItemPolicy(rawValue: string("items.missing")) ?? .create,
                      genericName: string("items.generic_name"))
        webhooks = Webhooks(verify: WebhookVerification(rawValue: string("webhooks.verify")) ?? .signature,
                            headerName: string("webhooks.header_name"),
                            process: WebhookProcessing(rawValue: string("webhooks.process")) ?? .queue,
                            maxBodyBytes: int("webhooks.max_body_bytes"))
        let levels: [String: LogLevel] = ["debug": .debug, "info": .info, "notice": .notice, "warning": .warning, "error": .error]
        log = Log(format: LogFormat(rawValue: string("log.format")) ?? .text, level: levels[string("log.level")] ?? .info)
    }
}

extension Configuration {
    /// The engine's settings from this configuration. Facts that come from the Zoho organization
    /// (`baseCurrency`, `taxRounding`) keep their defaults here; the organization context fills them in.
    func syncSettings(start fallbackStart: Date) -> SyncSettings {
        var mapping = MappingSettings()
        mapping.invoicePrefix = orders.invoicePrefix
        mapping.creditNotePrefix = refunds.creditNotePrefix
        mapping.storeTimeZone = store.timeZone
        mapping.invoicedStatuses = Set(orders.statuses)
        mapping.taxMode = taxes.mode
        mapping.itemsMissing = items.missing
        mapping.genericItemName = items.genericName
        mapping.paymentMode = payments.mode
        mapping.gatewayModes = payments.gatewayModes
        mapping.paymentAccount = payments.account
        mapping.refundMode = refunds.mode
        mapping.refundAccount = refunds.account
        mapping.paidWithoutTransactions = orders.paidWithoutTransactions
        var settings = SyncSettings(mapping: mapping, start: sync.start ?? fallbackStart)
        settings.lookback = sync.lookback
        settings.lag = sync.lag
        settings.maxAttempts = sync.maxAttempts
        settings.pageSize = bigcommerce.pageSize
        settings.batchSize = sync.batchSize
        return settings
    }
}
