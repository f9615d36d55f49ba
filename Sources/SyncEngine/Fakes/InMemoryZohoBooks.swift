import Foundation

/// Zoho Books in memory, with the semantics the connector relies on (the same contract as ``ZohoBooksClient``):
///
/// - invoice and credit-note numbers are unique (`.duplicate` 1001 / 12018), contact display names are unique
///   (3062), item names are unique (1000 "already exist");
/// - invoices are created as `draft`; a credit applied to a draft invoice is refused (12005); payments on a draft
///   invoice are refused too (``rejectsPaymentsOnDraftInvoices``); a payment above the balance is refused (24016);
/// - totals follow Zoho's computation (``ZohoTotals``) with the organization's tax percentages (not the ones the
///   caller predicted) and ``taxRounding``; balances and statuses (`sent`, `partially_paid`, `paid`, `void`) follow
///   payments and credits; voiding unapplies payments and credits (they become customer credit);
/// - lookups match exactly (email case-insensitively), like the client's client-side re-check.
///
/// It counts requests per operation (reads and writes), can log them with a clock for window checks, and injects
/// faults: ``failNext(_:with:times:)`` fails before anything is applied, ``applyThenFail(_:with:)`` applies the
/// request and then throws (by default `.unknownOutcome`: "applied, but the reply was lost").
public final class InMemoryZohoBooks: ZohoBooksSink, @unchecked Sendable {
    /// Every call of the port, for counters and fault injection.
    public enum Operation: String, CaseIterable, Sendable {
        case organization, currencies, taxes, createTax, accounts
        case contactsPage, contactsByEmail, contactsByName, createContact, updateContact
        case itemsPage, itemsBySKU, createItem
        case invoicesByNumber, invoice, createInvoice, updateInvoice, markInvoiceSent, voidInvoice
        case creditNotesByNumber, creditNote, createCreditNote, updateCreditNote, applyCreditNote, refundCreditNote, creditNoteRefunds
        case paymentsByReference, createPayment

        /// True for calls that change Zoho's state.
        public var isWrite: Bool {
            switch self {
            case .createTax, .createContact, .updateContact, .createItem, .createInvoice, .updateInvoice, .markInvoiceSent,
                 .voidInvoice, .createCreditNote, .updateCreditNote, .applyCreditNote, .refundCreditNote, .createPayment:
                return true
            default:
                return false
            }
        }
    }

    /// An invoice with everything Zoho computed for it.
    public struct StoredInvoice: Sendable, Equatable {
        public var invoiceID: String
        public var invoiceNumber: String
        public var referenceNumber: String
        public var customerID: String
        public var date: String
        public var currencyCode: String
        public var exchangeRate: Decimal?
        public var isInclusiveTax: Bool
        /// Lines as stored: `taxPercentage` is the organization's percentage of `taxID`.
        public var lines: [DocumentLine]
        public var lineItemIDs: [String]
        public var lineTotals: [Decimal]
        public var adjustment: Decimal
        public var adjustmentDescription: String
        public var subTotal: Decimal
        public var taxTotal: Decimal
        public var total: Decimal
        public var status: String
        public var paymentMade: Decimal
        public var creditsApplied: Decimal
        public var balance: Decimal
        /// How many times the invoice was updated after creation.
        public var updates: Int

        /// The record as the port returns it.
        public var record: ZohoInvoice {
            var r = ZohoInvoice(invoiceID: invoiceID, invoiceNumber: invoiceNumber, status: status)
            r.referenceNumber = referenceNumber
            r.customerID = customerID
            r.currencyCode = currencyCode
            r.total = total
            r.balance = balance
            r.adjustment = adjustment
            r.paymentMade = paymentMade
            r.creditsApplied = creditsApplied
            r.lineItemIDs = lineItemIDs
            return r
        }
    }

    public struct StoredCreditNote: Sendable, Equatable {
        public var creditNoteID: String
        public var creditNoteNumber: String
        public var referenceNumber: String
        public var customerID: String
        /// The invoice the note was created for (query `invoice_id`), if any.
        public var invoiceID: String?
        public var currencyCode: String
        public var lines: [DocumentLine]
        public var subTotal: Decimal
        public var taxTotal: Decimal
        public var total: Decimal
        public var balance: Decimal
        public var status: String
        /// Credits applied: invoice id and amount.
        public var applications: [Application]
        public var refunds: [CreditNoteRefundDraft]

        public struct Application: Sendable, Equatable {
            public var invoiceID: String
            public var amount: Decimal
        }

