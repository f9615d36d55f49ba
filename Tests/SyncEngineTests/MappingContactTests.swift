import Foundation
import Testing
@testable import SyncEngine

@Suite struct MappingContactTests {
    static func order(_ id: Int64 = 500, customerID: Int64 = 0, email: String = "Guest@Example.com ", currency: String = "USD") -> BCOrder {
        var o = BCOrder(id: id, dateCreated: Date(timeIntervalSince1970: 0), dateModified: Date(timeIntervalSince1970: 0))
        o.customerID = customerID
        o.defaultCurrencyCode = currency
        o.billingAddress.firstName = "Jane"
        o.billingAddress.lastName = "Doe"
        o.billingAddress.email = email
        o.billingAddress.street1 = "1 Main St"
        o.billingAddress.city = "Springfield"
        o.billingAddress.zip = "12345"
        o.billingAddress.country = "United States"
        o.billingAddress.phone = "+1 555 0100"
        return o
    }

    @Test func keys() {
        let settings = MappingSettings()
        #expect(ContactMapping.baseKey(order: Self.order(customerID: 42)) == "customer:42")
        #expect(ContactMapping.baseKey(order: Self.order()) == "guest:guest@example.com")
        #expect(ContactMapping.baseKey(order: Self.order(600, email: "  ")) == "guest:order-600")
        #expect(ContactMapping.key(order: Self.order(customerID: 42), settings: settings) == "customer:42")
        #expect(ContactMapping.key(order: Self.order(customerID: 42, currency: "eur"), settings: settings) == "customer:42|EUR")
        #expect(ContactMapping.key(base: "guest:a@b.c", currency: "EUR", secondCurrency: true) == "guest:a@b.c|EUR")
        #expect(ContactMapping.key(base: "guest:a@b.c", currency: "EUR", secondCurrency: false) == "guest:a@b.c")
        #expect(ContactMapping.currencySuffix(of: "customer:42|EUR") == "EUR")
        #expect(ContactMapping.currencySuffix(of: "customer:42") == nil)
    }

    @Test func guestContact() {
        let spec = ContactMapping.contactSpec(order: Self.order(), settings: MappingSettings())
        #expect(spec.key == "guest:guest@example.com")
        #expect(spec.draft.contactName == "Jane Doe")
        #expect(spec.draft.email == "guest@example.com")
        #expect(spec.draft.currencyCode == "USD")
        #expect(spec.draft.billingAddress.attention == "Jane Doe")
        #expect(spec.draft.billingAddress.address == "1 Main St")
        #expect(spec.draft.billingAddress.city == "Springfield")
        #expect(spec.draft.shippingAddress == spec.draft.billingAddress)
        #expect(spec.draft.phone == "+1 555 0100")
        #expect(spec.draft.notes == "BigCommerce guest checkout")
    }

    @Test func guestWithoutEmailOrName() {
        var o = Self.order(700, email: "")
        o.billingAddress.firstName = ""; o.billingAddress.lastName = ""
        let spec = ContactMapping.contactSpec(order: o, settings: MappingSettings())
        #expect(spec.key == "guest:order-700")
        #expect(spec.draft.contactName == "Guest order 700")
        #expect(spec.draft.email == "")
        #expect(ContactMapping.disambiguated(name: "Guest order 700", email: "", key: spec.key) == "Guest order 700 (guest:order-700)")
    }

