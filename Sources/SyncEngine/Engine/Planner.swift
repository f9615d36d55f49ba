import Foundation

/// An order read from BigCommerce, with what the planner needs alongside it.
public struct OrderChange: Sendable, Equatable {
    public var order: BCOrder
    /// Payment records of the order (v3 transactions).
    public var transactions: [BCTransaction]
    /// The registered customer, when the order has one and it was read.
    public var customer: BCCustomer?
    public init(order: BCOrder, transactions: [BCTransaction], customer: BCCustomer? = nil) {
        self.order = order; self.transactions = transactions; self.customer = customer
    }
}

/// A refund read from BigCommerce with its order.
public struct RefundChange: Sendable, Equatable {
    public var refund: BCRefund
    public var order: BCOrder
    public init(refund: BCRefund, order: BCOrder) { self.refund = refund; self.order = order }
}

/// What one poll found.
public struct SourceChanges: Sendable, Equatable {
    public var orders: [OrderChange] = []
    public var refunds: [RefundChange] = []
    public var customers: [BCCustomer] = []
    /// Records that could not be read at all.
    public var rejected: [RejectedRecord] = []
    public init(orders: [OrderChange] = [], refunds: [RefundChange] = [], customers: [BCCustomer] = [], rejected: [RejectedRecord] = []) {
        self.orders = orders; self.refunds = refunds; self.customers = customers; self.rejected = rejected
    }
}

/// A record the planner could not turn into documents; it is quarantined and shown by `status`.
public struct PlanProblem: Sendable, Equatable {
    /// `quarantine` (bad or unmappable data) or `attention` (needs a decision).
    public var kind: String
    public var entityKey: String
    public var message: String
    public init(kind: String, entityKey: String, message: String) { self.kind = kind; self.entityKey = entityKey; self.message = message }
}

/// A record deliberately left out (not a sale, nothing changed…), kept for `--dry-run` and the audit.
public struct PlanSkip: Sendable, Equatable {
    public var entityKey: String
    public var reason: String
    public init(entityKey: String, reason: String) { self.entityKey = entityKey; self.reason = reason }
}

/// The result of planning: operations to journal, problems to quarantine, skips to report.
///
/// Invariant: operations are in dependency order (contacts and items before the invoices that use them,
/// invoices before their payments and credit notes).
public struct SyncPlan: Sendable, Equatable {
    public var operations: [PlannedOperation] = []
    public var problems: [PlanProblem] = []
    public var skips: [PlanSkip] = []
    /// Entity keys that planned cleanly this time (their earlier quarantine, if any, can be resolved).
    public var cleared: [String] = []
    public init() {}
}

/// Turns BigCommerce changes into Zoho operations. Pure: the same inputs give the same plan, and nothing
/// is read or written.
public enum Planner {
    /// Mapping keys whose current records the planner needs (fetch them with `MappingStore.mappings(_:)`).
    public static func mappingKeys(for changes: SourceChanges, settings: MappingSettings) -> [String] {
        var keys = Set<String>()
        for change in changes.orders {
            let o = change.order
            keys.insert(EntityKey.order(o.id))
            let base = ContactMapping.baseKey(order: o)
            keys.insert(base)
            keys.insert(base + "|" + InvoiceMapping.currency(of: o, settings: settings))
            for line in o.products ?? [] where !line.sku.isEmpty { keys.insert(EntityKey.sku(line.sku)) }
            for t in change.transactions { keys.insert(EntityKey.transaction(t.id)) }
            keys.insert(EntityKey.paidOrder(o.id))
            keys.insert(EntityKey.storeCredit(o.id))
            keys.insert(EntityKey.giftCertificate(o.id))
        }
        for r in changes.refunds {
            keys.insert(EntityKey.refund(r.refund.id))
            keys.insert(EntityKey.order(r.order.id))
            let base = ContactMapping.baseKey(order: r.order)
            keys.insert(base)
            keys.insert(base + "|" + InvoiceMapping.currency(of: r.order, settings: settings))
        }
        for c in changes.customers { keys.insert(EntityKey.customer(c.id)) }
        return keys.sorted()
    }

    /// Plans every change against the known mappings.
    public static func plan(_ changes: SourceChanges, mappings known: [String: MappingRecord], settings: MappingSettings) -> SyncPlan {
        var plan = SyncPlan()
        var state = PlanningState(known: known)

        for rejected in changes.rejected {
            plan.problems.append(PlanProblem(kind: "quarantine", entityKey: rejected.entityKey, message: rejected.reason))
        }
        for change in changes.orders {
            planOrder(change, settings: settings, state: &state, plan: &plan)
        }
        for change in changes.refunds {
            planRefund(change, settings: settings, state: &state, plan: &plan)
        }
        for customer in changes.customers {
            planCustomer(customer, settings: settings, state: &state, plan: &plan)
        }
        return plan
    }