        public var record: ZohoCreditNote {
            var r = ZohoCreditNote(creditNoteID: creditNoteID, creditNoteNumber: creditNoteNumber, status: status)
            r.total = total
            r.balance = balance
            return r
        }
    }

    public struct StoredPayment: Sendable, Equatable {
        public var paymentID: String
        public var draft: PaymentDraft
        /// Amount still applied to `draft.invoiceID` (0 after the invoice was voided: customer credit).
        public var amountApplied: Decimal

        public var record: ZohoPayment {
            var r = ZohoPayment(paymentID: paymentID, referenceNumber: draft.referenceNumber, amount: draft.amount)
            r.customerID = draft.customerID
            return r
        }
    }

    private struct StoredContact {
        var contact: ZohoContact
        var draft: ContactDraft
    }

    private enum Phase { case before, after }
    private struct Fault { var phase: Phase; var error: Error }

    private let lock = NSLock()
    private let clock: (any SyncClock)?
    private var org: ZohoOrganization
    private var currencyList: [ZohoCurrency]
    private var taxList: [ZohoTax] = []
    private var accountList: [ZohoAccount]
    private var contactStore: [StoredContact] = []
    private var itemStore: [ZohoItem] = []
    private var invoiceStore: [StoredInvoice] = []
    private var creditNoteStore: [StoredCreditNote] = []
    private var paymentStore: [StoredPayment] = []
    private var sequence = 0
    private var counts: [Operation: Int] = [:]
    private var callTimes: [(Date, Operation)] = []
    private var faults: [Operation: [Fault]] = [:]
    private var fired: [String: Int] = [:]
    private var rounding: ZohoTaxRounding
    private var draftPaymentsRefused = true
    private var refundsLowerBalance = true
    private var lookupMisses: [Operation: Int] = [:]

    /// - Parameters:
    ///   - currencyCodes: enabled currencies besides the base currency.
    ///   - clock: when given, every call's time is logged for ``maxCalls(inAnyWindowOf:)``.
    public init(organization: ZohoOrganization = InMemoryZohoBooks.defaultOrganization,
                currencyCodes: [String] = ["USD", "EUR", "GBP", "CAD", "AUD"],
                taxRounding: ZohoTaxRounding = .entityLevel, clock: (any SyncClock)? = nil) {
        self.org = organization
        self.rounding = taxRounding
        self.clock = clock
        var codes = [organization.currencyCode]
        for c in currencyCodes where !codes.contains(c.uppercased()) { codes.append(c.uppercased()) }
        var list: [ZohoCurrency] = []
        for (i, code) in codes.enumerated() {
            var c = ZohoCurrency(currencyID: String(982_000_000_001_000 + i), currencyCode: code)
            c.isBase = i == 0
            list.append(c)
        }
        currencyList = list
        if org.currencyID.isEmpty { org.currencyID = list[0].currencyID }
        accountList = [
            ZohoAccount(accountID: "982000000002001", name: "Undeposited Funds", type: "cash"),
            ZohoAccount(accountID: "982000000002002", name: "Petty Cash", type: "cash"),
            ZohoAccount(accountID: "982000000002003", name: "Business Checking", type: "bank"),
            ZohoAccount(accountID: "982000000002004", name: "Sales", type: "income"),
        ]
    }

    public static var defaultOrganization: ZohoOrganization {
        var o = ZohoOrganization(organizationID: "10234695", name: "Demo Store Books", currencyCode: "USD")
        o.timeZone = "UTC"
        o.planName = "PROFESSIONAL"
        o.isDefault = true
        return o
    }

    // MARK: Settings and inspection

    /// The organization's tax rounding (applies to documents created or updated afterwards).
    public var taxRounding: ZohoTaxRounding {
        get { lock.withLock { rounding } }
        set { lock.withLock { rounding = newValue } }
    }

    /// Refuse payments on draft invoices (Zoho's behaviour here is unverified; the connector marks invoices sent
    /// first either way).
    /// False: a credit-note refund is recorded but leaves the note's `balance` as it was (the references do not
    /// say that a refund lowers it), so callers cannot rely on the balance alone.
    public var creditNoteRefundsLowerTheBalance: Bool {
        get { lock.withLock { refundsLowerBalance } }
        set { lock.withLock { refundsLowerBalance = newValue } }
    }

    public var rejectsPaymentsOnDraftInvoices: Bool {
        get { lock.withLock { draftPaymentsRefused } }
        set { lock.withLock { draftPaymentsRefused = newValue } }
    }

