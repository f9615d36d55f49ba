import Foundation
import Testing
@testable import SyncEngine

private func dec(_ s: String) -> Decimal { Decimal.parse(s)! }

/// Fingerprints are stored in the mapping table: a changed value makes every document look changed and be pushed
/// again. These pins hold the values (and the payload bytes journaled with them) fixed, whatever the code that
/// computes them.
@Suite struct FingerprintStabilityTests {
    static func sha(_ text: String) -> String { Fingerprint.sha256Hex(Data(text.utf8)) }

    /// A line with everything that needs care in JSON: quotes, escapes, control characters, astral characters,
    /// a 19-digit id, a significand too long for 18 digits, and tiny and large exponents.
    static var oddLine: LineSpec {
        var l = LineSpec(kind: .giftWrapping, sku: "SKU-Ω\\/", name: "Zoë \"wrap\" 😀\u{1}\u{7F}", rate: dec("1234567.1234"),
                         quantity: dec("2.5"), taxRate: dec("8.875"))
        l.description = "line\nbreak\r\ttab\u{0}\u{1F} é"
        l.discountAmount = dec("0.01")
        l.taxName = "NY State Tax + NYC Tax"
        l.productType = "services"
        l.bcLineID = 9_007_199_254_740_993
        return l
    }

    static var plainLine: LineSpec {
        var l = LineSpec(kind: .product, sku: nil, name: "Mug", rate: dec("-3.6000"), quantity: dec("1e3"), taxRate: nil)
        l.discountAmount = dec("12345678901234567890.123")
        return l
    }

    static var invoice: InvoiceSpec {
        var spec = InvoiceSpec(orderID: -101, invoiceNumber: "BC-101", referenceNumber: "101", contactKey: "guest:a@b.c|EUR",
                               date: "2024-02-29", currencyCode: "EUR", exchangeRate: dec("1.086957"), isInclusiveTax: true,
                               lines: [oddLine, plainLine, LineSpec(kind: .shipping, sku: "", name: "", rate: 0, quantity: dec("0.0001"),
                                                                   taxRate: dec("0"))],
                               targetTotal: dec("53.590"), adjustment: dec("-0.01"))
        spec.notes = "n\u{2028}"
        return spec
    }

    static var payment: PaymentSpec {
        var spec = PaymentSpec(orderID: 101, key: "txn:3", referenceNumber: "BC-TXN-3", contactKey: "customer:42", date: "2024-03-02",
                               amount: dec("38.59"), paymentMode: "Stripe", account: "Stripe \"Clearing\"", exchangeRate: dec("0.000001"))
        spec.description = "BigCommerce order 101, stripe ch_3"
        return spec
    }

    static var contact: ContactSpec {
        var d = ContactDraft(contactName: "Jane Doe (EUR)", email: "jane@example.com", currencyCode: "EUR")
        d.companyName = "Doe & Co"; d.firstName = "Jane"; d.lastName = "Doe"; d.phone = "+49 30 1234"; d.notes = "BigCommerce customer 42"
        d.billingAddress.attention = "Jane Doe"; d.billingAddress.address = "Unter den Linden 1"; d.billingAddress.city = "Berlin"
        d.billingAddress.zip = "10117"; d.billingAddress.country = "Germany"; d.billingAddress.state = "BE"; d.billingAddress.street2 = "c/o X"
        d.billingAddress.phone = "1"
        d.shippingAddress.city = "Potsdam\t"
        return ContactSpec(key: "customer:42|EUR", draft: d)
    }

    static var item: ItemSpec {
        var d = ItemDraft(name: "Blue Mug (MUG-BLU)", sku: "MUG-BLU", rate: dec("12.50"))
        d.description = "Colour: Blue"; d.productType = "service"; d.taxID = "982000000000001"
        return ItemSpec(sku: "MUG-BLU", draft: d)
    }