    // MARK: Orders

    static func planOrder(_ change: OrderChange, settings: MappingSettings, state: inout PlanningState, plan: inout SyncPlan) {
        let order = change.order
        let orderKey = EntityKey.order(order.id)
        let invoice = state.known[orderKey]

        switch OrderClassification.disposition(order: order, hasInvoice: invoice != nil, settings: settings) {
        case .skip(let reason):
            if reason.needsAttention {
                plan.problems.append(PlanProblem(kind: "attention", entityKey: orderKey, message: reason.message))
            } else {
                plan.skips.append(PlanSkip(entityKey: orderKey, reason: reason.message))
            }
            return
        case .void:
            guard let invoice else {
                plan.skips.append(PlanSkip(entityKey: orderKey, reason: "cancelled before it was invoiced"))
                return
            }
            if invoice.zohoStatus == "void" {
                plan.skips.append(PlanSkip(entityKey: orderKey, reason: "invoice \(invoice.zohoNumber ?? invoice.zohoID) already void"))
                return
            }
            let payload: JSON = ["order_id": .int64(order.id)]
            plan.operations.append(PlannedOperation(kind: OperationKind.invoiceVoid.rawValue, entityKey: orderKey,
                                                    zohoKey: invoice.zohoNumber ?? invoice.zohoID, payload: payload,
                                                    fingerprint: "void"))
            plan.cleared.append(orderKey)
            return
        case .invoice:
            break
        }

        // Contact: one per (customer, currency).
        let currency = InvoiceMapping.currency(of: order, settings: settings)
        let contactKey = state.contactKey(base: ContactMapping.baseKey(order: order), currency: currency)
        let contactSpec = ContactMapping.contactSpec(order: order, customer: change.customer, key: contactKey, currency: currency)

        // Invoice.
        let invoiceSpec: InvoiceSpec
        do {
            invoiceSpec = try InvoiceMapping.invoiceSpec(order: order, contactKey: contactKey, settings: settings)
        } catch {
            plan.problems.append(PlanProblem(kind: "quarantine", entityKey: orderKey, message: "\(error)"))
            return
        }
        let payments = PaymentMapping.paymentSpecs(order: order, transactions: change.transactions, contactKey: contactKey, settings: settings)

        var ops: [PlannedOperation] = []
        if state.known[contactKey] == nil, !state.plannedContacts.contains(contactKey) {
            ops.append(contactOperation(contactSpec))
            state.plannedContacts.insert(contactKey)
        }
        // Items are created ahead only under `items.missing = create`; `generic` and `fail` are decided when the
        // invoice is sent, against the item list.
        for line in invoiceSpec.lines where settings.itemsMissing == .create {
            guard let sku = line.sku, !sku.isEmpty else { continue }
            let skuKey = EntityKey.sku(sku)
            if state.known[skuKey] == nil, !state.plannedItems.contains(skuKey),
               let itemSpec = ItemMapping.itemSpec(line: line, order: order, settings: settings) {
                ops.append(itemOperation(itemSpec))
                state.plannedItems.insert(skuKey)
            }
        }
        let invoiceJSON = invoiceSpec.toJSON()
        let fingerprint = Fingerprint.of(invoiceJSON)
        if invoice?.fingerprint != fingerprint {
            ops.append(PlannedOperation(kind: OperationKind.invoiceEnsure.rawValue, entityKey: orderKey,
                                        zohoKey: invoiceSpec.invoiceNumber, payload: ["spec": invoiceJSON],
                                        fingerprint: fingerprint))
        } else if invoice?.zohoStatus == "void" {
            // A voided invoice whose order is a sale again needs a person: Zoho cannot un-void into the same
            // state without reopening it.
            plan.problems.append(PlanProblem(kind: "attention", entityKey: orderKey,
                message: "order \(order.id) is a sale again but invoice \(invoiceSpec.invoiceNumber) is void in Zoho; reopen it (Void → Draft) or leave it"))
        }
        for payment in payments where state.known[payment.key] == nil {
            let json = payment.toJSON()
            ops.append(PlannedOperation(kind: OperationKind.paymentEnsure.rawValue, entityKey: payment.key,
                                        zohoKey: payment.referenceNumber, payload: ["spec": json],
                                        fingerprint: Fingerprint.of(json)))
        }
        if ops.isEmpty {
            plan.skips.append(PlanSkip(entityKey: orderKey, reason: "unchanged"))
        }
        plan.operations.append(contentsOf: ops)
        plan.cleared.append(orderKey)
    }

    // MARK: Refunds

