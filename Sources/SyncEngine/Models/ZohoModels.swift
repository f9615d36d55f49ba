import Foundation

// Values sent to and read from Zoho Books. Zoho ids are `String` (up to 19 digits). Request encoders
// and response decoders live next to the client (`ZohoBooks/*.swift`).

public struct ZohoAddress: Sendable, Equatable, Hashable {
    public var attention: String = ""
    public var address: String = ""
    public var street2: String = ""
    public var city: String = ""
    public var state: String = ""
    public var zip: String = ""
    public var country: String = ""
    public var phone: String = ""
    public init() {}
}

/// A contact to create or update (`POST/PUT /contacts`).
public struct ContactDraft: Sendable, Equatable, Hashable {
    /// Display name; unique in the org.
    public var contactName: String
    public var companyName: String = ""
    public var firstName: String = ""
    public var lastName: String = ""
    /// Lower-cased email of the primary contact person; the deterministic key.
    public var email: String
    public var phone: String = ""
    /// ISO code; resolved to `currency_id` by the client.
    public var currencyCode: String
    public var billingAddress = ZohoAddress()
    public var shippingAddress = ZohoAddress()
    public var notes: String = ""
    public init(contactName: String, email: String, currencyCode: String) {
        self.contactName = contactName; self.email = email; self.currencyCode = currencyCode
    }
}

/// A contact as Zoho returns it.
public struct ZohoContact: Sendable, Equatable, Hashable {
    public var contactID: String
    public var contactName: String
    public var email: String = ""
    public var currencyCode: String = ""
    public var status: String = ""
    public init(contactID: String, contactName: String) { self.contactID = contactID; self.contactName = contactName }
}

/// An item to create (`POST /items`).
public struct ItemDraft: Sendable, Equatable, Hashable {
    /// ≤ 100 characters, unique in the org.
    public var name: String
    public var sku: String
    public var rate: Decimal
    public var description: String = ""
    /// `goods` or `service` (items API spelling).
    public var productType: String = "goods"
    public var taxID: String? = nil
    public init(name: String, sku: String, rate: Decimal) { self.name = name; self.sku = sku; self.rate = rate }
}

public struct ZohoItem: Sendable, Equatable, Hashable {
    public var itemID: String
    public var name: String
    public var sku: String = ""
    public var rate: Decimal = 0
    public var status: String = "active"
    public init(itemID: String, name: String) { self.itemID = itemID; self.name = name }
}

public struct ZohoTax: Sendable, Equatable, Hashable {
    public var taxID: String
    public var name: String
    public var percentage: Decimal
    /// `tax` or `compound_tax`.
    public var type: String = "tax"
    public init(taxID: String, name: String, percentage: Decimal) { self.taxID = taxID; self.name = name; self.percentage = percentage }
}

/// One invoice or credit-note line. `itemID` nil means an item-less line (name + rate only).
public struct DocumentLine: Sendable, Equatable, Hashable {
    public var itemID: String? = nil
    public var name: String
    public var description: String = ""
    /// Unit rate in the document currency, tax included when the document is tax-inclusive.
    public var rate: Decimal
    public var quantity: Decimal
    /// Fixed discount amount for the whole line (not per unit).
    public var discountAmount: Decimal = 0
    /// Zoho tax id; nil = no tax on the line.
    public var taxID: String? = nil
    /// Percentage of `taxID`, kept so totals can be predicted locally.
    public var taxPercentage: Decimal = 0
    /// `goods` or `services` (invoice-line spelling).
    public var productType: String? = nil
    /// Credit notes only: the invoice line this credits.
    public var invoiceLineItemID: String? = nil
    public init(name: String, rate: Decimal, quantity: Decimal) { self.name = name; self.rate = rate; self.quantity = quantity }
}

/// An invoice to create or update (`POST /invoices?ignore_auto_number_generation=true`).
public struct InvoiceDraft: Sendable, Equatable, Hashable {
    /// `BC-<order id>`: the deterministic key.
    public var invoiceNumber: String
    public var referenceNumber: String
    public var customerID: String
    /// `yyyy-MM-dd` in the store's time zone.
    public var date: String
    public var currencyCode: String
    /// Foreign → base rate; nil when the invoice is in the base currency.
    public var exchangeRate: Decimal? = nil
    public var isInclusiveTax: Bool = false
    public var lines: [DocumentLine] = []
    /// Added after tax so the Zoho total equals the BigCommerce total.
    public var adjustment: Decimal = 0
    public var adjustmentDescription: String = ""
    public var notes: String = ""
    public init(invoiceNumber: String, referenceNumber: String, customerID: String, date: String, currencyCode: String) {
        self.invoiceNumber = invoiceNumber; self.referenceNumber = referenceNumber; self.customerID = customerID
        self.date = date; self.currencyCode = currencyCode
    }
}

/// An invoice as Zoho returns it.
public struct ZohoInvoice: Sendable, Equatable, Hashable {
    public var invoiceID: String
    public var invoiceNumber: String
    public var referenceNumber: String = ""
    /// `draft`, `sent`, `overdue`, `paid`, `partially_paid`, `void`, `unpaid`, `viewed`.
    public var status: String
    public var customerID: String = ""
    public var currencyCode: String = ""
    public var total: Decimal = 0
    public var balance: Decimal = 0
    public var adjustment: Decimal = 0
    public var paymentMade: Decimal = 0
    public var creditsApplied: Decimal = 0
    /// Line ids in the order sent (filled by create/get, empty in list rows).
    public var lineItemIDs: [String] = []
    /// False when the reply carried no `total` (then `total` 0 means "not said", not zero).
    public var totalKnown = true
    public init(invoiceID: String, invoiceNumber: String, status: String) {
        self.invoiceID = invoiceID; self.invoiceNumber = invoiceNumber; self.status = status
    }
}