    static var creditNote: CreditNoteSpec {
        CreditNoteSpec(refundID: 9001, orderID: 101, creditNoteNumber: "BCR-9001", referenceNumber: "Refund 9001, order 101",
                       contactKey: "customer:42", date: "2024-03-05", currencyCode: "USD", exchangeRate: nil, isInclusiveTax: false,
                       lines: [oddLine, plainLine], targetTotal: dec("18.5"), adjustment: 0, refundedAmount: 10, refundMode: "creditcard",
                       refundAccount: nil)
    }

    @Test func specFingerprints() {
        #expect(Fingerprint.of(Self.invoice.toJSON()) == "a5addb674e06c517a52da5fb9406bdfd4ffb93d80a22e8d30026819f5714279f")
        #expect(Self.invoice.fingerprint == "a5addb674e06c517a52da5fb9406bdfd4ffb93d80a22e8d30026819f5714279f")
        #expect(Fingerprint.of(Self.payment.toJSON()) == "9b4c06d32bca1286d12362b71e7d699e263113d701d5e3e4b159fb6e912fd494")
        #expect(Self.payment.fingerprint == "9b4c06d32bca1286d12362b71e7d699e263113d701d5e3e4b159fb6e912fd494")
        #expect(Fingerprint.of(Self.contact.toJSON()) == "0b7c68156c16094e573a49ff58deabbf037643268823f8f948863426e6cc1fae")
        #expect(Self.contact.fingerprint == "bee9b7456615b5d13328593035c52c7c747611cd2befcbcd1f0e1cfcd47e77c1")
        #expect(Fingerprint.of(Self.item.toJSON()) == "d6c2a53ab3967a80f02a2f1628bdb5b5a0e2510e49808589d92bb5f3fe0cbe2a")
        #expect(Self.item.fingerprint == "d6c2a53ab3967a80f02a2f1628bdb5b5a0e2510e49808589d92bb5f3fe0cbe2a")
        #expect(Fingerprint.of(Self.creditNote.toJSON()) == "499bf055a003b80068ae94298bac30bdce31469b74604526426769afd515d189")
        #expect(Self.creditNote.fingerprint == "499bf055a003b80068ae94298bac30bdce31469b74604526426769afd515d189")
    }

    @Test func specBytes() {
        // The journaled payload bytes (insertion order); the canonical bytes are pinned by the fingerprints.
        #expect(Self.sha(Self.invoice.toJSON().serializedString()) == "0d8b4e9d8f317e8d0ade01db3b40765de93f1c4b44d5551f1aa939670daa00b4")
        #expect(Self.sha(Self.contact.toJSON().serializedString()) == "88493a7e3e220ffbf8320c91b515e535e35c95347f8bad9887ac40a84b4932e0")
        #expect(Self.sha(Self.creditNote.toJSON().serializedString()) == "36488d95dc08d1be2b0e45a11d502fe5522d97341d26a5fb2f58c97883b7e12e")
        #expect(Self.payment.toJSON().serializedString() == #"{"order_id":101,"key":"txn:3","reference_number":"BC-TXN-3","contact_key":"customer:42","date":"2024-03-02","amount":38.59,"payment_mode":"Stripe","account":"Stripe \"Clearing\"","exchange_rate":0.000001,"description":"BigCommerce order 101, stripe ch_3"}"#)
        #expect(Self.payment.toJSON().serializedString(sortedKeys: true) == #"{"account":"Stripe \"Clearing\"","amount":38.59,"contact_key":"customer:42","date":"2024-03-02","description":"BigCommerce order 101, stripe ch_3","exchange_rate":0.000001,"key":"txn:3","order_id":101,"payment_mode":"Stripe","reference_number":"BC-TXN-3"}"#)
        #expect(Self.item.toJSON().serializedString() == #"{"sku":"MUG-BLU","draft":{"name":"Blue Mug (MUG-BLU)","sku":"MUG-BLU","rate":12.5,"description":"Colour: Blue","product_type":"service","tax_id":"982000000000001"}}"#)
        #expect(Self.item.toJSON().serializedString(sortedKeys: true) == #"{"draft":{"description":"Colour: Blue","name":"Blue Mug (MUG-BLU)","product_type":"service","rate":12.5,"sku":"MUG-BLU","tax_id":"982000000000001"},"sku":"MUG-BLU"}"#)
    }

