import Foundation

/// Why an order gets no invoice work.
public enum SkipReason: Sendable, Equatable, Hashable {
    /// Status 0 Incomplete, 1 Pending or 6 Declined without an invoice: not a sale.
    case notASale(statusID: Int)
    /// Status 0 or 1 although an invoice was already posted (the order went back to checkout). The invoice is
    /// left alone and the order needs a person.
    case notASaleAfterPosting(statusID: Int)
    /// Cancelled (5) or archived before any invoice was posted.
    case cancelledWithoutInvoice(archived: Bool)
    /// A known status left out of `orders.statuses`.
    case statusNotConfigured(statusID: Int)
    /// A status id BigCommerce did not document (> 14 or < 0).
    case unknownStatus(statusID: Int)

    /// True when a person should look at the order (the planner raises an `attention` entry).
    public var needsAttention: Bool {
        switch self {
        case .notASaleAfterPosting, .unknownStatus: return true
        case .notASale, .cancelledWithoutInvoice, .statusNotConfigured: return false
        }
    }

    public var message: String {
        switch self {
        case .notASale(let s): return "status \(s) (\(OrderClassification.statusName(s))) is not a sale"
        case .notASaleAfterPosting(let s):
            return "status \(s) (\(OrderClassification.statusName(s))) is not a sale, but an invoice was already posted; check it in Zoho"
        case .cancelledWithoutInvoice(let archived):
            return archived ? "archived before it was invoiced" : "cancelled before it was invoiced"
        case .statusNotConfigured(let s): return "status \(s) (\(OrderClassification.statusName(s))) is not in orders.statuses"
        case .unknownStatus(let s): return "unknown status id \(s); add it to zbsync's status table or handle the order by hand"
        }
    }
}

/// What to do with an order's invoice.
public enum OrderDisposition: Sendable, Equatable, Hashable {
    /// Ensure the invoice exists and matches the order.
    case invoice
    /// Void the posted invoice.
    case void
    /// Nothing to do in Zoho.
    case skip(SkipReason)

    public var isInvoice: Bool { self == .invoice }
}

public enum OrderClassification {
    /// Decides from the status id, `is_deleted` and the settings. `hasInvoice` says whether an invoice for the
    /// order was already posted (a mapping exists).
    ///
    /// Rules: archived = cancelled; cancelled (5) or declined (6) voids a posted invoice and otherwise skips;
    /// 0 Incomplete and 1 Pending are never invoiced; unknown ids skip with `needsAttention`; any other status is
    /// invoiced when it is in `orders.statuses`.
    public static func disposition(order: BCOrder, hasInvoice: Bool, settings: MappingSettings) -> OrderDisposition {
        disposition(statusID: order.statusID, isDeleted: order.isDeleted, hasInvoice: hasInvoice, settings: settings)
    }

    public static func disposition(statusID: Int, isDeleted: Bool, hasInvoice: Bool, settings: MappingSettings) -> OrderDisposition {
        if isDeleted {
            return hasInvoice ? .void : .skip(.cancelledWithoutInvoice(archived: true))
        }
        switch statusID {
        case 5:
            return hasInvoice ? .void : .skip(.cancelledWithoutInvoice(archived: false))
        case 6:
            return hasInvoice ? .void : .skip(.notASale(statusID: 6))
        case 0, 1:
            return hasInvoice ? .skip(.notASaleAfterPosting(statusID: statusID)) : .skip(.notASale(statusID: statusID))
        case 2...14:
            return settings.invoices(statusID: statusID) ? .invoice : .skip(.statusNotConfigured(statusID: statusID))
        default:
            return .skip(.unknownStatus(statusID: statusID))
        }
    }

    /// BigCommerce's system label for a status id.
    public static func statusName(_ id: Int) -> String {
        switch id {
        case 0: return "Incomplete"
        case 1: return "Pending"
        case 2: return "Shipped"
        case 3: return "Partially Shipped"
        case 4: return "Refunded"
        case 5: return "Cancelled"
        case 6: return "Declined"
        case 7: return "Awaiting Payment"
        case 8: return "Awaiting Pickup"
        case 9: return "Awaiting Shipment"
        case 10: return "Completed"
        case 11: return "Awaiting Fulfillment"
        case 12: return "Manual Verification Required"
        case 13: return "Disputed"
        case 14: return "Partially Refunded"
        default: return "unknown"
        }
    }
}
