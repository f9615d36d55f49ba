import Foundation

/// BigCommerce money received → Zoho customer payments applied to the order's invoice (DESIGN §4 "Payment").
///
/// Sources, in this order (the order matters for the cap):
/// 1. `store_credit_amount` → `credit:<order>` (reference `BC-<order>-credit`);
/// 2. `gift_certificate_amount` → `giftcert:<order>` (reference `BC-<order>-giftcert`);
/// 3. each captured transaction (`purchase`/`capture`, status `ok`), by date then id → `txn:<id>` (reference
///    `BC-TXN-<id>`: the BigCommerce transaction id is unique in the store, the prefix keeps it apart from
///    references people type into Zoho; the gateway's own id goes into the description). Transactions whose
///    method or gateway is store credit or a gift certificate are skipped: the order-level amounts above are
///    the single source for those. Test-mode transactions are kept (the order itself is in the books) and
///    say so in the description;
/// 4. with no captured transaction, a paid `payment_status` (`paid`, `captured`, `partially refunded`,
///    `refunded`) and `paidWithoutTransactions`: one `paid:<order>` payment (reference `BC-<order>-paid`) of
///    the order total less 1 and 2.
///
/// The sum never exceeds the order total (`total_inc_tax`, what the invoice totals): each payment is cut to
/// what is left and a payment cut to zero is dropped. Earlier payments are never changed by later ones, so a
/// capture arriving later cannot alter payments already recorded. Authorizations, voids, refunds and failed
/// transactions are not money received.
public enum PaymentMapping {
    public static let storeCreditGateway = "storecredit"
    public static let giftCertificateGateway = "giftcertificate"

    public static func paymentSpecs(order: BCOrder, transactions: [BCTransaction], contactKey: String,
                                    settings: MappingSettings) -> [PaymentSpec] {
        let currency = InvoiceMapping.currency(of: order, settings: settings)
        let exchangeRate = InvoiceMapping.exchangeRate(order: order, currency: currency, settings: settings)
        let orderDate = MappingText.day(order.dateCreated, in: settings.storeTimeZone)
        var remaining = order.totalIncTax.cents
        var out: [PaymentSpec] = []

        func add(key: String, reference: String, date: String, amount: Decimal, mode: String, description: String) {
            let amount = min(amount.cents, remaining)
            guard amount > 0 else { return }
            remaining -= amount
            var spec = PaymentSpec(orderID: order.id, key: key, referenceNumber: reference, contactKey: contactKey, date: date,
                                   amount: amount, paymentMode: mode, account: settings.paymentAccount, exchangeRate: exchangeRate)
            spec.description = description
            out.append(spec)
        }

        add(key: "credit:\(order.id)", reference: "BC-\(order.id)-credit", date: orderDate, amount: order.storeCreditAmount,
            mode: settings.paymentMode(forGateway: storeCreditGateway), description: "Store credit, BigCommerce order \(order.id)")
        add(key: "giftcert:\(order.id)", reference: "BC-\(order.id)-giftcert", date: orderDate, amount: order.giftCertificateAmount,
            mode: settings.paymentMode(forGateway: giftCertificateGateway), description: "Gift certificate, BigCommerce order \(order.id)")

        let captured = transactions
            .filter { $0.orderID == order.id && $0.isCapturedPayment && !isCreditOrGiftCertificate($0) }
            .sorted { ($0.dateCreated, $0.id) < ($1.dateCreated, $1.id) }
        for t in captured {
            var description = "BigCommerce order \(order.id), \(t.gateway.isEmpty ? "payment" : t.gateway)"
            let gatewayID = MappingText.clean(t.gatewayTransactionID)
            if !gatewayID.isEmpty { description += " " + gatewayID }
            if t.test { description += " (test transaction)" }
            add(key: "txn:\(t.id)", reference: "BC-TXN-\(t.id)", date: MappingText.day(t.dateCreated, in: settings.storeTimeZone),
                amount: t.amount, mode: settings.paymentMode(forGateway: t.gateway), description: MappingText.truncate(description, to: 500))
        }

        if captured.isEmpty, settings.paidWithoutTransactions,
           MappingSettings.paidPaymentStatuses.contains(order.paymentStatus.lowercased()) {
            let method = MappingText.clean(order.paymentMethod)
            add(key: "paid:\(order.id)", reference: "BC-\(order.id)-paid", date: orderDate, amount: remaining,
                mode: settings.paymentMode(forGateway: method),
                description: "BigCommerce order \(order.id), paid" + (method.isEmpty ? "" : " by " + method))
        }
        return out
    }

    static func isCreditOrGiftCertificate(_ t: BCTransaction) -> Bool {
        let method = t.method.lowercased(), gateway = t.gateway.lowercased()
        return method == "store_credit" || method == "gift_certificate" || gateway == storeCreditGateway || gateway == giftCertificateGateway
    }
}
