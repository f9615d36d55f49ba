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
        var keys: [String] = []
        keys.reserveCapacity(changes.orders.count * 12 + changes.refunds.count * 4 + changes.customers.count)
        // Fields are read where they are, without copying each order.
        let orders = changes.orders
        for i in orders.indices {
            let id = orders[i].order.id
            keys.append(EntityKey.order(id))
            let base = ContactMapping.baseKey(customerID: orders[i].order.customerID, billingEmail: orders[i].order.billingAddress.email,
                                              orderID: id)
            keys.append(base)
            let currency = InvoiceMapping.currency(defaultCurrencyCode: orders[i].order.defaultCurrencyCode,
                                                   currencyCode: orders[i].order.currencyCode, baseCurrency: settings.baseCurrency)
            keys.append(ContactMapping.suffixed(base, currency: currency))
            if let products = orders[i].order.products {
                for j in products.indices where !products[j].sku.isEmpty { keys.append(EntityKey.sku(products[j].sku)) }
            }
            for j in orders[i].transactions.indices { keys.append(EntityKey.transaction(orders[i].transactions[j].id)) }
            keys.append(EntityKey.paidOrder(id))
            keys.append(EntityKey.storeCredit(id))
            keys.append(EntityKey.giftCertificate(id))
        }
        for r in changes.refunds {
            keys.append(EntityKey.refund(r.refund.id))
            keys.append(EntityKey.order(r.order.id))
            let base = ContactMapping.baseKey(order: r.order)
            keys.append(base)
            keys.append(base + "|" + InvoiceMapping.currency(of: r.order, settings: settings))
        }
        for c in changes.customers { keys.append(EntityKey.customer(c.id)) }
        return sortedUnique(keys)
    }

    /// `Array(Set(keys)).sorted()`: ascending, without duplicates, keeping the first of equal keys (as a set keeps
    /// the first inserted; the sorts are stable).
    ///
    /// When every key is ASCII, `String` order is byte order and equal keys are equal bytes, so the keys are
    /// sorted on their first 16 bytes packed into integers, falling back to the strings only on a tie.
    static func sortedUnique(_ keys: [String]) -> [String] {
        var packed: [(hi: UInt64, lo: UInt64, index: Int)] = []
        packed.reserveCapacity(keys.count)
        for index in keys.indices {
            guard let prefix = keys[index].utf8.withContiguousStorageIfAvailable(Self.asciiPrefix) ?? nil else {
                return sortedUniqueStrings(keys)
            }
            packed.append((prefix.hi, prefix.lo, index))
        }
        packed.sort { a, b in
            if a.hi != b.hi { return a.hi < b.hi }
            if a.lo != b.lo { return a.lo < b.lo }
            return keys[a.index] < keys[b.index]
        }
        var unique: [String] = []
        unique.reserveCapacity(packed.count)
        var last: (hi: UInt64, lo: UInt64, index: Int)? = nil
        for entry in packed {
            if let last, last.hi == entry.hi, last.lo == entry.lo, keys[last.index] == keys[entry.index] { continue }
            unique.append(keys[entry.index])
            last = entry
        }
        return unique
    }

    /// The first 16 bytes of an ASCII text as two big-endian integers, zero-padded (so integer order is byte
    /// order); nil when a byte is not ASCII.
    private static func asciiPrefix(_ bytes: UnsafeBufferPointer<UInt8>) -> (hi: UInt64, lo: UInt64)? {
        var words: (UInt64, UInt64) = (0, 0)
        let head = min(bytes.count, 16)
        withUnsafeMutableBytes(of: &words) { raw in
            if let start = bytes.baseAddress, head > 0 { raw.baseAddress!.copyMemory(from: start, byteCount: head) }
        }
        var high: UInt8 = 0
        for b in bytes.dropFirst(16) { high |= b }
        guard (words.0 | words.1) & 0x8080_8080_8080_8080 == 0, high < 0x80 else { return nil }
        return (UInt64(bigEndian: words.0), UInt64(bigEndian: words.1))
    }

    private static func sortedUniqueStrings(_ keys: [String]) -> [String] {
        var keys = keys
        keys.sort()
        var unique: [String] = []
        unique.reserveCapacity(keys.count)
        for key in keys where unique.last != key { unique.append(key) }
        return unique
    }

    /// Plans every change against the known mappings.
    public static func plan(_ changes: SourceChanges, mappings known: [String: MappingRecord], settings: MappingSettings) -> SyncPlan {
        var plan = SyncPlan()
        var state = PlanningState(known: known)
        // Room for what a page of orders usually plans (a contact, an item or two, the invoice and a payment each),
        // so the collections are not regrown and rehashed order after order.
        let orderCount = changes.orders.count
        plan.operations.reserveCapacity(orderCount * 4 + changes.refunds.count)
        plan.cleared.reserveCapacity(orderCount + changes.refunds.count)
        state.plannedContacts.reserveCapacity(orderCount)
        state.plannedItems.reserveCapacity(orderCount * 2)
        state.contactCurrency.reserveCapacity(orderCount)

        for rejected in changes.rejected {
            plan.problems.append(PlanProblem(kind: "quarantine", entityKey: rejected.entityKey, message: rejected.reason))
        }
        planOrders(changes.orders, settings: settings, state: &state, plan: &plan)
        for change in changes.refunds {
            planRefund(change, settings: settings, state: &state, plan: &plan)
        }
        for customer in changes.customers {
            planCustomer(customer, settings: settings, state: &state, plan: &plan)
        }
        return plan
    }

    // MARK: Orders

    /// Orders at least this many in one call are prepared on all cores (the result is the same, in the same order).
    static let concurrentOrderThreshold = 64

    /// Plans `orders` in their order. What each order needs from the orders before it (its contact key) is
    /// decided first, one by one; the costly part, which depends on nothing but the order (mapping it and writing
    /// its payloads and fingerprints), then runs on every core; the operations are added one order after another.
    static func planOrders(_ orders: [OrderChange], settings: MappingSettings, state: inout PlanningState, plan: inout SyncPlan) {
        let cores = min(ProcessInfo.processInfo.activeProcessorCount, 8)
        guard cores > 1, orders.count >= concurrentOrderThreshold else {
            for i in orders.indices { planOrder(orders[i], settings: settings, state: &state, plan: &plan) }
            return
        }
        var work = [OrderWork](repeating: OrderWork(), count: orders.count)
        for i in orders.indices { startOrder(orders[i], settings: settings, state: &state, work: &work[i]) }
        let frozen = state
        work.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let slots = buffer
            // A few chunks per core, so that a core that finishes early takes another.
            let chunks = min(cores * 4, orders.count)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let range = (orders.count * chunk / chunks)..<(orders.count * (chunk + 1) / chunks)
                for i in range { prepareOrder(orders[i], settings: settings, state: frozen, work: &slots[i]) }
            }
        }
        for i in orders.indices { finishOrder(orders[i], settings: settings, work: work[i], state: &state, plan: &plan) }
    }

    static func planOrder(_ change: OrderChange, settings: MappingSettings, state: inout PlanningState, plan: inout SyncPlan) {
        var work = OrderWork()
        startOrder(change, settings: settings, state: &state, work: &work)
        prepareOrder(change, settings: settings, state: state, work: &work)
        finishOrder(change, settings: settings, work: work, state: &state, plan: &plan)
    }

    /// What an order's plan takes from the orders planned before it: its disposition and contact key.
    static func startOrder(_ change: OrderChange, settings: MappingSettings, state: inout PlanningState, work: inout OrderWork) {
        let order = change.order
        work.disposition = OrderClassification.disposition(order: order, hasInvoice: state.record(EntityKey.order(order.id)) != nil,
                                                           settings: settings)
        guard work.disposition == .invoice else { return }
        // Contact: one per (customer, currency).
        work.currency = InvoiceMapping.currency(of: order, settings: settings)
        work.contactKey = state.contactKey(base: ContactMapping.baseKey(order: order), currency: work.currency)
    }

    /// The order's invoice, payments and contact, mapped and encoded. Reads `state`, changes nothing else.
    static func prepareOrder(_ change: OrderChange, settings: MappingSettings, state: PlanningState, work: inout OrderWork) {
        guard work.disposition == .invoice else { return }
        let order = change.order
        let invoiceSpec: InvoiceSpec
        do {
            invoiceSpec = try InvoiceMapping.invoiceSpec(order: order, contactKey: work.contactKey, settings: settings)
        } catch {
            work.failure = "\(error)"
            work.mapped = false
            return
        }
        let orderKey = EntityKey.order(order.id)
        // Without a known invoice the operation is certain: its payload and fingerprint come from one pass.
        let invoice = state.record(orderKey)
        let encoded = invoice == nil ? invoiceSpec.encoded() : nil
        let fingerprint = encoded?.fingerprint ?? invoiceSpec.fingerprint
        if invoice?.fingerprint != fingerprint {
            work.invoice = PlannedOperation(kind: OperationKind.invoiceEnsure.rawValue, entityKey: orderKey,
                                            zohoKey: invoiceSpec.invoiceNumber,
                                            payload: ["spec": encoded?.json ?? invoiceSpec.toJSON()], fingerprint: fingerprint)
        } else if invoice?.zohoStatus == "void" {
            // A voided invoice whose order is a sale again needs a person: Zoho cannot un-void into the same
            // state without reopening it.
            work.failure = "order \(order.id) is a sale again but invoice \(invoiceSpec.invoiceNumber) is void in Zoho; reopen it (Void → Draft) or leave it"
        }
        if settings.itemsMissing == .create {
            work.itemLines = invoiceSpec.lines.compactMap { line in
                guard let sku = line.sku, !sku.isEmpty else { return nil }
                return OrderWork.ItemLine(sku: sku, kind: line.kind, bcLineID: line.bcLineID)
            }
        }
        let payments = PaymentMapping.paymentSpecs(order: order, transactions: change.transactions, contactKey: work.contactKey,
                                                   settings: settings, orderDay: invoiceSpec.date)
        for i in payments.indices where !state.isKnown(payments[i].key) {
            let (json, fingerprint) = payments[i].encoded()
            work.payments.append(PlannedOperation(kind: OperationKind.paymentEnsure.rawValue, entityKey: payments[i].key,
                                                  zohoKey: payments[i].referenceNumber, payload: ["spec": json], fingerprint: fingerprint))
        }
        if !state.isKnown(work.contactKey) {
            // Used only by the first order of the batch with this contact.
            let contactSpec = ContactMapping.contactSpec(order: order, customer: change.customer, key: work.contactKey, currency: work.currency)
            work.contact = contactOperation(contactSpec)
        }
    }

    /// Adds the order's operations, problems and skips to the plan, in this order: contact, items, invoice, payments.
    static func finishOrder(_ change: OrderChange, settings: MappingSettings, work: OrderWork, state: inout PlanningState, plan: inout SyncPlan) {
        let order = change.order
        let orderKey = EntityKey.order(order.id)
        let invoice = state.record(orderKey)

        switch work.disposition {
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
        guard work.mapped else {
            plan.problems.append(PlanProblem(kind: "quarantine", entityKey: orderKey, message: work.failure ?? "order \(order.id) could not be mapped"))
            return
        }

        // Operations go straight into the plan, in order; `planned` counts this order's.
        let planned = plan.operations.count
        if let contact = work.contact, state.plannedContacts.insert(work.contactKey).inserted {
            plan.operations.append(contact)
        }
        // Items are created ahead only under `items.missing = create`; `generic` and `fail` are decided when the
        // invoice is sent, against the item list.
        for line in work.itemLines {
            let skuKey = EntityKey.sku(line.sku)
            guard !state.isKnown(skuKey), state.plannedItems.insert(skuKey).inserted else { continue }
            if let itemSpec = ItemMapping.itemSpec(sku: line.sku, kind: line.kind, bcLineID: line.bcLineID, order: order, settings: settings) {
                plan.operations.append(itemOperation(itemSpec))
            } else {
                // No item for this line: a later line with the SKU may still make one.
                state.plannedItems.remove(skuKey)
            }
        }
        if let invoiceOperation = work.invoice {
            plan.operations.append(invoiceOperation)
        } else if let attention = work.failure {
            plan.problems.append(PlanProblem(kind: "attention", entityKey: orderKey, message: attention))
        }
        plan.operations.append(contentsOf: work.payments)
        if plan.operations.count == planned {
            plan.skips.append(PlanSkip(entityKey: orderKey, reason: "unchanged"))
        }
        plan.cleared.append(orderKey)
    }

    // MARK: Refunds

    static func planRefund(_ change: RefundChange, settings: MappingSettings, state: inout PlanningState, plan: inout SyncPlan) {
        let refundKey = EntityKey.refund(change.refund.id)
        if state.isKnown(refundKey) {
            plan.skips.append(PlanSkip(entityKey: refundKey, reason: "already credited"))
            return
        }
        let orderKey = EntityKey.order(change.order.id)
        let orderIsInvoiced = state.isKnown(orderKey)
            || OrderClassification.disposition(order: change.order, hasInvoice: false, settings: settings).isInvoice
        guard orderIsInvoiced else {
            plan.skips.append(PlanSkip(entityKey: refundKey, reason: "order \(change.order.id) was never invoiced"))
            return
        }
        let currency = InvoiceMapping.currency(of: change.order, settings: settings)
        let contactKey = state.contactKey(base: ContactMapping.baseKey(order: change.order), currency: currency)
        do {
            let spec = try RefundMapping.creditNoteSpec(refund: change.refund, order: change.order, contactKey: contactKey, settings: settings)
            plan.operations.append(PlannedOperation(kind: OperationKind.creditNoteEnsure.rawValue, entityKey: refundKey,
                                                    zohoKey: spec.creditNoteNumber, payload: ["spec": spec.toJSON()],
                                                    fingerprint: spec.fingerprint))
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

    /// The contact operation; its fingerprint is the hash of the whole spec (key included), unlike
    /// ``ContactSpec/fingerprint`` (the draft alone).
    static func contactOperation(_ spec: ContactSpec) -> PlannedOperation {
        let (json, fingerprint) = spec.encoded()
        return PlannedOperation(kind: OperationKind.contactEnsure.rawValue, entityKey: spec.key, zohoKey: spec.draft.email,
                                payload: ["spec": json], fingerprint: fingerprint)
    }

    static func itemOperation(_ spec: ItemSpec) -> PlannedOperation {
        let (json, fingerprint) = spec.encoded()
        return PlannedOperation(kind: OperationKind.itemEnsure.rawValue, entityKey: EntityKey.sku(spec.sku), zohoKey: spec.sku,
                                payload: ["spec": json], fingerprint: fingerprint)
    }
}

/// One order's share of a plan, worked out apart from the others (see ``Planner/planOrders``).
struct OrderWork: Sendable {
    var disposition: OrderDisposition = .invoice
    var currency = ""
    var contactKey = ""
    /// False when the invoice could not be mapped (the order is quarantined with `failure`).
    var mapped = true
    /// Why the order is quarantined, or (when mapped) why its void invoice needs a person.
    var failure: String?
    /// The invoice operation, when the invoice is new or differs from the one in Zoho.
    var invoice: PlannedOperation?
    /// The invoice's lines that name a SKU, for the items to create (`items.missing = create`).
    var itemLines: [ItemLine] = []
    struct ItemLine: Sendable {
        var sku: String
        var kind: LineKind
        var bcLineID: Int64?
    }
    var payments: [PlannedOperation] = []
    /// The contact operation, when the contact is not known.
    var contact: PlannedOperation?
}

/// Bookkeeping while one plan is built.
struct PlanningState: Sendable {
    var known: [String: MappingRecord]
    var plannedContacts: Set<String> = []
    var plannedItems: Set<String> = []
    /// Currency of each base contact key decided so far (known mapping or planned in this batch).
    var contactCurrency: [String: String] = [:]

    init(known: [String: MappingRecord]) { self.known = known }

    /// `known[key]`; a first import has no mappings, and then nothing is hashed.
    func record(_ key: String) -> MappingRecord? { known.isEmpty ? nil : known[key] }

    /// `known[key] != nil`.
    func isKnown(_ key: String) -> Bool { !known.isEmpty && known.index(forKey: key) != nil }

    /// The contact key for a customer in a currency: the plain key for the customer's first currency,
    /// `key|CUR` for any other.
    mutating func contactKey(base: String, currency: String) -> String {
        if let record = record(base) {
            let existing = record.extra["currency"]?.string ?? currency
            return existing == currency ? base : base + "|" + currency
        }
        // One lookup in the common case (a new base): the currency is stored, and put back if one was there.
        if let planned = contactCurrency.updateValue(currency, forKey: base) {
            contactCurrency[base] = planned
            return planned == currency ? base : base + "|" + currency
        }
        return base
    }
}

/// Mapping keys, one spelling for the whole program.
public enum EntityKey {
    public static func order(_ id: Int64) -> String { key("order:", id) }
    public static func refund(_ id: Int64) -> String { key("refund:", id) }
    public static func customer(_ id: Int64) -> String { key("customer:", id) }
    public static func transaction(_ id: Int64) -> String { key("txn:", id) }
    public static func paidOrder(_ id: Int64) -> String { key("paid:", id) }
    public static func storeCredit(_ id: Int64) -> String { key("credit:", id) }
    public static func giftCertificate(_ id: Int64) -> String { key("giftcert:", id) }
    public static func sku(_ sku: String) -> String { "sku:" + sku }

    /// `prefix` followed by `id` in decimal (`prefix + String(id)`), written in one go.
    static func key(_ prefix: StaticString, _ id: Int64) -> String {
        var digits = 1, rest = id.magnitude
        while rest >= 10 { rest /= 10; digits += 1 }
        let sign = id < 0 ? 1 : 0
        let count = prefix.utf8CodeUnitCount + sign + digits
        return String(unsafeUninitializedCapacity: count) { out in
            let head = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
            _ = out.initialize(from: head)
            if sign == 1 { out[head.count] = UInt8(ascii: "-") }
            var v = id.magnitude, i = count - 1
            for _ in 0..<digits {
                out[i] = UInt8(ascii: "0") &+ UInt8(v % 10)
                v /= 10
                i -= 1
            }
            return count
        }
    }
    /// Parses `order:123` → 123.
    public static func orderID(_ key: String) -> Int64? {
        key.hasPrefix("order:") ? Int64(key.dropFirst(6)) : nil
    }
}