    public var allInvoices: [StoredInvoice] { lock.withLock { invoiceStore } }
    public var allCreditNotes: [StoredCreditNote] { lock.withLock { creditNoteStore } }
    public var allPayments: [StoredPayment] { lock.withLock { paymentStore } }
    public var allContacts: [ZohoContact] { lock.withLock { contactStore.map(\.contact) } }
    public var allItems: [ZohoItem] { lock.withLock { itemStore } }
    public var allTaxes: [ZohoTax] { lock.withLock { taxList } }

    public func storedInvoice(number: String) -> StoredInvoice? {
        lock.withLock { invoiceStore.first { $0.invoiceNumber == number } }
    }

    public func storedCreditNote(number: String) -> StoredCreditNote? {
        lock.withLock { creditNoteStore.first { $0.creditNoteNumber == number } }
    }

    /// Calls of one operation since the last ``resetCounters()``, failed ones included.
    public func requestCount(_ operation: Operation) -> Int { lock.withLock { counts[operation] ?? 0 } }
    public var readCount: Int { lock.withLock { counts.filter { !$0.key.isWrite }.values.reduce(0, +) } }
    public var writeCount: Int { lock.withLock { counts.filter { $0.key.isWrite }.values.reduce(0, +) } }
    public var totalRequests: Int { lock.withLock { counts.values.reduce(0, +) } }

    public func resetCounters() {
        lock.withLock {
            counts = [:]
            callTimes = []
        }
    }

    /// The largest number of calls inside any window of `seconds` (needs the clock given at init).
    public func maxCalls(inAnyWindowOf seconds: Double = 60) -> Int {
        let times = lock.withLock { callTimes.map(\.0) }.sorted()
        var best = 0
        var start = 0
        for end in times.indices {
            while times[end].timeIntervalSince(times[start]) >= seconds { start += 1 }
            best = max(best, end - start + 1)
        }
        return best
    }

    // MARK: Faults

    /// The next `times` calls of `operation` throw `error` and change nothing.
    public func failNext(_ operation: Operation, with error: Error, times: Int = 1) {
        lock.withLock {
            for _ in 0..<max(1, times) { faults[operation, default: []].append(Fault(phase: .before, error: error)) }
        }
    }

    /// The next call of `operation` is applied, then throws `error` (the reply was lost).
    public func applyThenFail(_ operation: Operation,
                              with error: Error = RemoteError.unknownOutcome(.zoho, "the reply was lost after Zoho applied the request")) {
        lock.withLock { faults[operation, default: []].append(Fault(phase: .after, error: error)) }
    }

    /// The next `times` calls of a lookup (`paymentsByReference`, `itemsBySKU`) find nothing, as when the document
    /// is created by a request Zoho has not finished yet (it lands after the lookup).
    public func missNextLookup(_ operation: Operation, times: Int = 1) {
        lock.withLock { lookupMisses[operation, default: 0] += times }
    }

    /// True (and one miss spent) when a lookup of `operation` is to find nothing. Called under the lock.
    private func missesLookup(_ operation: Operation) -> Bool {
        guard let left = lookupMisses[operation], left > 0 else { return false }
        lookupMisses[operation] = left - 1
        return true
    }

    /// Removes every pending fault.
    public func clearFaults() { lock.withLock { faults = [:] } }

    /// The faults that really fired, by kind (`createInvoice: crash after applying`, `createItem: lost reply after
    /// applying`), for the fault suite's report. Not reset by ``resetCounters()``.
    public var firedFaults: [String: Int] { lock.withLock { fired } }

    private func noteFired(_ operation: Operation, _ fault: Fault) {
        let what: String
        switch fault.error {
        case is SimulatedCrash: what = "crash"
        case RemoteError.unknownOutcome: what = "lost reply"
        case let e as RemoteError: what = String("\(e)".prefix(while: { $0 != ":" }))
        default: what = "\(type(of: fault.error))"
        }
        fired["\(operation): \(what) \(fault.phase == .before ? "before" : "after") applying", default: 0] += 1
    }

    /// Runs `body` under the lock as one call of `operation`: counted, then faults injected around it.
    private func perform<T>(_ operation: Operation, _ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        counts[operation, default: 0] += 1
        if let clock { callTimes.append((clock.now(), operation)) }
        if let first = faults[operation]?.first, first.phase == .before {
            faults[operation]?.removeFirst()
            noteFired(operation, first)
            throw first.error
        }
        let result = try body()
        if let first = faults[operation]?.first, first.phase == .after {
            faults[operation]?.removeFirst()
            noteFired(operation, first)
            throw first.error
        }
        return result
    }