/// A credit note to create (`POST /creditnotes?ignore_auto_number_generation=true`).
public struct CreditNoteDraft: Sendable, Equatable, Hashable {
    /// `BCR-<refund id>`: the deterministic key.
    public var creditNoteNumber: String
    public var referenceNumber: String
    public var customerID: String
    public var date: String
    public var currencyCode: String
    public var exchangeRate: Decimal? = nil
    public var isInclusiveTax: Bool = false
    /// The invoice this credits (sent as the `invoice_id` query parameter).
    public var invoiceID: String? = nil
    public var lines: [DocumentLine] = []
    public var adjustment: Decimal = 0
    public init(creditNoteNumber: String, referenceNumber: String, customerID: String, date: String, currencyCode: String) {
        self.creditNoteNumber = creditNoteNumber; self.referenceNumber = referenceNumber; self.customerID = customerID
        self.date = date; self.currencyCode = currencyCode
    }
}

public struct ZohoCreditNote: Sendable, Equatable, Hashable {
    public var creditNoteID: String
    public var creditNoteNumber: String
    /// `open`, `closed`, `void`, `draft`.
    public var status: String
    public var total: Decimal = 0
    /// Credit not yet applied or refunded.
    public var balance: Decimal = 0
    /// False when the reply carried no `total` / `balance` (then 0 above means "not said", not zero).
    public var totalKnown = true
    public var balanceKnown = true
    public init(creditNoteID: String, creditNoteNumber: String, status: String) {
        self.creditNoteID = creditNoteID; self.creditNoteNumber = creditNoteNumber; self.status = status
    }
}

/// A customer payment to record (`POST /customerpayments`).
public struct PaymentDraft: Sendable, Equatable, Hashable {
    public var customerID: String
    /// BigCommerce transaction id (or `BC-<order>-paid`): the deterministic key.
    public var referenceNumber: String
    public var date: String
    public var amount: Decimal
    public var paymentMode: String
    public var accountID: String? = nil
    public var exchangeRate: Decimal? = nil
    public var description: String = ""
    /// Invoice id → amount applied.
    public var invoiceID: String
    public init(customerID: String, referenceNumber: String, date: String, amount: Decimal, paymentMode: String, invoiceID: String) {
        self.customerID = customerID; self.referenceNumber = referenceNumber; self.date = date; self.amount = amount
        self.paymentMode = paymentMode; self.invoiceID = invoiceID
    }
}

public struct ZohoPayment: Sendable, Equatable, Hashable {
    public var paymentID: String
    public var referenceNumber: String
    public var amount: Decimal
    public var customerID: String = ""
    public init(paymentID: String, referenceNumber: String, amount: Decimal) {
        self.paymentID = paymentID; self.referenceNumber = referenceNumber; self.amount = amount
    }
}

/// Money going back to the shopper from a credit note (`POST /creditnotes/{id}/refunds`).
/// A refund recorded against a credit note (a row of `GET /creditnotes/{id}/refunds`).
public struct ZohoCreditNoteRefund: Sendable, Equatable, Hashable {
    public var refundID: String
    public var amount: Decimal
    public var referenceNumber: String
    public init(refundID: String, amount: Decimal, referenceNumber: String) {
        self.refundID = refundID; self.amount = amount; self.referenceNumber = referenceNumber
    }
}

public struct CreditNoteRefundDraft: Sendable, Equatable, Hashable {
    public var date: String
    public var amount: Decimal
    public var refundMode: String
    public var referenceNumber: String
    public var fromAccountID: String?
    public var exchangeRate: Decimal? = nil
    public init(date: String, amount: Decimal, refundMode: String, referenceNumber: String, fromAccountID: String?) {
        self.date = date; self.amount = amount; self.refundMode = refundMode; self.referenceNumber = referenceNumber
        self.fromAccountID = fromAccountID
    }
}

public struct ZohoOrganization: Sendable, Equatable, Hashable {
    public var organizationID: String
    public var name: String
    public var currencyCode: String
    public var currencyID: String = ""
    public var timeZone: String = ""
    public var pricePrecision: Int = 2
    public var planName: String = ""
    public var isDefault: Bool = false
    /// `item_level` or `entity_level` when Zoho reports it (how the organization rounds tax); nil = unknown.
    public var taxRounding: String? = nil
    public init(organizationID: String, name: String, currencyCode: String) {
        self.organizationID = organizationID; self.name = name; self.currencyCode = currencyCode
    }
}

public struct ZohoCurrency: Sendable, Equatable, Hashable {
    public var currencyID: String
    public var currencyCode: String
    public var isBase: Bool = false
    public init(currencyID: String, currencyCode: String) { self.currencyID = currencyID; self.currencyCode = currencyCode }
}

public struct ZohoAccount: Sendable, Equatable, Hashable {
    public var accountID: String
    public var name: String
    /// e.g. `bank`, `cash`, `income`.
    public var type: String
    public init(accountID: String, name: String, type: String) { self.accountID = accountID; self.name = name; self.type = type }
}
