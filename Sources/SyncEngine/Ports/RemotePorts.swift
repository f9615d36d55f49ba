import Foundation

/// Which remote system an error came from.
public enum RemoteSystem: String, Sendable { case bigcommerce, zoho }

/// A failure talking to BigCommerce or Zoho Books, classified for the executor and the exit code.
/// Messages never contain tokens, secrets or request bodies.
public enum RemoteError: Error, Equatable, CustomStringConvertible {
    /// Could not reach the remote, or it kept answering 5xx to a read after the bounded retries. Exit 69.
    case unavailable(RemoteSystem, String)
    /// A write may or may not have been applied (timeout, reset, 5xx, garbled 2xx). Look up before resending.
    case unknownOutcome(RemoteSystem, String)
    /// Per-minute (Zoho 44, BigCommerce 429) or concurrency (Zoho 1070) limit; the request was not executed.
    case rateLimited(RemoteSystem, code: Int?, retryAfter: Double?)
    /// Zoho's daily quota (code 45) or the configured `zoho.daily_limit` is spent. Exit 75.
    case dailyQuotaExhausted(String)
    /// Credentials rejected and a refresh did not help (`invalid_grant`, second 401, code 57 after refresh). Exit 77.
    case authorization(RemoteSystem, String)
    /// Zoho says the record already exists (1001, 12018, 3062, 1000 "already exist"): look up and adopt.
    case duplicate(code: Int, message: String)
    /// The record does not exist (HTTP 404, Zoho 1002, 2006).
    case notFound(RemoteSystem, String)
    /// A definite refusal (validation and other 4xx): retrying the same request will not help.
    case rejected(RemoteSystem, status: Int, code: Int?, message: String)
    /// The reply could not be read (bad JSON, missing required fields) on a read. Exit 65.
    case malformed(RemoteSystem, String)

    public var description: String {
        switch self {
        case .unavailable(let s, let m): return "\(s.rawValue) unavailable: \(m)"
        case .unknownOutcome(let s, let m): return "\(s.rawValue) outcome unknown: \(m)"
        case .rateLimited(let s, let code, let after):
            return "\(s.rawValue) rate limited" + (code.map { " (code \($0))" } ?? "") + (after.map { ", retry after \(Int($0)) s" } ?? "")
        case .dailyQuotaExhausted(let m): return "Zoho daily API quota exhausted: \(m)"
        case .authorization(let s, let m): return "\(s.rawValue) authorization failed: \(m)"
        case .duplicate(let code, let m): return "Zoho says it already exists (code \(code)): \(m)"
        case .notFound(let s, let m): return "\(s.rawValue) not found: \(m)"
        case .rejected(let s, let status, let code, let m):
            return "\(s.rawValue) rejected the request (HTTP \(status)" + (code.map { ", code \($0)" } ?? "") + "): \(m)"
        case .malformed(let s, let m): return "\(s.rawValue) sent data zbsync cannot read: \(m)"
        }
    }

    /// Zoho error code, when there is one.
    public var zohoCode: Int? {
        switch self {
        case .rateLimited(.zoho, let code, _): return code
        case .duplicate(let code, _): return code
        case .rejected(.zoho, _, let code, _): return code
        default: return nil
        }
    }
}

/// A record in a BigCommerce list that could not be decoded. The rest of the page is still usable.
public struct RejectedRecord: Sendable, Equatable {
    /// `order:123` when the id could be read, else `order:?` with the position.
    public var entityKey: String
    public var reason: String
    public init(entityKey: String, reason: String) { self.entityKey = entityKey; self.reason = reason }
}

/// One page of a BigCommerce list.
public struct SourcePage<Record: Sendable & Equatable>: Sendable, Equatable {
    public var records: [Record]
    /// Records present in the reply that could not be decoded (quarantined by the caller).
    public var rejected: [RejectedRecord]
    /// True when the API says (or the short page shows) there is nothing after this page.
    public var isLastPage: Bool
    /// Cursor for the next page where the API uses one (customers v3 `end_cursor`).
    public var nextCursor: String?
    public init(records: [Record], rejected: [RejectedRecord] = [], isLastPage: Bool, nextCursor: String? = nil) {
        self.records = records; self.rejected = rejected; self.isLastPage = isLastPage; self.nextCursor = nextCursor
    }
}

/// Filters for `GET /v2/orders`. Dates are sent in UTC with an explicit offset.
public struct OrderQuery: Sendable, Equatable {
    public var modifiedFrom: Date? = nil
    public var modifiedTo: Date? = nil
    public var createdFrom: Date? = nil
    public var createdTo: Date? = nil
    /// Keyset paging: only ids ≥ this.
    public var minID: Int64? = nil
    public var maxID: Int64? = nil
    /// e.g. `id:asc`, `date_modified:asc`.
    public var sort: String = "id:asc"
    /// ≤ 250.
    public var limit: Int = 250
    public var page: Int = 1
    /// Ask for `include=consignments.line_items,fees&consignment_structure=object`.
    public var includeLines: Bool = true
    public init() {}
}