    private func newID() -> String {
        sequence += 1
        return String(982_000_000_100_000 + sequence)
    }

    private static func invalid(_ message: String, code: Int = 2) -> RemoteError {
        .rejected(.zoho, status: 400, code: code, message: message)
    }

    // MARK: Organization, currencies, taxes, accounts

    public func organization() async throws -> ZohoOrganization { try perform(.organization) { org } }
    public func currencies() async throws -> [ZohoCurrency] { try perform(.currencies) { currencyList } }
    public func taxes() async throws -> [ZohoTax] { try perform(.taxes) { taxList } }
    public func accounts() async throws -> [ZohoAccount] { try perform(.accounts) { accountList } }

    public func createTax(name: String, percentage: Decimal) async throws -> ZohoTax {
        try perform(.createTax) {
            guard !name.isEmpty else { throw Self.invalid("Enter a tax name") }
            guard percentage >= 0, percentage <= 100 else { throw Self.invalid("Invalid value passed for tax_percentage") }
            let tax = ZohoTax(taxID: newID(), name: name, percentage: percentage)
            taxList.append(tax)
            return tax
        }
    }

    // MARK: Contacts

    public func contactsPage(_ page: Int) async throws -> (contacts: [ZohoContact], hasMore: Bool) {
        try perform(.contactsPage) { Self.slice(contactStore.map(\.contact), page: page) }
    }

    public func contacts(email: String) async throws -> [ZohoContact] {
        try perform(.contactsByEmail) {
            let wanted = email.lowercased()
            return contactStore.filter { !wanted.isEmpty && $0.contact.email.lowercased() == wanted }.map(\.contact)
        }
    }

    public func contacts(name: String) async throws -> [ZohoContact] {
        try perform(.contactsByName) { contactStore.filter { $0.contact.contactName == name }.map(\.contact) }
    }

    public func createContact(_ draft: ContactDraft) async throws -> ZohoContact {
        try perform(.createContact) {
            try validateContact(draft, excluding: nil)
            guard currency(draft.currencyCode) != nil else { throw Self.invalid("This currency does not exist.", code: 9004) }
            var c = ZohoContact(contactID: newID(), contactName: draft.contactName)
            c.email = draft.email
            c.currencyCode = draft.currencyCode.uppercased()
            c.status = "active"
            contactStore.append(StoredContact(contact: c, draft: draft))
            return c
        }
    }

    public func updateContact(id: String, _ draft: ContactDraft) async throws -> ZohoContact {
        try perform(.updateContact) {
            guard let i = contactStore.firstIndex(where: { $0.contact.contactID == id }) else {
                throw RemoteError.notFound(.zoho, "Contact does not exist.")
            }
            try validateContact(draft, excluding: id)
            contactStore[i].contact.contactName = draft.contactName
            contactStore[i].contact.email = draft.email
            // The currency stays: Zoho does not change it once the contact has transactions.
            contactStore[i].draft = draft
            return contactStore[i].contact
        }
    }

    private func validateContact(_ draft: ContactDraft, excluding id: String?) throws {
        guard !draft.contactName.trimmingCharacters(in: .whitespaces).isEmpty, draft.contactName.count <= 200 else {
            throw Self.invalid("Enter a valid Contact Name", code: 3013)
        }
        if contactStore.contains(where: { $0.contact.contactID != id && $0.contact.contactName.lowercased() == draft.contactName.lowercased() }) {
            throw RemoteError.duplicate(code: 3062, message: "The contact already exists.Please specify a different name")
        }
    }

    // MARK: Items

    public func itemsPage(_ page: Int) async throws -> (items: [ZohoItem], hasMore: Bool) {
        try perform(.itemsPage) { Self.slice(itemStore, page: page) }
    }

    public func items(sku: String) async throws -> [ZohoItem] {
        try perform(.itemsBySKU) { missesLookup(.itemsBySKU) ? [] : itemStore.filter { !sku.isEmpty && $0.sku == sku } }
    }

