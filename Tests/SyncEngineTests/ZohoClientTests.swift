import Foundation
import Testing
@testable import SyncEngine

@Suite struct ZohoClientTests {
    static let invoicePath = "/books/v3/invoices"
    static let invoiceID = "982000000567114"

    func draft() -> InvoiceDraft {
        var d = InvoiceDraft(invoiceNumber: "BC-1001", referenceNumber: "1001", customerID: "982000000567001",
                             date: "2026-03-14", currencyCode: "USD")
        var tent = DocumentLine(name: "Trail Tent 2P", rate: Decimal(string: "199.99")!, quantity: 1)
        tent.itemID = "982000000030049"
        tent.discountAmount = 20
        tent.taxID = "982000000557028"
        tent.taxPercentage = Decimal(string: "8.25")!
        tent.productType = "goods"
        var shipping = DocumentLine(name: "Shipping", rate: Decimal(string: "12.50")!, quantity: 1)
        shipping.productType = "services"
        d.lines = [tent, shipping]
        d.adjustment = Decimal(string: "0.01")!
        d.adjustmentDescription = "Rounding vs BigCommerce"
        return d
    }

    // MARK: Request shape

    @Test func createInvoiceSendsTheDocumentedRequest() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("POST", Self.invoicePath, .fixture("invoices.create.ok", status: 201))
        let invoice = try await h.makeClient().createInvoice(draft())
        #expect(invoice.invoiceID == Self.invoiceID)
        #expect(invoice.status == "draft")
        #expect(invoice.total == Decimal(string: "207.35")!)
        #expect(invoice.balance == Decimal(string: "207.35")!)
        #expect(invoice.adjustment == Decimal(string: "0.01")!)
        #expect(invoice.lineItemIDs == ["982000000567021", "982000000567022"])

