import Foundation

// Values read from BigCommerce. Decoders live next to the client (`BigCommerce/*.swift`); these types hold
// only what zbsync uses. Money is `Decimal`; ids are BigCommerce integers.

/// A postal address with contact details (order billing address, shipping address, customer address).
public struct BCAddress: Sendable, Equatable, Hashable {
    public var firstName: String = ""
    public var lastName: String = ""
    public var company: String = ""
    public var street1: String = ""
    public var street2: String = ""
    public var city: String = ""
    public var state: String = ""
    public var zip: String = ""
    public var country: String = ""
    public var countryISO2: String = ""
    public var phone: String = ""
    public var email: String = ""
    public init() {}
}

/// One discount applied to an order line (`applied_discounts[]`).
public struct BCAppliedDiscount: Sendable, Equatable, Hashable {
    public var id: String
    public var amount: Decimal
    public var name: String
    public var code: String?
    /// `order` or `product`.
    public var target: String
    public init(id: String, amount: Decimal, name: String = "", code: String? = nil, target: String = "product") {
        self.id = id; self.amount = amount; self.name = name; self.code = code; self.target = target
    }
}

/// One order line (`orderProducts`).
public struct BCOrderProduct: Sendable, Equatable, Hashable {
    public var id: Int64
    public var productID: Int64 = 0
    public var variantID: Int64? = nil
    public var name: String = ""
    public var sku: String = ""
    /// `physical`, `digital` or `giftcertificate`.
    public var type: String = "physical"
    public var quantity: Decimal = 1
    public var priceExTax: Decimal = 0
    public var priceIncTax: Decimal = 0
    public var priceTax: Decimal = 0
    public var totalExTax: Decimal = 0
    public var totalIncTax: Decimal = 0
    public var totalTax: Decimal = 0
    /// Line total after every discount, tax included (nil when the API did not send it).
    public var discountedTotalIncTax: Decimal? = nil
    public var appliedDiscounts: [BCAppliedDiscount] = []
    public var parentOrderProductID: Int64? = nil
    public var isBundledProduct: Bool = false
    public var wrappingName: String = ""
    public var wrappingCostExTax: Decimal = 0
    public var wrappingCostIncTax: Decimal = 0
    public var wrappingCostTax: Decimal = 0
    public var orderAddressID: Int64 = 0
    /// Option texts (`Size: L`), for the line description.
    public var options: [String] = []
    public init(id: Int64) { self.id = id }
}

/// One row of `GET /v2/orders/{id}/taxes?details=true`.
public struct BCOrderTax: Sendable, Equatable, Hashable {
    public var id: Int64
    public var name: String = ""
    public var taxClass: String = ""
    /// Percent, e.g. 8.0000.
    public var rate: Decimal = 0
    public var lineAmount: Decimal = 0
    /// `item`, `shipping`, `handling`, `gift-wrapping` (nil without `details=true`).
    public var lineItemType: String? = nil
    /// Order-product id for item rows.
    public var orderProductID: Int64? = nil
    public var orderAddressID: Int64? = nil
    public init(id: Int64) { self.id = id }
}

/// One row of `GET /v2/orders/{id}/coupons`.
public struct BCCoupon: Sendable, Equatable, Hashable {
    public var id: Int64
    public var couponID: Int64 = 0
    public var code: String = ""
    public var type: Int = 0
    /// Money actually taken off.
    public var discount: Decimal = 0
    public init(id: Int64) { self.id = id }
}

/// One custom fee on an order.
public struct BCFee: Sendable, Equatable, Hashable {
    public var id: Int64
    public var name: String = ""
    public var costExTax: Decimal = 0
    public var costIncTax: Decimal = 0
    public var costTax: Decimal = 0
    public var taxClassID: Int64? = nil
    public init(id: Int64) { self.id = id }
}

/// One shipping destination of an order (shipping address or shipping consignment).
public struct BCShipping: Sendable, Equatable, Hashable {
    public var id: Int64
    public var address = BCAddress()
    public var method: String = ""
    public var costExTax: Decimal = 0
    public var costIncTax: Decimal = 0
    public var costTax: Decimal = 0
    public var handlingCostExTax: Decimal = 0
    public var handlingCostIncTax: Decimal = 0
    public var handlingCostTax: Decimal = 0
    public init(id: Int64) { self.id = id }
}

/// An order (`GET /v2/orders`), with its lines, shipping and fees when the list was read with
/// `include=consignments.line_items,fees&consignment_structure=object`.
public struct BCOrder: Sendable, Equatable, Hashable {
    public var id: Int64
    public var customerID: Int64 = 0
    public var dateCreated: Date
    public var dateModified: Date
    public var statusID: Int = 0
    public var status: String = ""
    public var isDeleted: Bool = false
    public var isTaxInclusivePricing: Bool = false