    public func createItem(_ draft: ItemDraft) async throws -> ZohoItem {
        try perform(.createItem) {
            let name = String(draft.name.prefix(100))
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw Self.invalid("Enter a name for the item") }
            if itemStore.contains(where: { $0.name.lowercased() == name.lowercased() }) {
                throw RemoteError.duplicate(code: 1000, message: "The item name already exist")
            }
            if let tax = draft.taxID, !taxList.contains(where: { $0.taxID == tax }) {
                throw Self.invalid("Invalid value passed for tax_id")
            }
            var item = ZohoItem(itemID: newID(), name: name)
            item.sku = draft.sku
            item.rate = draft.rate
            itemStore.append(item)
            return item
        }
    }

    // MARK: Invoices

    public func invoices(number: String) async throws -> [ZohoInvoice] {
        try perform(.invoicesByNumber) { invoiceStore.filter { $0.invoiceNumber == number }.map(\.record) }
    }

    public func invoice(id: String) async throws -> ZohoInvoice {
        try perform(.invoice) {
            guard let inv = invoiceStore.first(where: { $0.invoiceID == id }) else {
                throw RemoteError.notFound(.zoho, "Invoice does not exist.")
            }
            return inv.record
        }
    }

    public func createInvoice(_ draft: InvoiceDraft) async throws -> ZohoInvoice {
        try perform(.createInvoice) {
            if invoiceStore.contains(where: { $0.invoiceNumber.lowercased() == draft.invoiceNumber.lowercased() }) {
                throw RemoteError.duplicate(code: 1001, message: "Invoice Number already exist")
            }
            let lines = try validateDocument(customerID: draft.customerID, currencyCode: draft.currencyCode,
                                             number: draft.invoiceNumber, lines: draft.lines)
            let totals = ZohoTotals.compute(lines: lines, isInclusiveTax: draft.isInclusiveTax, adjustment: draft.adjustment,
                                            taxRounding: rounding)
            let inv = StoredInvoice(invoiceID: newID(), invoiceNumber: draft.invoiceNumber,
                                    referenceNumber: draft.referenceNumber, customerID: draft.customerID, date: draft.date,
                                    currencyCode: draft.currencyCode.uppercased(), exchangeRate: draft.exchangeRate,
                                    isInclusiveTax: draft.isInclusiveTax, lines: lines,
                                    lineItemIDs: lines.map { _ in newID() }, lineTotals: totals.lineTotals,
                                    adjustment: draft.adjustment, adjustmentDescription: draft.adjustmentDescription,
                                    subTotal: totals.subTotal, taxTotal: totals.taxTotal, total: totals.total,
                                    status: "draft", paymentMade: 0, creditsApplied: 0, balance: totals.total, updates: 0)
            invoiceStore.append(inv)
            return inv.record
        }
    }

    public func updateInvoice(id: String, _ draft: InvoiceDraft) async throws -> ZohoInvoice {
        try perform(.updateInvoice) {
            guard let i = invoiceStore.firstIndex(where: { $0.invoiceID == id }) else {
                throw RemoteError.notFound(.zoho, "Invoice does not exist.")
            }
            var inv = invoiceStore[i]
            guard inv.status != "void" else { throw Self.invalid("Voided invoices cannot be edited", code: 1) }
            if invoiceStore.contains(where: { $0.invoiceID != id && $0.invoiceNumber.lowercased() == draft.invoiceNumber.lowercased() }) {
                throw RemoteError.duplicate(code: 1001, message: "Invoice Number already exist")
            }
            if draft.customerID != inv.customerID, inv.paymentMade > 0 {
                throw Self.invalid("The customer cannot be changed as payments have been recorded for this invoice", code: 3010)
            }
            let lines = try validateDocument(customerID: draft.customerID, currencyCode: draft.currencyCode,
                                             number: draft.invoiceNumber, lines: draft.lines)
            let totals = ZohoTotals.compute(lines: lines, isInclusiveTax: draft.isInclusiveTax, adjustment: draft.adjustment,
                                            taxRounding: rounding)
            let settled = inv.paymentMade + inv.creditsApplied
            guard totals.total >= settled else {
                throw Self.invalid("The invoice total cannot be less than the payments and credits applied to it", code: 1)
            }
            inv.invoiceNumber = draft.invoiceNumber
            inv.referenceNumber = draft.referenceNumber
            inv.customerID = draft.customerID
            inv.date = draft.date
            inv.currencyCode = draft.currencyCode.uppercased()
            inv.exchangeRate = draft.exchangeRate
            inv.isInclusiveTax = draft.isInclusiveTax
            inv.lines = lines
            inv.lineItemIDs = lines.indices.map { $0 < inv.lineItemIDs.count ? inv.lineItemIDs[$0] : newID() }
            inv.lineTotals = totals.lineTotals
            inv.adjustment = draft.adjustment
            inv.adjustmentDescription = draft.adjustmentDescription
            inv.subTotal = totals.subTotal
            inv.taxTotal = totals.taxTotal
            inv.total = totals.total
            inv.balance = totals.total - settled
            inv.updates += 1
            if inv.status != "draft" { inv.status = Self.settledStatus(inv) }
            invoiceStore[i] = inv
            return inv.record
        }
    }

    public func markInvoiceSent(id: String) async throws {
        try perform(.markInvoiceSent) {
            guard let i = invoiceStore.firstIndex(where: { $0.invoiceID == id }) else {
                throw RemoteError.notFound(.zoho, "Invoice does not exist.")
            }
            if invoiceStore[i].status == "draft" { invoiceStore[i].status = Self.settledStatus(invoiceStore[i]) }
        }
    }

    public func voidInvoice(id: String) async throws {
        try perform(.voidInvoice) {
            guard let i = invoiceStore.firstIndex(where: { $0.invoiceID == id }) else {
                throw RemoteError.notFound(.zoho, "Invoice does not exist.")
            }
            guard invoiceStore[i].status != "void" else { return }
            for p in paymentStore.indices where paymentStore[p].draft.invoiceID == id {
                paymentStore[p].amountApplied = 0
            }
            for c in creditNoteStore.indices {
                let applied = creditNoteStore[c].applications.filter { $0.invoiceID == id }.reduce(Decimal(0)) { $0 + $1.amount }
                guard applied > 0 else { continue }
                creditNoteStore[c].applications.removeAll { $0.invoiceID == id }
                creditNoteStore[c].balance += applied
                if creditNoteStore[c].status == "closed" { creditNoteStore[c].status = "open" }
            }
            invoiceStore[i].paymentMade = 0
            invoiceStore[i].creditsApplied = 0
            invoiceStore[i].balance = 0
            invoiceStore[i].status = "void"
        }
    }

    /// `sent`, `partially_paid` or `paid` from the balance (for an invoice that is not a draft and not void).
    private static func settledStatus(_ inv: StoredInvoice) -> String {
        if inv.balance <= 0 { return "paid" }
        if inv.paymentMade + inv.creditsApplied > 0 { return "partially_paid" }
        return "sent"
    }

    /// Checks customer, currency, items and taxes; returns the lines with the organization's tax percentages.
    private func validateDocument(customerID: String, currencyCode: String, number: String, lines: [DocumentLine]) throws -> [DocumentLine] {
        guard !number.isEmpty, number.count <= 100 else { throw Self.invalid("Invalid value passed for the document number") }
        guard let contact = contactStore.first(where: { $0.contact.contactID == customerID }) else {
            throw RemoteError.notFound(.zoho, "Contact does not exist.")
        }
        guard currency(currencyCode) != nil else { throw Self.invalid("This currency does not exist.", code: 9004) }
        guard contact.contact.currencyCode == currencyCode.uppercased() else {
            throw Self.invalid("Invalid value passed for currency_id: the customer's currency is \(contact.contact.currencyCode)")
        }
        guard !lines.isEmpty else { throw Self.invalid("Add at least one line item") }
        return try lines.map { line in
            var l = line
            guard line.quantity > 0 else { throw Self.invalid("Invalid value passed for quantity") }
            guard line.name.count <= 100 else { throw Self.invalid("Invalid value passed for name") }
            if let item = line.itemID, !itemStore.contains(where: { $0.itemID == item }) {
                throw RemoteError.notFound(.zoho, "Item does not exist.")
            }
            if let taxID = line.taxID {
                guard let tax = taxList.first(where: { $0.taxID == taxID }) else {
                    throw Self.invalid("Invalid value passed for tax_id")
                }
                l.taxPercentage = tax.percentage
            } else {
                l.taxPercentage = 0
            }
            return l
        }
    }

    private func currency(_ code: String) -> ZohoCurrency? {
        currencyList.first { $0.currencyCode == code.uppercased() }
    }

    // MARK: Credit notes

    public func creditNotes(number: String) async throws -> [ZohoCreditNote] {
        try perform(.creditNotesByNumber) { creditNoteStore.filter { $0.creditNoteNumber == number }.map(\.record) }
    }

    public func creditNote(id: String) async throws -> ZohoCreditNote {
        try perform(.creditNote) {
            guard let cn = creditNoteStore.first(where: { $0.creditNoteID == id }) else {
                throw RemoteError.notFound(.zoho, "Credit Note does not exist.")
            }
            return cn.record
        }
    }

    public func createCreditNote(_ draft: CreditNoteDraft) async throws -> ZohoCreditNote {
        try perform(.createCreditNote) {
            if creditNoteStore.contains(where: { $0.creditNoteNumber.lowercased() == draft.creditNoteNumber.lowercased() }) {
                throw RemoteError.duplicate(code: 12018, message: "The specified Credit Note Number already exists")
            }
            let lines = try validateDocument(customerID: draft.customerID, currencyCode: draft.currencyCode,
                                             number: draft.creditNoteNumber, lines: draft.lines)
            if let invoiceID = draft.invoiceID {
                guard let inv = invoiceStore.first(where: { $0.invoiceID == invoiceID }) else {
                    throw RemoteError.notFound(.zoho, "Invoice does not exist.")
                }
                guard inv.customerID == draft.customerID else { throw Self.invalid("Invalid value passed for invoice_id") }
            }
            let totals = ZohoTotals.compute(lines: lines, isInclusiveTax: draft.isInclusiveTax, adjustment: draft.adjustment,
                                            taxRounding: rounding)
            guard totals.total > 0 else { throw Self.invalid("The credit note total must be greater than zero") }
            let cn = StoredCreditNote(creditNoteID: newID(), creditNoteNumber: draft.creditNoteNumber,
                                      referenceNumber: draft.referenceNumber, customerID: draft.customerID,
                                      invoiceID: draft.invoiceID, currencyCode: draft.currencyCode.uppercased(), lines: lines,
                                      subTotal: totals.subTotal, taxTotal: totals.taxTotal, total: totals.total,
                                      balance: totals.total, status: "open", applications: [], refunds: [])
            creditNoteStore.append(cn)
            return cn.record
        }
    }

    public func updateCreditNote(id: String, _ draft: CreditNoteDraft) async throws -> ZohoCreditNote {
        try perform(.updateCreditNote) {
            guard let c = creditNoteStore.firstIndex(where: { $0.creditNoteID == id }) else {
                throw RemoteError.notFound(.zoho, "Credit Note does not exist.")
            }
            var cn = creditNoteStore[c]
            guard cn.status != "void", cn.applications.isEmpty, cn.refunds.isEmpty else {
                throw Self.invalid("A credit note that has been applied or refunded cannot be edited", code: 12014)
            }
            if creditNoteStore.contains(where: { $0.creditNoteID != id && $0.creditNoteNumber.lowercased() == draft.creditNoteNumber.lowercased() }) {
                throw RemoteError.duplicate(code: 12018, message: "The specified Credit Note Number already exists")
            }
            let lines = try validateDocument(customerID: draft.customerID, currencyCode: draft.currencyCode,
                                             number: draft.creditNoteNumber, lines: draft.lines)
            let totals = ZohoTotals.compute(lines: lines, isInclusiveTax: draft.isInclusiveTax, adjustment: draft.adjustment,
                                            taxRounding: rounding)
            guard totals.total > 0 else { throw Self.invalid("The credit note total must be greater than zero") }
            cn.creditNoteNumber = draft.creditNoteNumber
            cn.referenceNumber = draft.referenceNumber
            cn.lines = lines
            cn.subTotal = totals.subTotal
            cn.taxTotal = totals.taxTotal
            cn.total = totals.total
            cn.balance = totals.total
            creditNoteStore[c] = cn
            return cn.record
        }
    }

    public func applyCreditNote(id: String, invoiceID: String, amount: Decimal) async throws {
        try perform(.applyCreditNote) {
            guard let c = creditNoteStore.firstIndex(where: { $0.creditNoteID == id }) else {
                throw RemoteError.notFound(.zoho, "Credit Note does not exist.")
            }
            guard let i = invoiceStore.firstIndex(where: { $0.invoiceID == invoiceID }) else {
                throw RemoteError.notFound(.zoho, "Invoice does not exist.")
            }
            switch creditNoteStore[c].status {
            case "closed": throw Self.invalid("Closed credit notes cannot be applied to invoices", code: 12003)
            case "void": throw Self.invalid("Void credit notes cannot be applied to invoices", code: 12004)
            default: break
            }
            switch invoiceStore[i].status {
            case "draft": throw Self.invalid("Credits cannot be applied to invoices in the draft status", code: 12005)
            case "void": throw Self.invalid("Credits cannot be applied to void invoices", code: 12007)
            case "paid": throw Self.invalid("Credits cannot be applied to closed invoices", code: 12006)
            default: break
            }
            guard amount > 0 else { throw Self.invalid("Invalid value passed for amount_applied") }
            guard amount <= creditNoteStore[c].balance else {
                throw Self.invalid("The amount applied is more than the credit note's balance", code: 12009)
            }
            guard amount <= invoiceStore[i].balance else {
                throw Self.invalid("The amount applied is more than the balance due for this invoice", code: 24016)
            }
            creditNoteStore[c].applications.append(.init(invoiceID: invoiceID, amount: amount))
            creditNoteStore[c].balance -= amount
            if creditNoteStore[c].balance == 0 { creditNoteStore[c].status = "closed" }
            invoiceStore[i].creditsApplied += amount
            invoiceStore[i].balance -= amount
            invoiceStore[i].status = Self.settledStatus(invoiceStore[i])
        }
    }

    public func refundCreditNote(id: String, _ draft: CreditNoteRefundDraft) async throws {
        try perform(.refundCreditNote) {
            guard let c = creditNoteStore.firstIndex(where: { $0.creditNoteID == id }) else {
                throw RemoteError.notFound(.zoho, "Credit Note does not exist.")
            }
            guard creditNoteStore[c].status == "open" else {
                throw Self.invalid("Only open credit notes can be refunded", code: 12003)
            }
            guard draft.amount > 0, draft.amount <= creditNoteStore[c].balance else {
                throw Self.invalid("The refund amount is more than the credit note's balance", code: 12009)
            }
            if let account = draft.fromAccountID, !accountList.contains(where: { $0.accountID == account }) {
                throw Self.invalid("Invalid value passed for from_account_id")
            }
            creditNoteStore[c].refunds.append(draft)
            if refundsLowerBalance {
                creditNoteStore[c].balance -= draft.amount
                if creditNoteStore[c].balance == 0 { creditNoteStore[c].status = "closed" }
            }
        }
    }

    public func creditNoteRefunds(id: String) async throws -> [ZohoCreditNoteRefund] {
        try perform(.creditNoteRefunds) {
            guard let cn = creditNoteStore.first(where: { $0.creditNoteID == id }) else {
                throw RemoteError.notFound(.zoho, "Credit Note does not exist.")
            }
            return cn.refunds.enumerated().map { i, r in
                ZohoCreditNoteRefund(refundID: "\(id)-r\(i + 1)", amount: r.amount, referenceNumber: r.referenceNumber)
            }
        }
    }

    // MARK: Payments

    public func payments(reference: String, customerID: String) async throws -> [ZohoPayment] {
        try perform(.paymentsByReference) {
            if missesLookup(.paymentsByReference) { return [] }
            return paymentStore.filter { $0.draft.referenceNumber == reference && $0.draft.customerID == customerID }.map(\.record)
        }
    }

    public func createPayment(_ draft: PaymentDraft) async throws -> ZohoPayment {
        try perform(.createPayment) {
            guard contactStore.contains(where: { $0.contact.contactID == draft.customerID }) else {
                throw Self.invalid("Customer details are blank or incorrect", code: 3004)
            }
            guard let i = invoiceStore.firstIndex(where: { $0.invoiceID == draft.invoiceID }) else {
                throw RemoteError.notFound(.zoho, "Invoice does not exist.")
            }
            let inv = invoiceStore[i]
            guard inv.customerID == draft.customerID else { throw Self.invalid("Invalid value passed for invoice_id") }
            guard inv.status != "void" else { throw Self.invalid("Payments cannot be recorded for void invoices") }
            if draftPaymentsRefused, inv.status == "draft" {
                throw RemoteError.rejected(.zoho, status: 400, code: nil, message: "Payments cannot be recorded for invoices in the draft status")
            }
            guard draft.amount > 0 else { throw Self.invalid("Invalid value passed for amount") }
            guard draft.amount <= inv.balance else {
                throw Self.invalid("The amount entered is more than the balance due for this invoice", code: 24016)
            }
            if let account = draft.accountID, !accountList.contains(where: { $0.accountID == account }) {
                throw Self.invalid("Invalid value passed for account_id")
            }
            let payment = StoredPayment(paymentID: newID(), draft: draft, amountApplied: draft.amount)
            paymentStore.append(payment)
            invoiceStore[i].paymentMade += draft.amount
            invoiceStore[i].balance -= draft.amount
            invoiceStore[i].status = Self.settledStatus(invoiceStore[i])
            return payment.record
        }
    }

    // MARK: Paging

    private static func slice<T>(_ all: [T], page: Int) -> ([T], Bool) {
        let size = 200
        let start = max(0, (page - 1) * size)
        guard start < all.count else { return ([], false) }
        let end = min(all.count, start + size)
        return (Array(all[start..<end]), end < all.count)
    }
}