    @Test func registeredCustomerDataWins() {
        var c = BCCustomer(id: 42, email: "Jane.Doe@Example.com", dateCreated: Date(timeIntervalSince1970: 0), dateModified: Date(timeIntervalSince1970: 0))
        c.firstName = "Janet"; c.lastName = "Doe"; c.company = "Doe & Co"; c.phone = "555"
        var a = BCAddress(); a.firstName = "Janet"; a.lastName = "Doe"; a.street1 = "2 High St"; a.city = "Shelbyville"
        c.addresses = [a]
        let fromCustomer = ContactMapping.contactSpec(customer: c, key: ContactMapping.baseKey(customer: c), currency: "usd")
        #expect(fromCustomer.key == "customer:42")
        #expect(fromCustomer.draft.contactName == "Janet Doe")
        #expect(fromCustomer.draft.email == "jane.doe@example.com")
        #expect(fromCustomer.draft.companyName == "Doe & Co")
        #expect(fromCustomer.draft.currencyCode == "USD")
        #expect(fromCustomer.draft.billingAddress.city == "Shelbyville")
        #expect(fromCustomer.draft.notes == "BigCommerce customer 42")
        let fromOrder = ContactMapping.contactSpec(order: Self.order(customerID: 42), customer: c, key: "customer:42", currency: "USD")
        #expect(fromOrder == fromCustomer)
        let withoutCustomer = ContactMapping.contactSpec(order: Self.order(customerID: 42), customer: nil, key: "customer:42", currency: "USD")
        #expect(withoutCustomer.draft.contactName == "Jane Doe")
        #expect(withoutCustomer.draft.notes == "BigCommerce customer 42")
    }

    @Test func companyWhenNoPersonName() {
        #expect(ContactMapping.displayName(first: " ", last: "", company: "Acme Ltd", fallback: "x") == "Acme Ltd")
        #expect(ContactMapping.displayName(first: "", last: "", company: "", email: "A@B.C", fallback: "x") == "a@b.c")
        #expect(ContactMapping.displayName(first: "", last: "", company: "", fallback: "Customer 9") == "Customer 9")
    }

    @Test func secondCurrencyContact() {
        let settings = MappingSettings()
        let spec = ContactMapping.contactSpec(order: Self.order(currency: "EUR"), settings: settings)
        #expect(spec.key == "guest:guest@example.com|EUR")
        #expect(spec.draft.contactName == "Jane Doe (EUR)")
        #expect(spec.draft.currencyCode == "EUR")
        let first = ContactMapping.contactSpec(order: Self.order(currency: "EUR"), customer: nil, key: "guest:guest@example.com", currency: "EUR")
        #expect(first.draft.contactName == "Jane Doe")
    }

    @Test func limitsAndControlCharacters() {
        var o = Self.order(email: "Zoë@Example.com")
        o.billingAddress.firstName = "Zoë\t\u{0}😀"
        o.billingAddress.lastName = String(repeating: "Ä", count: 250) + "\n"
        o.billingAddress.phone = String(repeating: "5", count: 80)
        let spec = ContactMapping.contactSpec(order: o, customer: nil, key: "guest:zoë@example.com|EUR", currency: "EUR")
        let name = spec.draft.contactName
        #expect(name.utf16.count <= 200)
        #expect(name.hasPrefix("Zoë 😀 ÄÄÄ"))
        #expect(name.hasSuffix("Ä (EUR)"))
        #expect(!name.unicodeScalars.contains { $0.properties.generalCategory == .control })
        #expect(spec.draft.billingAddress.attention.utf16.count <= 100)
        #expect(spec.draft.billingAddress.attention.hasPrefix("Zoë 😀 Ä"))
        #expect(spec.draft.phone.count == 50)
        #expect(spec.draft.email == "zoë@example.com")

        let longName = String(repeating: "N", count: 120)
        let d = ContactMapping.disambiguated(name: longName + " " + longName, email: "Someone@Example.com")
        #expect(d.utf16.count == 200)
        #expect(d.hasSuffix(" (someone@example.com)"))
        #expect(ContactMapping.disambiguated(name: "Jane Doe", email: "jane@x.com") == "Jane Doe (jane@x.com)")

        let longEmail = String(repeating: "a", count: 95) + "@example.com"
        let noEmail = ContactMapping.contactSpec(order: Self.order(email: longEmail), settings: MappingSettings())
        #expect(noEmail.key == "guest:" + longEmail)
        #expect(noEmail.draft.email == "")
    }

    @Test func truncationNeverSplitsACharacter() {
        let flag = "🇩🇪"  // one character, four UTF-16 units
        let text = String(repeating: "a", count: 98) + flag
        #expect(MappingText.truncate(text, to: 100) == String(repeating: "a", count: 98))
        #expect(MappingText.truncate(text, to: 102) == text)
        #expect(MappingText.clean("  a \r\n\t b\u{7F}c  ") == "a b c")
    }