    public var subtotalExTax: Decimal = 0
    public var subtotalIncTax: Decimal = 0
    public var subtotalTax: Decimal = 0
    public var shippingCostExTax: Decimal = 0
    public var shippingCostIncTax: Decimal = 0
    public var shippingCostTax: Decimal = 0
    public var handlingCostExTax: Decimal = 0
    public var handlingCostIncTax: Decimal = 0
    public var handlingCostTax: Decimal = 0
    public var wrappingCostExTax: Decimal = 0
    public var wrappingCostIncTax: Decimal = 0
    public var wrappingCostTax: Decimal = 0
    public var totalExTax: Decimal = 0
    public var totalIncTax: Decimal = 0
    public var totalTax: Decimal = 0
    public var discountAmount: Decimal = 0
    public var couponDiscount: Decimal = 0
    public var storeCreditAmount: Decimal = 0
    public var giftCertificateAmount: Decimal = 0

    /// Display currency.
    public var currencyCode: String = ""
    /// Transactional currency: what the shopper paid in. The Zoho invoice uses this one.
    public var defaultCurrencyCode: String = ""
    public var storeDefaultCurrencyCode: String = ""
    /// Store default → transactional currency.
    public var storeDefaultToTransactionalExchangeRate: Decimal = 1

    public var paymentMethod: String = ""
    public var paymentStatus: String = ""
    public var billingAddress = BCAddress()
    public var customerMessage: String = ""

    /// Lines: from the embedded consignments, or from `/products` when they were not embedded (nil = not loaded).
    public var products: [BCOrderProduct]? = nil
    public var shipping: [BCShipping]? = nil
    public var fees: [BCFee]? = nil
    /// Filled by a separate call (nil = not loaded).
    public var taxes: [BCOrderTax]? = nil
    public var coupons: [BCCoupon]? = nil

    public init(id: Int64, dateCreated: Date, dateModified: Date) {
        self.id = id; self.dateCreated = dateCreated; self.dateModified = dateModified
    }
}

/// A payment record (`GET /v3/orders/{id}/transactions`).
public struct BCTransaction: Sendable, Equatable, Hashable {
    public var id: Int64
    public var orderID: Int64
    /// `purchase`, `authorization`, `capture`, `refund`, `void`, `pending`, `settled`.
    public var event: String
    public var method: String = ""
    public var amount: Decimal
    public var currency: String = ""
    public var gateway: String = ""
    public var gatewayTransactionID: String = ""
    public var dateCreated: Date
    public var test: Bool = false
    /// `ok` or `error`.
    public var status: String
    public init(id: Int64, orderID: Int64, event: String, amount: Decimal, dateCreated: Date, status: String) {
        self.id = id; self.orderID = orderID; self.event = event; self.amount = amount
        self.dateCreated = dateCreated; self.status = status
    }

    /// Money actually received: a successful purchase or capture.
    public var isCapturedPayment: Bool { status == "ok" && (event == "purchase" || event == "capture") }
}

public struct BCRefundItem: Sendable, Equatable, Hashable {
    /// `PRODUCT`, `GIFT_WRAPPING`, `SHIPPING`, `HANDLING`, `ORDER`, `FEE`.
    public var itemType: String
    public var itemID: Int64
    public var quantity: Decimal? = nil
    public var requestedAmount: Decimal? = nil
    public var reason: String = ""
    public init(itemType: String, itemID: Int64) { self.itemType = itemType; self.itemID = itemID }
}

public struct BCRefundPayment: Sendable, Equatable, Hashable {
    public var id: Int64
    public var providerID: String = ""
    public var amount: Decimal
    public var offline: Bool = false
    public var isDeclined: Bool = false
    public init(id: Int64, amount: Decimal) { self.id = id; self.amount = amount }
}

/// A refund (`/v3/orders/payment_actions/refunds`). Refunds are immutable.
public struct BCRefund: Sendable, Equatable, Hashable {
    public var id: Int64
    public var orderID: Int64
    public var created: Date
    public var reason: String = ""
    public var totalAmount: Decimal
    public var totalTax: Decimal = 0
    public var items: [BCRefundItem] = []
    public var payments: [BCRefundPayment] = []
    public init(id: Int64, orderID: Int64, created: Date, totalAmount: Decimal) {
        self.id = id; self.orderID = orderID; self.created = created; self.totalAmount = totalAmount
    }
}

/// A registered customer (`GET /v3/customers`).
public struct BCCustomer: Sendable, Equatable, Hashable {
    public var id: Int64
    public var email: String
    public var firstName: String = ""
    public var lastName: String = ""
    public var company: String = ""
    public var phone: String = ""
    public var dateCreated: Date
    public var dateModified: Date
    public var addresses: [BCAddress] = []
    public init(id: Int64, email: String, dateCreated: Date, dateModified: Date) {
        self.id = id; self.email = email; self.dateCreated = dateCreated; self.dateModified = dateModified
    }
}