    /// Everything a plan says, as text: operations with their fingerprints and payload bytes, problems, skips.
    static func describe(_ plan: SyncPlan, keys: [String]) -> String {
        var out = "keys " + keys.joined(separator: ",") + "\n"
        for op in plan.operations {
            out += "op \(op.kind) \(op.entityKey) \(op.zohoKey) \(op.fingerprint) \(op.payload.serializedString())\n"
        }
        for p in plan.problems { out += "problem \(p.kind) \(p.entityKey) \(p.message)\n" }
        for s in plan.skips { out += "skip \(s.entityKey) \(s.reason)\n" }
        out += "cleared " + plan.cleared.joined(separator: ",") + "\n"
        return out
    }

    /// Every mapping fixture planned in every tax mode, with a payment, a refund of each kind and a customer
    /// update: the digest of the plans' text is pinned per fixture.
    @Test func fixturePlans() throws {
        let expected: [String: String] = [
            "invoice.bundle.json": "dd800ecf1371bcdbe28d0bb6077824488b9ff5855dd08dbdec6e3ac3866c50d1",
            "invoice.charges.json": "1e3689a9be1c4c2c0f88c0dbceef4df01fd556fa0debead8da49d7b3b7ff233d",
            "invoice.discounts.json": "0695cde4d197fd5c7c1059cad330fc9f4011ee3e5dde1e4210dfdda40d2d59a2",
            "invoice.inclusive-uk.json": "0ec38b31919fad6409d941d528a5e8b3538a5215c8b2116516fae8101db51278",
            "invoice.lines-not-loaded.json": "80537540bc819e2d965dbba885d620b387ce215b1717919736e91e62d6bb7492",
            "invoice.multi-currency-eur.json": "a0e4807e67f1cc2308b069146f172362085661cdc68d42c7479eeefe91769db9",
            "invoice.rounding-cent.json": "d593963a523a2394e32170d49001ac3182d00b531b8ceceb8be589747fee3f6f",
            "invoice.simple-exclusive.json": "1661c07ba936f73e237e1d481cce81d1d3d87251608a1caffe09118a85b99cf7",
            "invoice.taxes-not-loaded.json": "732205f051be52aaa454e32e1956086afbb5eb4642594655a9ec2485e4240f53",
            "invoice.totals-disagree.json": "f3a0e22d13e2bc4ebc9b21395c32aaf660ecd1b045dcbfc87bdac36e425e5c8d",
            "invoice.zero-quantity.json": "ef4c93affae2946c1b960b2ab622ca40d4d919f74ad9a46a01a54b8db89581d4",
        ]
        var seen: [String: String] = [:]
        for name in MappingFixture.invoiceFixtureNames() {
            let f = try MappingFixture.load(name)
            let base = MappingFixture.order(f["order"]!)
            var text = ""
            for mode in MappingSettings.TaxMode.allCases {
                for rounding in TaxRounding.allCases {
                    var settings = MappingFixture.settings(f["settings"])
                    settings.taxMode = mode
                    settings.taxRounding = rounding
                    settings.gatewayModes = ["stripe": "Stripe"]
                    var order = base
                    order.storeCreditAmount = dec("1.25")
                    var t = BCTransaction(id: 77, orderID: order.id, event: "purchase", amount: order.totalIncTax,
                                          dateCreated: order.dateCreated.addingTimeInterval(86_399), status: "ok")
                    t.gateway = "stripe"; t.gatewayTransactionID = "ch_\"77\""
                    var customer = BCCustomer(id: order.customerID == 0 ? 5 : order.customerID, email: "Shopper@Example.com ",
                                              dateCreated: order.dateCreated, dateModified: order.dateCreated)
                    customer.firstName = "Ada"; customer.lastName = "Lovelace\u{1}"; customer.phone = "+1 555"
                    var refund = BCRefund(id: 500 + order.id, orderID: order.id, created: order.dateCreated.addingTimeInterval(3 * 86_400),
                                          totalAmount: dec("10.00"))
                    refund.reason = "Damaged\nin transit"
                    var item = BCRefundItem(itemType: "ORDER", itemID: order.id)
                    item.requestedAmount = dec("10")
                    refund.items = [item]
                    refund.payments = [BCRefundPayment(id: 1, amount: dec("10"))]
                    var productRefund = BCRefund(id: 600 + order.id, orderID: order.id, created: order.dateCreated, totalAmount: dec("5"))
                    if let p = order.products?.first {
                        var pi = BCRefundItem(itemType: "PRODUCT", itemID: p.id)
                        pi.quantity = 1
                        var si = BCRefundItem(itemType: "SHIPPING", itemID: order.shipping?.first?.id ?? 0)
                        si.requestedAmount = dec("1.5")
                        productRefund.items = [pi, si]
                        productRefund.totalAmount = p.priceIncTax + dec("1.5")
                    }
                    let changes = SourceChanges(
                        orders: [OrderChange(order: order, transactions: [t], customer: customer)],
                        refunds: [RefundChange(refund: refund, order: order), RefundChange(refund: productRefund, order: order)],
                        customers: [customer])
                    let known = [
                        "customer:\(customer.id)|GBP": MappingRecord(entityKey: "customer:\(customer.id)|GBP", zohoID: "1", fingerprint: "x",
                                                                     zohoStatus: "active", extra: ["currency": "GBP"],
                                                                     updatedAt: Date(timeIntervalSince1970: 0)),
                    ]
                    let keys = Planner.mappingKeys(for: changes, settings: settings)
                    let plan = Planner.plan(changes, mappings: known, settings: settings)
                    text += "\(mode.rawValue) \(rounding.rawValue)\n" + Self.describe(plan, keys: keys)
                }
            }
            seen[name] = Self.sha(text)
        }
        #expect(seen == expected, "\(seen.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \"\($0.value)\"," }.joined(separator: "\n"))")
    }
}

