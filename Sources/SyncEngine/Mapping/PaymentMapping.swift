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
        paymentSpecs(order: order, transactions: transactions, contactKey: contactKey, settings: settings, orderDay: nil)
    }

    /// As above; `orderDay`, when given, is the order's day (`MappingText.day` of its creation), already known.
    static func paymentSpecs(order: BCOrder, transactions: [BCTransaction], contactKey: String, settings: MappingSettings,
                             orderDay: String?) -> [PaymentSpec] {
        let currency = InvoiceMapping.currency(of: order, settings: settings)
        let exchangeRate = InvoiceMapping.exchangeRate(order: order, currency: currency, settings: settings)
        var orderDay = orderDay
        func orderDate() -> String {
            if let orderDay { return orderDay }
            let day = MappingText.day(order.dateCreated, in: settings.storeTimeZone)
            orderDay = day
            return day
        }
        var remaining = order.totalIncTax.cents
        // The same amount in cents while every amount is whole cents in `Int64` (they are rounded to cents), so
        // the arithmetic below is done on integers; nil sends it back to `Decimal`.
        var remainingCents = FixedPoint.scaled(remaining, scale: 2)
        var out: [PaymentSpec] = []

        /// Adds a payment of `amount` (cut to what is left); the texts are made only for a payment that is kept.
        func add(amount offered: Decimal, _ texts: () -> (key: String, reference: String, date: String, mode: String, description: String)) {
            let offered = offered.cents
            let amount: Decimal
            if let left = remainingCents, let cents = FixedPoint.scaled(offered, scale: 2) {
                // `min(offered, remaining)`, then `remaining -= amount`.
                let keptCents = left < cents ? left : cents
                guard keptCents > 0 else { return }
                amount = left < cents ? remaining : offered
                remainingCents = left - keptCents
                remaining = FixedPoint.decimal(left - keptCents, scale: 2)
            } else {
                amount = FixedPoint.min(offered, remaining)
                guard FixedPoint.isPositive(amount) else { return }
                remaining -= amount
                remainingCents = nil
            }
            let t = texts()
            var spec = PaymentSpec(orderID: order.id, key: t.key, referenceNumber: t.reference, contactKey: contactKey, date: t.date,
                                   amount: amount, paymentMode: t.mode, account: settings.paymentAccount, exchangeRate: exchangeRate)
            spec.description = t.description
            out.append(spec)
        }

        let id = String(order.id)
        add(amount: order.storeCreditAmount) {
            ("credit:" + id, "BC-" + id + "-credit", orderDate(), settings.paymentMode(forGateway: storeCreditGateway),
             "Store credit, BigCommerce order " + id)
        }
        add(amount: order.giftCertificateAmount) {
            ("giftcert:" + id, "BC-" + id + "-giftcert", orderDate(), settings.paymentMode(forGateway: giftCertificateGateway),
             "Gift certificate, BigCommerce order " + id)
        }

        var captured = transactions.filter { $0.orderID == order.id && $0.isCapturedPayment && !isCreditOrGiftCertificate($0) }
        if captured.count > 1 { captured.sort { ($0.dateCreated, $0.id) < ($1.dateCreated, $1.id) } }
        for t in captured {
            add(amount: t.amount) {
                let gatewayID = MappingText.clean(t.gatewayTransactionID)
                var description = "BigCommerce order " + id + ", " + (t.gateway.isEmpty ? "payment" : t.gateway)
                    + (gatewayID.isEmpty ? "" : " " + gatewayID)
                if t.test { description += " (test transaction)" }
                let date = t.dateCreated == order.dateCreated ? orderDate() : MappingText.day(t.dateCreated, in: settings.storeTimeZone)
                let transactionID = String(t.id)
                return ("txn:" + transactionID, "BC-TXN-" + transactionID, date, settings.paymentMode(forGateway: t.gateway),
                        MappingText.truncate(description, to: 500))
            }
        }

        if captured.isEmpty, settings.paidWithoutTransactions,
           MappingSettings.paidPaymentStatuses.contains(order.paymentStatus.lowercased()) {
            add(amount: remaining) {
                let method = MappingText.clean(order.paymentMethod)
                return ("paid:" + id, "BC-" + id + "-paid", orderDate(), settings.paymentMode(forGateway: method),
                        "BigCommerce order " + id + ", paid" + (method.isEmpty ? "" : " by " + method))
            }
        }
        return out
    }

    static func isCreditOrGiftCertificate(_ t: BCTransaction) -> Bool {
        MappingText.lowercased(t.method, equals: "store_credit") || MappingText.lowercased(t.method, equals: "gift_certificate")
            || MappingText.lowercased(t.gateway, equals: storeCreditGateway) || MappingText.lowercased(t.gateway, equals: giftCertificateGateway)
    }
}