        let request = try #require(h.transport.apiRequests.first)
        #expect(request.url.absoluteString
            == "https://www.zohoapis.com/books/v3/invoices?organization_id=10234695&ignore_auto_number_generation=true")
        #expect(request.headers["Authorization"] == "Zoho-oauthtoken \(ZohoHarness.validToken)")
        #expect(request.headers["Content-Type"] == "application/json")
        #expect(request.headers["User-Agent"] == "zbsync")
        let body = try #require(request.zohoJSONBody)
        #expect(body["invoice_number"]?.string == "BC-1001")
        #expect(body["reference_number"]?.string == "1001")
        #expect(body["customer_id"]?.string == "982000000567001")
        #expect(body["currency_id"]?.string == "982000000000190")
        #expect(body["is_inclusive_tax"] == .bool(false))
        #expect(body["exchange_rate"] == nil)
        #expect(body["adjustment"] == .number("0.01"))
        #expect(body["adjustment_description"]?.string == "Rounding vs BigCommerce")
        let line = try #require(body["line_items"]?[0])
        #expect(line["rate"] == .number("199.99"))
        #expect(line["discount_amount"] == .number("20"))
        #expect(body["discount_type"]?.string == "item_level", "a line discount is an item-level discount")
        #expect(line["tax_id"]?.string == "982000000557028")
        #expect(line["item_id"]?.string == "982000000030049")
        #expect(line["product_type"]?.string == "goods")
        #expect(body["line_items"]?[1]?["item_id"] == nil)
    }

    @Test func foreignCurrencySendsItsIDAndRate() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("POST", Self.invoicePath, .fixture("invoices.create.ok", status: 201))
        var d = draft()
        d.currencyCode = "eur"
        d.exchangeRate = Decimal(string: "1.0842")!
        _ = try await h.makeClient().createInvoice(d)
        let body = try #require(h.transport.apiRequests.first?.zohoJSONBody)
        #expect(body["currency_id"]?.string == "982000000000200")
        #expect(body["exchange_rate"] == .number("1.0842"))
    }

    @Test func unknownCurrencyIsLookedUpOnceThenRejected() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("GET", "/books/v3/settings/currencies", .fixture("currencies.list"))
        var d = draft()
        d.currencyCode = "JPY"
        await expectRemoteError({ _ = try await h.makeClient().createInvoice(d) }) { $0.zohoCode == 9004 }
        #expect(h.transport.requests("GET", "/books/v3/settings/currencies").count == 1)
        #expect(h.transport.requests("POST", Self.invoicePath).isEmpty)
    }

    // MARK: Organization

    @Test func severalOrganizationsWithoutConfigurationIsAConfigurationError() async throws {
        let h = ZohoHarness()
        try h.seedSession(withOrganization: false)
        h.transport.on("GET", "/books/v3/organizations", .fixture("organizations.list"))
        await #expect(throws: ZohoConfigurationError.self) { _ = try await h.makeClient().invoice(id: "1") }
        do {
            _ = try await h.makeClient().organization()
        } catch let error as ZohoConfigurationError {
            #expect(error.description.contains("Zillium Outdoor Goods (10234695)"))
            #expect(error.description.contains("Zillium Europe BV (20345711)"))
        }
        #expect(h.transport.requests("GET", "/books/v3/organizations").first?.url.query == nil)
    }

    @Test func configuredOrganizationIsVerifiedAndCached() async throws {
        let h = ZohoHarness()
        try h.seedSession(withOrganization: false)
        h.transport.on("GET", "/books/v3/organizations", .fixture("organizations.list"))
        h.transport.on("GET", "/books/v3/invoices/\(Self.invoiceID)", .fixture("invoices.get.sent"))
        let org = try await h.makeClient(organizationID: "20345711").organization()
        #expect(org.name == "Zillium Europe BV")
        #expect(org.currencyCode == "EUR")
        #expect(try h.tokens.zohoSession()?.organizationID == "20345711")
        // Next run: no GET /organizations, and the id is on every call.
        _ = try await h.makeClient(organizationID: "20345711").invoice(id: Self.invoiceID)
        #expect(h.transport.requests("GET", "/books/v3/organizations").count == 1)
        #expect(h.transport.requests("GET", "/books/v3/invoices/\(Self.invoiceID)").first?.zohoQuery["organization_id"] == "20345711")

        await #expect(throws: ZohoConfigurationError.organizationNotFound("999", available: try ZohoFixture.json("organizations.list")["organizations"]!.array!.map(ZohoOrganization.init(zoho:)))) {
            _ = try await h.makeClient(organizationID: "999").organization()
        }
    }

    @Test func singleOrganizationIsChosenAndItsTimeZoneDrivesTheDay() async throws {
        let h = ZohoHarness()
        try h.seedSession(withOrganization: false)
        h.transport.on("GET", "/books/v3/organizations", .fixture("organizations.list.single"))
        let limiter = h.makeLimiter()
        let org = try await h.makeClient(limiter: limiter).organization()
        #expect(org.organizationID == "10234695")
        #expect(org.currencyID == "982000000000190")
        #expect(limiter.timeZone.identifier == "America/Los_Angeles")
    }

    // MARK: Error classification

    @Test(arguments: [
        ("errors.1001", 400, "duplicate 1001"),
        ("errors.12018", 400, "duplicate 12018"),
        ("errors.3062", 400, "duplicate 3062"),
        ("errors.1000-exists", 400, "duplicate 1000"),
        ("errors.other-already-exists", 400, "duplicate 4002"),
        ("errors.1001", 200, "duplicate 1001"),
        ("errors.1000-internal", 400, "rejected 1000"),
        ("errors.1002", 404, "notFound"),
        ("errors.2006", 400, "notFound"),
        ("errors.5", 404, "notFound"),
        ("errors.2", 400, "rejected 2"),
        ("errors.12005", 400, "rejected 12005"),
        ("errors.24016", 400, "rejected 24016"),
        ("errors.45", 429, "daily"),
    ])
    func classifiesZohoErrors(_ fixture: String, _ status: Int, _ expected: String) async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("POST", Self.invoicePath, .fixture(fixture, status: status))
        do {
            _ = try await h.makeClient().createInvoice(draft())
            Issue.record("expected an error")
        } catch let error as RemoteError {
            let got: String
            switch error {
            case .duplicate(let code, _): got = "duplicate \(code)"
            case .rejected(.zoho, _, let code, _): got = "rejected \(code.map(String.init) ?? "-")"
            case .notFound: got = "notFound"
            case .dailyQuotaExhausted: got = "daily"
            default: got = "\(error)"
            }
            #expect(got == expected)
        }
        #expect(h.transport.apiRequests.count == 1, "no automatic retry")
    }

    @Test func dailyQuotaAnswerStopsEveryLaterCallBeforeSending() async throws {
        var h = ZohoHarness()
        h.dailyLimit = 5000
        try h.seedSession()
        h.transport.on("GET", "/books/v3/invoices/\(Self.invoiceID)", .fixture("errors.45", status: 429))
        let limiter = h.makeLimiter()
        let client = h.makeClient(limiter: limiter)
        await expectRemoteError({ _ = try await client.invoice(id: Self.invoiceID) }) {
            if case .dailyQuotaExhausted = $0 { return true }
            return false
        }
        #expect(try limiter.callsToday() == 5000)
        await expectRemoteError({ _ = try await client.invoice(id: Self.invoiceID) }) {
            if case .dailyQuotaExhausted = $0 { return true }
            return false
        }
        #expect(h.transport.apiRequests.count == 1)
    }

    @Test func perMinuteLimitWaitsForTheNextWindowThenRetries() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("GET", "/books/v3/invoices/\(Self.invoiceID)", .fixture("errors.44", status: 429), .fixture("invoices.get.sent"))
        let start = h.clock.now()
        let invoice = try await h.makeClient().invoice(id: Self.invoiceID)
        #expect(invoice.status == "sent")
        let sends = h.transport.apiRequests
        #expect(sends.count == 2)
        // The retry went out after the next minute boundary (plus the 1 s jitter), not before.
        let boundary = (start.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
        #expect(h.clock.now().timeIntervalSince1970 >= boundary + 1)
        #expect(h.clock.now().timeIntervalSince1970 < boundary + 2)
    }

    @Test func perMinuteLimitRetriesAreBounded() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("POST", Self.invoicePath, .fixture("errors.44", status: 429))
        await expectRemoteError({ _ = try await h.makeClient().createInvoice(draft()) }) { $0 == .rateLimited(.zoho, code: 44, retryAfter: nil) }
        #expect(h.transport.apiRequests.count == 6)
    }

    @Test func retryAfterIsHonoured() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("GET", "/books/v3/invoices/\(Self.invoiceID)",
                       .fixture("errors.44", status: 429, headers: ["Retry-After": "120"]), .fixture("invoices.get.sent"))
        let start = h.clock.now()
        _ = try await h.makeClient().invoice(id: Self.invoiceID)
        #expect(h.clock.now().timeIntervalSince(start) >= 120)
    }

    @Test func concurrencyLimitBacksOffBriefly() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("POST", Self.invoicePath, .fixture("errors.1070", status: 429), .fixture("errors.1070", status: 429),
                       .fixture("invoices.create.ok", status: 201))
        let start = h.clock.now()
        _ = try await h.makeClient().createInvoice(draft())
        let waited = h.clock.now().timeIntervalSince(start)
        #expect(h.transport.apiRequests.count == 3)
        #expect(waited >= 1 && waited <= 10)
    }

    // MARK: Unknown outcomes

    @Test(arguments: [
        ZohoStubTransport.Reply.failure(.timedOut),
        .failure(.lost("connection reset by peer")),
        .body("<html>Bad Gateway</html>", status: 502),
        .body(#"{"code":500,"message":"Internal Server Error"}"#, status: 500),
        .body(#"{"code":0,"message":"The invoice has been created.","invoice":{"invoice_id":"98200000"#, status: 201),
        .body(#"{"code":0,"message":"The invoice has been created."}"#, status: 201),
    ])
    func writeWithAnUnknownOutcomeIsNeverResent(_ reply: ZohoStubTransport.Reply) async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("POST", Self.invoicePath, reply, .fixture("invoices.create.ok", status: 201))
        await expectRemoteError({ _ = try await h.makeClient().createInvoice(draft()) }) {
            if case .unknownOutcome(.zoho, _) = $0 { return true }
            return false
        }
        #expect(h.transport.apiRequests.count == 1, "a write whose outcome is unknown is not sent again")
    }

    @Test func writeThatNeverLeftIsSentAgain() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("POST", Self.invoicePath, .failure(.notSent("connection refused")), .fixture("invoices.create.ok", status: 201))
        let invoice = try await h.makeClient().createInvoice(draft())
        #expect(invoice.invoiceID == Self.invoiceID)
        #expect(h.transport.apiRequests.count == 2)
    }

    @Test func readsRetryServerErrorsThenSucceed() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("GET", "/books/v3/invoices/\(Self.invoiceID)", .body("oops", status: 503), .failure(.timedOut),
                       .body(#"{"code":0,"invoice":{"invoice_id":"1""#, status: 200), .fixture("invoices.get.sent"))
        let invoice = try await h.makeClient().invoice(id: Self.invoiceID)
        #expect(invoice.status == "sent")
        #expect(h.transport.apiRequests.count == 4)
    }

    @Test func readsGiveUpAsUnavailable() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("GET", "/books/v3/invoices/\(Self.invoiceID)", .body("oops", status: 503, headers: ["Retry-After": "7"]))
        let start = h.clock.now()
        await expectRemoteError({ _ = try await h.makeClient().invoice(id: Self.invoiceID) }) {
            if case .unavailable(.zoho, _) = $0 { return true }
            return false
        }
        #expect(h.transport.apiRequests.count == 5)
        #expect(h.clock.now().timeIntervalSince(start) >= 4 * 7)
    }

    @Test func garbledReadsEndAsMalformed() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("GET", "/books/v3/invoices/\(Self.invoiceID)", .body("{\"code\":0,", status: 200))
        await expectRemoteError({ _ = try await h.makeClient().invoice(id: Self.invoiceID) }) {
            if case .malformed(.zoho, _) = $0 { return true }
            return false
        }
    }

    // MARK: Lookups and resources

    @Test func invoiceLookupMatchesTheNumberExactly() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("GET", Self.invoicePath, .fixture("invoices.list.by-number"))
        let found = try await h.makeClient().invoices(number: "BC-1001")
        #expect(found.map(\.invoiceID) == ["982000000567114"])
        #expect(found.first?.customerID == "982000000567001")
        let q = try #require(h.transport.apiRequests.first?.zohoQuery)
        #expect(q["invoice_number"] == "BC-1001")
        #expect(q["organization_id"] == ZohoHarness.organizationID)
        #expect(q["per_page"] == "200")
    }

    @Test func contactLookupsReCheckOnThisSide() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("GET", "/books/v3/contacts", .fixture("contacts.list"))
        let client = h.makeClient()
        let byEmail = try await client.contacts(email: "JANE@example.com")
        #expect(byEmail.map(\.contactID) == ["982000000567001"])
        #expect(h.transport.apiRequests.last?.zohoQuery["filter_by"] == "Status.All")
        #expect(h.transport.apiRequests.last?.zohoQuery["email"] == "jane@example.com")
        let byName = try await client.contacts(name: "Jane Doe <jane@example.com.au>")
        #expect(byName.map(\.contactID) == ["982000000567002"])
        #expect(byName.first?.status == "inactive")
        let page = try await client.contactsPage(1)
        #expect(page.contacts.count == 2 && !page.hasMore)
    }

    @Test func createContactSendsThePrimaryPersonAndCurrency() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("POST", "/books/v3/contacts", .fixture("contacts.create", status: 201))
        var d = ContactDraft(contactName: "Jane Doe <jane@example.com>", email: "jane@example.com", currencyCode: "USD")
        d.firstName = "Jane"
        d.lastName = "Doe"
        d.billingAddress.city = "Portland"
        let contact = try await h.makeClient().createContact(d)
        #expect(contact.email == "jane@example.com")
        let body = try #require(h.transport.apiRequests.first?.zohoJSONBody)
        #expect(body["contact_name"]?.string == "Jane Doe <jane@example.com>")
        #expect(body["currency_id"]?.string == "982000000000190")
        #expect(body["billing_address"]?["city"]?.string == "Portland")
        let person = try #require(body["contact_persons"]?[0])
        #expect(person["email"]?.string == "jane@example.com")
        #expect(person["is_primary_contact"] == .bool(true))
    }

    @Test func updateContactKeepsThePrimaryPersonAndTheCurrency() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("GET", "/books/v3/contacts/982000000567001", .fixture("contacts.get"))
        h.transport.on("PUT", "/books/v3/contacts/982000000567001", .fixture("contacts.create"))
        let d = ContactDraft(contactName: "Jane Doe <jane@example.com>", email: "jane@example.com", currencyCode: "USD")
        _ = try await h.makeClient().updateContact(id: "982000000567001", d)
        let body = try #require(h.transport.requests("PUT", "/books/v3/contacts/982000000567001").first?.zohoJSONBody)
        #expect(body["contact_persons"]?[0]?["contact_person_id"]?.string == "982000000567003")
        #expect(body["currency_id"] == nil)
    }

    @Test func itemsPageToleratesAnArrayPageContext() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("GET", "/books/v3/items", .fixture("items.list"))
        let client = h.makeClient()
        let page = try await client.itemsPage(1)
        #expect(page.hasMore)
        #expect(page.items.map(\.rate) == [Decimal(string: "199.99")!, Decimal(string: "24.5")!])
        #expect(h.transport.apiRequests.last?.zohoQuery["filter_by"] == "Status.All")
        h.transport.on("GET", "/books/v3/items", .fixture("items.list"),
                       .body(#"{"code":0,"message":"success","items":[],"page_context":{"has_more_page":false}}"#, status: 200))
        #expect(try await client.items(sku: "TENT-2P").map(\.itemID) == ["982000000030049"])
        #expect(h.transport.apiRequests.suffix(2).map { $0.zohoQuery["page"] } == ["1", "2"])
    }

    @Test func createItemCutsTheNameToZohosLimit() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("POST", "/books/v3/items", .fixture("items.create", status: 201))
        var d = ItemDraft(name: String(repeating: "n", count: 130), sku: "STOVE-1", rate: Decimal(string: "49.95")!)
        d.productType = "goods"
        let item = try await h.makeClient().createItem(d)
        #expect(item.sku == "STOVE-1")
        let body = try #require(h.transport.apiRequests.first?.zohoJSONBody)
        #expect(body["name"]?.string?.count == 100)
        #expect(body["rate"] == .number("49.95"))
        #expect(body["product_type"]?.string == "goods")
    }

    @Test func markSentAndVoidAreIdempotent() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        let id = Self.invoiceID
        h.transport.on("POST", "/books/v3/invoices/\(id)/status/sent", .body(#"{"code":1,"message":"Invoice already sent"}"#, status: 400))
        h.transport.on("GET", "/books/v3/invoices/\(id)", .fixture("invoices.get.sent"))
        let client = h.makeClient()
        try await client.markInvoiceSent(id: id)

        h.transport.on("GET", "/books/v3/invoices/\(id)", .fixture("invoices.get.draft"))
        await expectRemoteError({ try await client.markInvoiceSent(id: id) }) { $0.zohoCode == 1 }

        h.transport.on("POST", "/books/v3/invoices/\(id)/status/void", .fixture("invoices.status.void"))
        try await client.voidInvoice(id: id)
        #expect(h.transport.requests("POST", "/books/v3/invoices/\(id)/status/void").count == 1)
    }

    @Test func creditNotesPaymentsAndTaxes() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("POST", "/books/v3/creditnotes", .fixture("creditnotes.create", status: 201))
        h.transport.on("GET", "/books/v3/creditnotes", .fixture("creditnotes.list.by-number"))
        h.transport.on("POST", "/books/v3/creditnotes/982000000567240/invoices", .fixture("creditnotes.apply"))
        h.transport.on("POST", "/books/v3/creditnotes/982000000567240/refunds", .fixture("creditnotes.refund", status: 201))
        h.transport.on("POST", "/books/v3/customerpayments", .fixture("customerpayments.create", status: 201))
        h.transport.on("GET", "/books/v3/customerpayments", .fixture("customerpayments.list"))
        h.transport.on("GET", "/books/v3/settings/taxes", .fixture("taxes.list"))
        h.transport.on("POST", "/books/v3/settings/taxes", .fixture("taxes.create", status: 201))
        h.transport.on("GET", "/books/v3/chartofaccounts", .fixture("chartofaccounts.list"))
        let client = h.makeClient()

        var cn = CreditNoteDraft(creditNoteNumber: "BCR-77", referenceNumber: "77", customerID: "982000000567001",
                                 date: "2026-03-20", currencyCode: "USD")
        cn.invoiceID = Self.invoiceID
        cn.lines = [DocumentLine(name: "Trail Tent 2P", rate: Decimal(string: "179.99")!, quantity: 1)]
        let note = try await client.createCreditNote(cn)
        #expect(note.total == Decimal(string: "194.84")!)
        let cnRequest = try #require(h.transport.requests("POST", "/books/v3/creditnotes").first)
        #expect(cnRequest.zohoQuery["invoice_id"] == Self.invoiceID)
        #expect(cnRequest.zohoQuery["ignore_auto_number_generation"] == "true")
        #expect(try await client.creditNotes(number: "BCR-77").map(\.creditNoteID) == ["982000000567240"])

        try await client.applyCreditNote(id: note.creditNoteID, invoiceID: Self.invoiceID, amount: Decimal(string: "194.84")!)
        let apply = try #require(h.transport.requests("POST", "/books/v3/creditnotes/982000000567240/invoices").first?.zohoJSONBody)
        #expect(apply["invoices"]?[0]?["amount_applied"] == .number("194.84"))

        try await client.refundCreditNote(id: note.creditNoteID, CreditNoteRefundDraft(date: "2026-03-20", amount: Decimal(string: "194.84")!,
                                                                                       refundMode: "creditcard", referenceNumber: "77",
                                                                                       fromAccountID: "982000000002003"))
        var pay = PaymentDraft(customerID: "982000000567001", referenceNumber: "txn_8812", date: "2026-03-14",
                               amount: Decimal(string: "207.35")!, paymentMode: "creditcard", invoiceID: Self.invoiceID)
        pay.accountID = "982000000002001"
        let payment = try await client.createPayment(pay)
        #expect(payment.paymentID == "982000000567190")
        let payBody = try #require(h.transport.requests("POST", "/books/v3/customerpayments").first?.zohoJSONBody)
        #expect(payBody["invoices"]?[0]?["invoice_id"]?.string == Self.invoiceID)
        #expect(payBody["account_id"]?.string == "982000000002001")
        #expect(try await client.payments(reference: "txn_8812", customerID: "982000000567001").map(\.paymentID) == ["982000000567190"])

        let taxes = try await client.taxes()
        #expect(taxes.map(\.percentage) == [Decimal(string: "8.25")!, Decimal(21)])
        #expect(taxes[1].taxID == "982000000557030")
        _ = try await client.taxes()
        #expect(h.transport.requests("GET", "/books/v3/settings/taxes").count == 1, "taxes are cached")
        let created = try await client.createTax(name: "BC Tax 7.5%", percentage: Decimal(string: "7.5")!)
        #expect(try await client.taxes().contains(created))
        #expect(try await client.accounts().map(\.type) == ["cash", "bank"])
    }

    @Test func logsSayWhatHappenedWithoutSecrets() async throws {
        let h = ZohoHarness()
        try h.seedSession()
        h.transport.on("POST", Self.invoicePath, .fixture("errors.1001", status: 400))
        _ = try? await h.makeClient().createInvoice(draft())
        let records = h.logSink.records
        let error = try #require(records.first { $0.metadata["zoho.code"] == "1001" })
        #expect(error.metadata["http.status"] == "400")
        #expect(error.metadata["http.method"] == "POST")
        #expect(error.metadata["http.path"] == "/books/v3/invoices")
        #expect(error.metadata["zoho.invoice_number"] == "BC-1001")
        #expect(!h.logSink.allText.contains(ZohoHarness.validToken))
        #expect(!h.logSink.allText.contains("organization_id"))
        #expect(!h.logSink.allText.contains("Trail Tent"))
    }

    @Test func configuredDailyLimitStopsBeforeSending() async throws {
        var h = ZohoHarness()
        h.dailyLimit = 2
        try h.seedSession()
        h.transport.on("GET", "/books/v3/invoices/\(Self.invoiceID)", .fixture("invoices.get.sent"))
        let client = h.makeClient()
        _ = try await client.invoice(id: Self.invoiceID)
        _ = try await client.invoice(id: Self.invoiceID)
        await expectRemoteError({ _ = try await client.invoice(id: Self.invoiceID) }) {
            if case .dailyQuotaExhausted(let m) = $0 { return m.contains("zoho.daily_limit 2") }
            return false
        }
        #expect(h.transport.apiRequests.count == 2)
    }
}