/// The fast paths behind planning (canonical bytes written directly, JSON and fingerprint from one pass, decimal
/// parts read from storage, cached days…) against the straightforward code they stand for.
@Suite struct PlanningFastPathTests {
    typealias Generator = MappingTotalsTests.Generator

    static let texts = ["", "a", "Zoë", "Mug \"Blue\"", "back\\slash", "tab\there", "line\nbreak", "\u{1}\u{1F}\u{7F}", "😀 emoji",
                        "NY State Sales Tax", "  spaced  out  ", "e\u{301}", "/slash/", "\u{2028}", String(repeating: "x", count: 40)]
    static let amounts: [Decimal] = ["0", "1", "-1", "0.5", "12.50", "-3.6000", "1e3", "0.0001", "1234567.1234", "999999999999999999",
                                     "12345678901234567890.123", "-0.000000001", "7e30", "8.875", "20"].map { Decimal.parse($0)! }
        + [Decimal(1) / 3, Decimal(sign: .minus, exponent: -2, significand: 1234)]

    static func line(_ g: inout Generator) -> LineSpec {
        var l = LineSpec(kind: g.pick(LineKind.allCases), sku: g.int(0...2) == 0 ? nil : g.pick(texts), name: g.pick(texts),
                         rate: g.pick(amounts), quantity: g.pick(amounts), taxRate: g.int(0...2) == 0 ? nil : g.pick(amounts))
        l.description = g.pick(texts)
        l.discountAmount = g.pick(amounts)
        l.taxName = g.pick(texts)
        l.productType = g.pick(["goods", "services", g.pick(texts)])
        l.bcLineID = g.int(0...2) == 0 ? nil : Int64(g.int(-5...5)) * 1_000_000_007
        return l
    }