/// Reads BigCommerce. Read-only: nothing is ever written to BigCommerce.
///
/// Contract: v2 204/empty bodies are empty lists; money is exact `Decimal`; unknown fields are ignored;
/// a record that cannot be decoded is returned in `SourcePage.rejected`, a reply that cannot be parsed at all
/// throws `RemoteError.malformed`. Rate limits and 5xx are retried inside (bounded); what remains is thrown.
public protocol BigCommerceSource: Sendable {
    /// `GET /v2/time`: BigCommerce's clock.
    func serverTime() async throws -> Date
    func orders(_ query: OrderQuery) async throws -> SourcePage<BCOrder>
    /// One order with its lines (nil when it does not exist).
    func order(id: Int64) async throws -> BCOrder?
    /// Lines, paged to the end (for orders whose lines were not embedded).
    func orderProducts(orderID: Int64) async throws -> [BCOrderProduct]
    func orderTaxes(orderID: Int64) async throws -> [BCOrderTax]
    func orderCoupons(orderID: Int64) async throws -> [BCCoupon]
    func orderShipping(orderID: Int64) async throws -> [BCShipping]
    func orderFees(orderID: Int64) async throws -> [BCFee]
    func transactions(orderID: Int64) async throws -> [BCTransaction]
    /// Store-wide refunds created in `[from, to]` (inclusive), id ascending.
    func refunds(createdFrom: Date, createdTo: Date, page: Int, limit: Int) async throws -> SourcePage<BCRefund>
    func refunds(orderID: Int64) async throws -> [BCRefund]
    /// Customers modified in `[from, to]`, `date_modified:asc`, cursor-paged (`after`).
    func customers(modifiedFrom: Date, modifiedTo: Date?, after: String?, limit: Int) async throws -> SourcePage<BCCustomer>
    func customers(ids: [Int64]) async throws -> [BCCustomer]
}

/// Writes to (and looks up in) Zoho Books for one organization.
///
/// Contract: every call checks Zoho's `code` (also on HTTP 200) and throws a classified `RemoteError`.
/// A create whose outcome is unknown throws `.unknownOutcome` and is never retried inside; a duplicate
/// answer throws `.duplicate`. Lookups re-check equality on the client side (Zoho filters match loosely).
/// Every call goes through the shared limiter and counts toward the daily quota.
public protocol ZohoBooksSink: Sendable {
    func organization() async throws -> ZohoOrganization
    func currencies() async throws -> [ZohoCurrency]
    func taxes() async throws -> [ZohoTax]
    func createTax(name: String, percentage: Decimal) async throws -> ZohoTax
    func accounts() async throws -> [ZohoAccount]

    /// One page (200) of all customer contacts, for cache warm-up.
    func contactsPage(_ page: Int) async throws -> (contacts: [ZohoContact], hasMore: Bool)
    /// Contacts whose primary email equals `email` (case-insensitive exact match), including inactive ones.
    func contacts(email: String) async throws -> [ZohoContact]
    /// Contacts whose display name equals `name` exactly.
    func contacts(name: String) async throws -> [ZohoContact]
    func createContact(_ draft: ContactDraft) async throws -> ZohoContact
    func updateContact(id: String, _ draft: ContactDraft) async throws -> ZohoContact

    /// One page (200) of all items (active and inactive), for cache warm-up.
    func itemsPage(_ page: Int) async throws -> (items: [ZohoItem], hasMore: Bool)
    func items(sku: String) async throws -> [ZohoItem]
    func createItem(_ draft: ItemDraft) async throws -> ZohoItem

    /// Invoices whose number equals `number` exactly (any status).
    func invoices(number: String) async throws -> [ZohoInvoice]
    func invoice(id: String) async throws -> ZohoInvoice
    func createInvoice(_ draft: InvoiceDraft) async throws -> ZohoInvoice
    func updateInvoice(id: String, _ draft: InvoiceDraft) async throws -> ZohoInvoice
    /// Draft → sent without email. Idempotent: an invoice that is not a draft is left as is.
    func markInvoiceSent(id: String) async throws
    /// Idempotent: an invoice already void is success.
    func voidInvoice(id: String) async throws

    func creditNotes(number: String) async throws -> [ZohoCreditNote]
    func creditNote(id: String) async throws -> ZohoCreditNote
    func createCreditNote(_ draft: CreditNoteDraft) async throws -> ZohoCreditNote
    /// `PUT /creditnotes/{id}`: the note's content replaced (before it is applied or refunded), totals recomputed.
    func updateCreditNote(id: String, _ draft: CreditNoteDraft) async throws -> ZohoCreditNote
    func applyCreditNote(id: String, invoiceID: String, amount: Decimal) async throws
    func refundCreditNote(id: String, _ draft: CreditNoteRefundDraft) async throws
    /// The refunds already recorded against a credit note (`GET /creditnotes/{id}/refunds`).
    func creditNoteRefunds(id: String) async throws -> [ZohoCreditNoteRefund]

    /// Payments whose reference equals `reference` exactly, for one customer.
    func payments(reference: String, customerID: String) async throws -> [ZohoPayment]
    func createPayment(_ draft: PaymentDraft) async throws -> ZohoPayment
}