    @Test func fingerprintFollowsMappedFields() {
        let a = ContactMapping.contactSpec(order: Self.order(), settings: MappingSettings())
        var o = Self.order(999)  // another order of the same guest, same data
        o.dateCreated = Date(timeIntervalSince1970: 1000)
        let b = ContactMapping.contactSpec(order: o, settings: MappingSettings())
        #expect(a.fingerprint == b.fingerprint)
        o.billingAddress.city = "Capital City"
        let c = ContactMapping.contactSpec(order: o, settings: MappingSettings())
        #expect(a.fingerprint != c.fingerprint)
        #expect(a.fingerprint.count == 64)
        #expect(Fingerprint.sha256Hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Fingerprint.sha256Hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}

@Suite struct MappingClassificationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var status: Int
        var deleted = false
        var hasInvoice = false
        var expected: OrderDisposition
        var testDescription: String { "status \(status) deleted=\(deleted) invoice=\(hasInvoice)" }
    }

    static let cases: [Case] = [
        Case(status: 0, expected: .skip(.notASale(statusID: 0))),
        Case(status: 1, expected: .skip(.notASale(statusID: 1))),
        Case(status: 1, hasInvoice: true, expected: .skip(.notASaleAfterPosting(statusID: 1))),
        Case(status: 6, expected: .skip(.notASale(statusID: 6))),
        Case(status: 6, hasInvoice: true, expected: .void),
        Case(status: 5, expected: .skip(.cancelledWithoutInvoice(archived: false))),
        Case(status: 5, hasInvoice: true, expected: .void),
        Case(status: 11, deleted: true, expected: .skip(.cancelledWithoutInvoice(archived: true))),
        Case(status: 11, deleted: true, hasInvoice: true, expected: .void),
        Case(status: 2, expected: .invoice),
        Case(status: 7, expected: .invoice),
        Case(status: 11, hasInvoice: true, expected: .invoice),
        Case(status: 14, expected: .invoice),
        Case(status: 4, expected: .invoice),
        Case(status: 15, expected: .skip(.unknownStatus(statusID: 15))),
        Case(status: 99, hasInvoice: true, expected: .skip(.unknownStatus(statusID: 99))),
        Case(status: -1, expected: .skip(.unknownStatus(statusID: -1))),
    ]

    @Test(arguments: cases)
    func disposition(_ c: Case) {
        var o = BCOrder(id: 1, dateCreated: Date(), dateModified: Date())
        o.statusID = c.status
        o.isDeleted = c.deleted
        #expect(OrderClassification.disposition(order: o, hasInvoice: c.hasInvoice, settings: MappingSettings()) == c.expected)
    }

    @Test func configuredStatusesNeverIncludeNonSales() {
        var s = MappingSettings()
        s.invoicedStatuses = [0, 1, 6, 10, 11]
        #expect(s.effectiveInvoicedStatuses == [10, 11])
        #expect(OrderClassification.disposition(statusID: 0, isDeleted: false, hasInvoice: false, settings: s) == .skip(.notASale(statusID: 0)))
        #expect(OrderClassification.disposition(statusID: 7, isDeleted: false, hasInvoice: false, settings: s) == .skip(.statusNotConfigured(statusID: 7)))
        #expect(OrderClassification.disposition(statusID: 10, isDeleted: false, hasInvoice: false, settings: s) == .invoice)
    }

    @Test func attention() {
        #expect(SkipReason.unknownStatus(statusID: 20).needsAttention)
        #expect(SkipReason.notASaleAfterPosting(statusID: 0).needsAttention)
        #expect(!SkipReason.notASale(statusID: 0).needsAttention)
        #expect(!SkipReason.cancelledWithoutInvoice(archived: true).needsAttention)
        #expect(SkipReason.unknownStatus(statusID: 20).message.contains("unknown status id 20"))
    }
}