    static func address(_ g: inout Generator) -> ZohoAddress {
        var a = ZohoAddress()
        a.attention = g.pick(texts); a.address = g.pick(texts); a.street2 = g.pick(texts); a.city = g.pick(texts)
        a.state = g.pick(texts); a.zip = g.pick(texts); a.country = g.pick(texts); a.phone = g.pick(texts)
        return a
    }

    /// Canonical bytes, payload bytes and fingerprint of `value` against the JSON tree's.
    static func check(canonical: [UInt8], encoded: (json: JSON, fingerprint: String)?, json: JSON,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(canonical == Array(json.serialized(sortedKeys: true)), sourceLocation: sourceLocation)
        if let encoded {
            #expect(encoded.json.serialized() == json.serialized(), sourceLocation: sourceLocation)
            #expect(encoded.fingerprint == Fingerprint.of(json), sourceLocation: sourceLocation)
        }
    }

    @Test func canonicalAndEncodedMatchTheJSONTree() {
        var g = Generator(state: 42)
        for _ in 0..<300 {
            let l = Self.line(&g)
            Self.check(canonical: l.canonicalBytes, encoded: nil, json: l.toJSON())

            var invoice = InvoiceSpec(orderID: Int64(g.int(-3...1_000_000)), invoiceNumber: g.pick(Self.texts), referenceNumber: g.pick(Self.texts),
                                      contactKey: g.pick(Self.texts), date: g.pick(Self.texts), currencyCode: g.pick(Self.texts),
                                      exchangeRate: g.int(0...1) == 0 ? nil : g.pick(Self.amounts), isInclusiveTax: g.int(0...1) == 0,
                                      lines: (0..<g.int(0...4)).map { _ in Self.line(&g) }, targetTotal: g.pick(Self.amounts),
                                      adjustment: g.pick(Self.amounts))
            invoice.notes = g.pick(Self.texts)
            Self.check(canonical: invoice.canonicalBytes, encoded: invoice.encoded(), json: invoice.toJSON())
            #expect(invoice.fingerprint == Fingerprint.of(invoice.toJSON()))

            var payment = PaymentSpec(orderID: Int64(g.int(0...1_000_000)), key: g.pick(Self.texts), referenceNumber: g.pick(Self.texts),
                                      contactKey: g.pick(Self.texts), date: g.pick(Self.texts), amount: g.pick(Self.amounts),
                                      paymentMode: g.pick(Self.texts), account: g.int(0...1) == 0 ? nil : g.pick(Self.texts),
                                      exchangeRate: g.int(0...1) == 0 ? nil : g.pick(Self.amounts))
            payment.description = g.pick(Self.texts)
            Self.check(canonical: payment.canonicalBytes, encoded: payment.encoded(), json: payment.toJSON())
            #expect(payment.fingerprint == Fingerprint.of(payment.toJSON()))

            var draft = ContactDraft(contactName: g.pick(Self.texts), email: g.pick(Self.texts), currencyCode: g.pick(Self.texts))
            draft.companyName = g.pick(Self.texts); draft.firstName = g.pick(Self.texts); draft.lastName = g.pick(Self.texts)
            draft.phone = g.pick(Self.texts); draft.notes = g.pick(Self.texts)
            draft.billingAddress = Self.address(&g)
            draft.shippingAddress = g.int(0...1) == 0 ? draft.billingAddress : Self.address(&g)
            let contact = ContactSpec(key: g.pick(Self.texts), draft: draft)
            Self.check(canonical: contact.canonicalBytes, encoded: contact.encoded(), json: contact.toJSON())
            Self.check(canonical: draft.canonicalBytes, encoded: nil, json: draft.toJSON())
            #expect(contact.fingerprint == Fingerprint.of(draft.toJSON()))

            var itemDraft = ItemDraft(name: g.pick(Self.texts), sku: g.pick(Self.texts), rate: g.pick(Self.amounts))
            itemDraft.description = g.pick(Self.texts); itemDraft.productType = g.pick(Self.texts)
            itemDraft.taxID = g.int(0...1) == 0 ? nil : g.pick(Self.texts)
            let item = ItemSpec(sku: g.pick(Self.texts), draft: itemDraft)
            Self.check(canonical: item.canonicalBytes, encoded: item.encoded(), json: item.toJSON())
            #expect(item.fingerprint == Fingerprint.of(item.toJSON()))

            let credit = CreditNoteSpec(refundID: Int64(g.int(0...1_000_000)), orderID: Int64(g.int(0...1_000_000)),
                                        creditNoteNumber: g.pick(Self.texts), referenceNumber: g.pick(Self.texts), contactKey: g.pick(Self.texts),
                                        date: g.pick(Self.texts), currencyCode: g.pick(Self.texts),
                                        exchangeRate: g.int(0...1) == 0 ? nil : g.pick(Self.amounts), isInclusiveTax: g.int(0...1) == 0,
                                        lines: (0..<g.int(0...3)).map { _ in Self.line(&g) }, targetTotal: g.pick(Self.amounts),
                                        adjustment: g.pick(Self.amounts), refundedAmount: g.pick(Self.amounts), refundMode: g.pick(Self.texts),
                                        refundAccount: g.int(0...1) == 0 ? nil : g.pick(Self.texts))
            Self.check(canonical: credit.canonicalBytes, encoded: nil, json: credit.toJSON())
            #expect(credit.fingerprint == Fingerprint.of(credit.toJSON()))
        }
    }