    static func planRefund(_ change: RefundChange, settings: MappingSettings, state: inout PlanningState, plan: inout SyncPlan) {
        let refundKey = EntityKey.refund(change.refund.id)
        if state.known[refundKey] != nil {
            plan.skips.append(PlanSkip(entityKey: refundKey, reason: "already credited"))
            return
        }
        let orderKey = EntityKey.order(change.order.id)
        let orderIsInvoiced = state.known[orderKey] != nil
            || OrderClassification.disposition(order: change.order, hasInvoice: false, settings: settings).isInvoice
        guard orderIsInvoiced else {
            plan.skips.append(PlanSkip(entityKey: refundKey, reason: "order \(change.order.id) was never invoiced"))
            return
        }
        let currency = InvoiceMapping.currency(of: change.order, settings: settings)
        let contactKey = state.contactKey(base: ContactMapping.baseKey(order: change.order), currency: currency)
        do {
            let spec = try RefundMapping.creditNoteSpec(refund: change.refund, order: change.order, contactKey: contactKey, settings: settings)
            let json = spec.toJSON()
            plan.operations.append(PlannedOperation(kind: OperationKind.creditNoteEnsure.rawValue, entityKey: refundKey,
                                                    zohoKey: spec.creditNoteNumber, payload: ["spec": json],
                                                    fingerprint: Fingerprint.of(json)))
            plan.cleared.append(refundKey)
        } catch {
            plan.problems.append(PlanProblem(kind: "quarantine", entityKey: refundKey, message: "\(error)"))
        }
    }

    // MARK: Customers

    /// A customer change updates the contacts already made for that customer; contacts are created only
    /// when an order needs one (a customer who never ordered costs no Zoho call).
    static func planCustomer(_ customer: BCCustomer, settings: MappingSettings, state: inout PlanningState, plan: inout SyncPlan) {
        let base = EntityKey.customer(customer.id)
        for (key, record) in state.known where key == base || key.hasPrefix(base + "|") {
            let currency = record.extra["currency"]?.string ?? settings.baseCurrency
            let spec = ContactMapping.contactSpec(customer: customer, key: key, currency: currency)
            let op = contactOperation(spec)
            if op.fingerprint != record.fingerprint, !state.plannedContacts.contains(key) {
                plan.operations.append(op)
                state.plannedContacts.insert(key)
            }
        }
    }

    static func contactOperation(_ spec: ContactSpec) -> PlannedOperation {
        let json = spec.toJSON()
        return PlannedOperation(kind: OperationKind.contactEnsure.rawValue, entityKey: spec.key, zohoKey: spec.draft.email,
                                payload: ["spec": json], fingerprint: Fingerprint.of(json))
    }

    static func itemOperation(_ spec: ItemSpec) -> PlannedOperation {
        let json = spec.toJSON()
        return PlannedOperation(kind: OperationKind.itemEnsure.rawValue, entityKey: EntityKey.sku(spec.sku), zohoKey: spec.sku,
                                payload: ["spec": json], fingerprint: Fingerprint.of(json))
    }
}

/// Bookkeeping while one plan is built.
struct PlanningState {
    var known: [String: MappingRecord]
    var plannedContacts: Set<String> = []
    var plannedItems: Set<String> = []
    /// Currency of each base contact key decided so far (known mapping or planned in this batch).
    var contactCurrency: [String: String] = [:]

    init(known: [String: MappingRecord]) { self.known = known }

    /// The contact key for a customer in a currency: the plain key for the customer's first currency,
    /// `key|CUR` for any other.
    mutating func contactKey(base: String, currency: String) -> String {
        if let record = known[base] {
            let existing = record.extra["currency"]?.string ?? currency
            return existing == currency ? base : base + "|" + currency
        }
        if let planned = contactCurrency[base] {
            return planned == currency ? base : base + "|" + currency
        }
        contactCurrency[base] = currency
        return base
    }
}

/// Mapping keys, one spelling for the whole program.
public enum EntityKey {
    public static func order(_ id: Int64) -> String { "order:\(id)" }
    public static func refund(_ id: Int64) -> String { "refund:\(id)" }
    public static func customer(_ id: Int64) -> String { "customer:\(id)" }
    public static func transaction(_ id: Int64) -> String { "txn:\(id)" }
    public static func paidOrder(_ id: Int64) -> String { "paid:\(id)" }
    public static func storeCredit(_ id: Int64) -> String { "credit:\(id)" }
    public static func giftCertificate(_ id: Int64) -> String { "giftcert:\(id)" }
    public static func sku(_ sku: String) -> String { "sku:\(sku)" }
    /// Parses `order:123` → 123.
    public static func orderID(_ key: String) -> Int64? {
        key.hasPrefix("order:") ? Int64(key.dropFirst(6)) : nil
    }
}