    @Test func decimalPartsFromStorage() {
        #expect(FixedPoint.storageLayoutVerified)
        var g = Generator(state: 7)
        var values = Self.amounts + [Decimal.nan, Decimal(sign: .plus, exponent: 0, significand: 0), Decimal(Int64.max), Decimal(Int64.min),
                                     Decimal(UInt64.max), Decimal(string: "340282366920938463463374607431768211455")!]
        for _ in 0..<3000 {
            let digits = g.int(1...20)
            var text = g.int(0...1) == 0 ? "-" : ""
            for i in 0..<digits { text += String(g.int(i == 0 ? 1...9 : 0...9)) }
            values.append(Decimal(sign: text.hasPrefix("-") ? .minus : .plus, exponent: g.int(-12...12),
                                  significand: Decimal(string: String(text.drop(while: { $0 == "-" })))!))
            values.append(Decimal(g.int(-1_000_000...1_000_000)) / Decimal(g.int(1...10_000)))
        }
        for v in values {
            let fast = FixedPoint.storageParts(v), reference = FixedPoint.foundationParts(v)
            #expect(fast?.mantissa == reference?.mantissa && fast?.exponent == reference?.exponent, "\(v)")
            #expect(FixedPoint.plainString(v) == v.plainString, "\(v)")
            #expect(FixedPoint.isPositive(v) == (v > 0), "\(v)")
            #expect(FixedPoint.isNonZero(v) == (v != 0), "\(v)")
        }
        for _ in 0..<3000 {
            let a = g.pick(values), b = g.int(0...3) == 0 ? a : g.pick(values)
            #expect(FixedPoint.less(a, b) == (a < b), "\(a) < \(b)")
            #expect(FixedPoint.equal(a, b) == (a == b), "\(a) == \(b)")
        }
    }

    @Test func daysMatchTheCalendar() {
        let zones = ["UTC", "America/New_York", "America/Los_Angeles", "Europe/London", "Australia/Lord_Howe", "Asia/Kathmandu",
                     "Pacific/Apia", "America/Sao_Paulo", "Pacific/Kiritimati"].compactMap(TimeZone.init(identifier:))
        var g = Generator(state: 11)
        var dates: [Date] = []
        for _ in 0..<4000 { dates.append(Date(timeIntervalSince1970: Double(g.int(-2_000_000_000...4_000_000_000)) + Double(g.int(0...999)) / 1000)) }
        // Around local midnights and DST changes.
        for zone in zones {
            for day in stride(from: 1_600_000_000, to: 1_720_000_000, by: 86_400 * 7) {
                for offset in [-0.001, 0, 0.001, 3599.999, 3600] {
                    dates.append(Date(timeIntervalSince1970: Double(day) - Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(day)))) + offset))
                }
            }
        }
        dates.append(Date(timeIntervalSince1970: -13_000_000_000))  // before 1582
        for zone in zones {
            for date in dates { #expect(MappingText.day(date, in: zone) == MappingText.calendarDay(date, in: zone), "\(date) \(zone.identifier)") }
        }
    }

    @Test func sortedUniqueKeys() {
        var g = Generator(state: 3)
        let parts = ["order:", "customer:", "guest:", "sku:", "txn:", "customer:12345678|", "é", "e\u{301}", "ß", "\u{0}", "Z", "a", "|EUR", "1", "10", "9"]
        for _ in 0..<200 {
            let keys = (0..<g.int(0...60)).map { _ in (0..<g.int(1...4)).map { _ in g.pick(parts) }.joined() + String(g.int(0...99)) }
            // Byte for byte: of keys equal as strings ("é" and "e\u{301}"), the same one is kept.
            #expect(Planner.sortedUnique(keys).map { Array($0.utf8) } == Array(Set(keys)).sorted().map { Array($0.utf8) })
        }
    }

    @Test func textShortcuts() {
        var g = Generator(state: 5)
        let pieces = ["a", "B", " ", "  ", "\t", "é", "É", "ü", "1", "-", "_", "@", "|", "ẞ", "K", "\u{212A}", "İ", "😀", "\n"]
        for _ in 0..<3000 {
            let text = (0..<g.int(0...6)).map { _ in g.pick(pieces) }.joined()
            #expect(ContactMapping.normalizedEmail(text) == {
                let cleaned = MappingText.clean(text)
                return (cleaned.utf8.contains(0x20) ? cleaned.replacingOccurrences(of: " ", with: "") : cleaned).lowercased()
            }(), "\(text.debugDescription)")
            #expect(MappingText.uppercased(text) == text.uppercased())
            for target in ["storecredit", "giftcertificate", "store_credit", "k", ""] {
                #expect(MappingText.lowercased(text, equals: target) == (text.lowercased() == target))
            }
            let key = "customer:" + text
            #expect(ContactMapping.currencySuffix(of: key) == {
                guard let bar = key.lastIndex(of: "|") else { return nil }
                let suffix = key[key.index(after: bar)...]
                return suffix.isEmpty ? nil : String(suffix)
            }())
            let other = (0..<g.int(0...3)).map { _ in g.pick(pieces) }.joined()
            #expect(ItemMapping.contains(text, other) == text.contains(other), "\(text.debugDescription) \(other.debugDescription)")
            let order = { () -> BCOrder in
                var o = BCOrder(id: 1, dateCreated: Date(), dateModified: Date())
                o.defaultCurrencyCode = g.int(0...1) == 0 ? "" : text; o.currencyCode = other
                return o
            }()
            #expect(InvoiceMapping.currency(of: order, settings: MappingSettings()) == {
                for c in [order.defaultCurrencyCode, order.currencyCode, "USD"] {
                    let t = MappingText.clean(c).uppercased()
                    if !t.isEmpty { return t }
                }
                return "USD"
            }())
        }
        for id: Int64 in [0, 7, -7, 1234567890, Int64.max, Int64.min] {
            #expect(EntityKey.order(id) == "order:\(id)")
            #expect(EntityKey.key("customer:", id) == "customer:\(id)")
        }
    }
}
