import Foundation
import Testing
@testable import SyncEngine

private func dec(_ s: String) -> Decimal { Decimal(string: s, locale: Locale(identifier: "en_US_POSIX"))! }

/// Replies with one fixture and returns what the client made of it.
private func client(replying fixture: String, status: Int = 200) throws -> BigCommerceClient {
    let stub = StubTransport()
    try stub.enqueue(status: status, fixture: fixture)
    return makeBigCommerceClient(stub)
}

@Suite struct BigCommerceDecodingTests {
    // MARK: Every fixture

    @Test func everyFixtureDecodes() async throws {
        let paths = try Fixture.all(in: "bigcommerce")
        #expect(paths.count >= 20)
        for path in paths {
            let name = String(path.dropFirst("bigcommerce/".count))
            switch name {
            case "orders.truncated.json":
                #expect(throws: JSONError.self) { try Fixture.json(path) }
            case _ where name.hasPrefix("orders."):
                let page = try await client(replying: path).orders(OrderQuery())
                #expect(!page.records.isEmpty, "\(name)")
                if name != "orders.malformed-record.json" && name != "orders.invalid-quantity.json" {
                    #expect(page.rejected.isEmpty, "\(name): \(page.rejected)")
                }
            case "order.single.json":
                #expect(try await client(replying: path).order(id: 218) != nil)
            case "order.products.bundle.json":
                #expect(try await client(replying: path).orderProducts(orderID: 250).count == 3)
            case "order.taxes.details.json":
                #expect(try await client(replying: path).orderTaxes(orderID: 218).count == 3)
            case "order.coupons.json":
                #expect(try await client(replying: path).orderCoupons(orderID: 218).count == 2)
            case "order.fees.json":
                #expect(try await client(replying: path).orderFees(orderID: 218).count == 2)
            case "order.shipping_addresses.json":
                #expect(try await client(replying: path).orderShipping(orderID: 218).count == 1)
            case "transactions.list.json":
                #expect(try await client(replying: path).transactions(orderID: 218).count == 3)
            case "refunds.list.json":
                #expect(try await client(replying: path).refunds(orderID: 218).count == 2)
            case "customers.list.json", "customers.last-page.json":
                let page = try await client(replying: path).customers(modifiedFrom: Date(), modifiedTo: nil, after: nil, limit: 2)
                #expect(!page.records.isEmpty && page.rejected.isEmpty)
            case "time.json":
                _ = try await client(replying: path).serverTime()
            case _ where name.hasPrefix("errors."):
                #expect(BigCommerceErrorBody.message(from: try Fixture.data(path)) != nil, "\(name)")
            default:
                Issue.record("fixture \(name) has no decoding check")
            }
        }
    }

    // MARK: Orders

    @Test func decodesOrderMoneyExactlyAndItsDates() async throws {
        let page = try await client(replying: "bigcommerce/orders.list.json").orders(OrderQuery())
        #expect(page.records.map(\.id) == [300, 301, 302])
        let o = page.records[1]
        #expect(o.totalIncTax == dec("336.32"))
        #expect(o.totalIncTax.plainString == "336.32")
        #expect(o.customerID == 12, "customer_id may arrive as a string")
        #expect(o.statusID == 5 && o.status == "Cancelled")
        #expect(o.dateCreated == BigCommerceDates.parse("2024-04-01T09:30:00Z"))
        #expect(o.dateModified == BigCommerceDates.parse("2024-04-02T11:00:00Z"))
        #expect(o.products == nil, "lines behind a resource link are not loaded")
        #expect(o.shipping == nil && o.fees == nil && o.taxes == nil && o.coupons == nil)
        #expect(o.billingAddress.email == "jane@example.com" && o.billingAddress.countryISO2 == "US")
        #expect(page.records[2].isDeleted)
        #expect(page.records[0].shippingCostIncTax == dec("10.8"))
        #expect(page.records[0].storeDefaultToTransactionalExchangeRate == 1)
    }

    @Test func decodesTaxInclusiveMultiCurrencyOrder() async throws {
        let o = try #require(try await client(replying: "bigcommerce/orders.tax-inclusive.json").orders(OrderQuery()).records.first)
        #expect(o.isTaxInclusivePricing)
        #expect(o.defaultCurrencyCode == "GBP" && o.storeDefaultCurrencyCode == "USD")
        #expect(o.storeDefaultToTransactionalExchangeRate == dec("0.7912"))
        #expect(o.subtotalExTax == dec("91.6667") && o.subtotalTax == dec("18.3333"))
        #expect(o.totalIncTax == dec("120"))
    }

    @Test func mergesSplitConsignmentsAndKeepsPickupAndDownloadLines() async throws {
        let page = try await client(replying: "bigcommerce/orders.list-with-consignments.json").orders(OrderQuery())
        #expect(page.rejected.isEmpty)
        let split = try #require(page.records.first { $0.id == 219 })
        #expect(split.products?.map(\.id) == [311, 312, 313, 314], "line 311 ships in two consignments but appears once")
        #expect(split.products?.first?.quantity == 3)
        #expect(split.products?.first { $0.id == 314 }?.type == "digital")
        #expect(split.shipping?.map(\.id) == [10, 11])
        #expect(split.shipping?.map(\.costIncTax) == [dec("6.48"), dec("4.32")])
        #expect(split.shipping?.last?.method == "Express")
        #expect(split.fees == [])
        #expect(split.customerID == 0 && split.billingAddress.email == "Guest@Example.com")

        let simple = try #require(page.records.first { $0.id == 218 })
        let lines = try #require(simple.products)
        #expect(lines.map(\.sku) == ["OTL-1", "SLCTBS"])
        #expect(lines[0].quantity == 2 && lines[0].priceExTax == dec("40") && lines[0].totalIncTax == dec("86.4"))
        #expect(lines[0].options == ["Size: Large"])
        #expect(lines[0].orderAddressID == 9)
        #expect(lines[1].discountedTotalIncTax == dec("9.72"))
        #expect(lines[1].appliedDiscounts == [BCAppliedDiscount(id: "manual-discount", amount: dec("1"), name: "Manual Discount", code: nil, target: "order")])
        let fee = try #require(simple.fees?.first)
        #expect(fee.name == "Small order fee" && fee.costExTax == dec("2.5") && fee.costTax == dec("0.2") && fee.taxClassID == 2)
        #expect(simple.shipping?.first?.address.street1 == "12345 W Anderson Ln")
    }

    @Test func quarantinesBadRecordsAndKeepsTheRest() async throws {
        let page = try await client(replying: "bigcommerce/orders.malformed-record.json").orders(OrderQuery())
        #expect(page.records.map(\.id) == [500, 502, 506])
        #expect(page.records.first { $0.id == 502 }?.statusID == 42, "an unknown status id is kept for the planner")
        #expect(page.rejected.map(\.entityKey) == ["order:501", "order:?", "order:504", "order:505"])
        #expect(page.rejected[0].reason.contains("date_modified") && page.rejected[0].reason.contains("yesterday-ish"))
        #expect(page.rejected[1].reason.contains("orders[3]") && page.rejected[1].reason.contains("id"))
        #expect(page.rejected[2].reason.contains("total_inc_tax"))
        #expect(page.rejected[3].reason.contains("date_modified: missing"))
        #expect(page.isLastPage, "7 raw records on a page of 250 is the last page")
    }

    @Test func rejectsAnOrderWithANonPositiveQuantity() async throws {
        let page = try await client(replying: "bigcommerce/orders.invalid-quantity.json").orders(OrderQuery())
        #expect(page.records.map(\.id) == [701])
        let rejected = try #require(page.rejected.first)
        #expect(rejected.entityKey == "order:700")
        #expect(rejected.reason.contains("line 701 has quantity 0"))
    }

    @Test func toleratesOddButValidOrderFields() async throws {
        let stub = StubTransport()
        stub.enqueue(status: 200, text: """
        [{"id": 9, "customer_id": null, "date_created": "05 Mar 2019 21:40:11 -0500", "date_modified": "2019-03-06T02:40:11.250Z",
          "date_shipped": "", "status_id": "11", "total_inc_tax": 12.1, "total_ex_tax": "", "brand_new_field": {"x": [1]},
          "is_tax_inclusive_pricing": "false", "billing_address": null}]
        """)
        let o = try #require(try await makeBigCommerceClient(stub).orders(OrderQuery()).records.first)
        #expect(o.totalIncTax == dec("12.1"))
        #expect(o.totalExTax == 0)
        #expect(o.customerID == 0 && o.statusID == 11 && !o.isTaxInclusivePricing)
        #expect(o.dateCreated == BigCommerceDates.parse("2019-03-06T02:40:11Z"))
    }

    @Test func aBadSingleOrderIsMalformed() async throws {
        let stub = StubTransport()
        stub.enqueue(status: 200, text: #"{"id": 9, "date_created": "nope", "date_modified": "nope", "status_id": 1, "total_inc_tax": "1"}"#)
        await #expect {
            _ = try await makeBigCommerceClient(stub).order(id: 9)
        } throws: { error in
            guard case RemoteError.malformed(.bigcommerce, let m) = error else { return false }
            return m.hasPrefix("order:9:") && m.contains("date_created")
        }
    }

    // MARK: Sub-resources

    @Test func keepsBundleChildrenWithTheirParent() async throws {
        let lines = try await client(replying: "bigcommerce/order.products.bundle.json").orderProducts(orderID: 250)
        #expect(lines.map(\.id) == [401, 402, 403])
        #expect(lines[0].parentOrderProductID == nil && !lines[0].isBundledProduct)
        #expect(lines[1].parentOrderProductID == 401 && lines[1].isBundledProduct)
        #expect(lines[2].parentOrderProductID == 401 && lines[2].quantity == 2 && lines[2].priceExTax == 0)
        #expect(lines[0].priceIncTax == dec("54") && lines[0].variantID == 771)
    }

    @Test func aBadLineMakesTheProductListMalformed() async throws {
        let stub = StubTransport()
        stub.enqueue(status: 200, text: #"[{"id": 1, "quantity": 1}, {"id": 2, "quantity": -1}]"#)
        await #expect {
            _ = try await makeBigCommerceClient(stub).orderProducts(orderID: 77)
        } throws: { error in
            guard case RemoteError.malformed(.bigcommerce, let m) = error else { return false }
            return m.contains("order:77") && m.contains("line 2 has quantity -1")
        }
    }

    @Test func decodesTaxDetails() async throws {
        let taxes = try await client(replying: "bigcommerce/order.taxes.details.json").orderTaxes(orderID: 218)
        #expect(taxes.map(\.orderProductID) == [301, 302, nil])
        #expect(taxes.map(\.lineItemType) == ["item", "item", "shipping"])
        #expect(taxes.allSatisfy { $0.rate == 8 })
        #expect(taxes[0].lineAmount == dec("6.4") && taxes[0].orderAddressID == 9 && taxes[2].taxClass == "Shipping")
    }

    @Test func decodesCouponsWithNumbersOrStrings() async throws {
        let coupons = try await client(replying: "bigcommerce/order.coupons.json").orderCoupons(orderID: 218)
        #expect(coupons.map(\.discount) == [dec("4.5"), dec("3")])
        #expect(coupons.map(\.code) == ["SPRING5", ""])
        #expect(coupons.map(\.type) == [1, 2])
    }

    @Test func decodesFeesLeniently() async throws {
        let fees = try await client(replying: "bigcommerce/order.fees.json").orderFees(orderID: 218)
        #expect(fees.map(\.id) == [1, 2])
        #expect(fees[1].name == "Eco packaging", "falls back to the merchant name")
        #expect(fees[1].costExTax == dec("1.5"), "the misspelt cost_exc_tax is accepted")
        #expect(fees[1].costIncTax == dec("1.62") && fees[1].costTax == dec("0.12") && fees[1].taxClassID == nil)
    }

    @Test func decodesShippingAddresses() async throws {
        let rows = try await client(replying: "bigcommerce/order.shipping_addresses.json").orderShipping(orderID: 218)
        let s = try #require(rows.first)
        #expect(s.id == 9 && s.method == "Flat Rate" && s.costExTax == 10 && s.costTax == dec("0.8"))
        #expect(s.address.city == "Austin" && s.address.zip == "78757")
    }

    // MARK: v3

    @Test func decodesTransactionsWithExactNumbers() async throws {
        let txns = try await client(replying: "bigcommerce/transactions.list.json").transactions(orderID: 218)
        #expect(txns.map(\.amount) == [dec("96.1"), dec("12.1"), dec("12.1")])
        #expect(txns[1].amount.plainString == "12.1", "a JSON number 12.1 is exactly 12.1")
        #expect(txns.map(\.orderID) == [218, 218, 218], "order_id is a string in the API")
        #expect(txns.map(\.isCapturedPayment) == [true, false, true])
        #expect(txns[0].gateway == "stripe" && txns[0].gatewayTransactionID == "ch_1abc" && txns[0].currency == "USD")
        #expect(txns[0].dateCreated == BigCommerceDates.parse("2019-03-05T21:40:13Z"))
        #expect(abs(txns[2].dateCreated.timeIntervalSince(BigCommerceDates.parse("2019-03-05T21:41:00Z")!) - 0.512) < 0.001)
    }

    @Test func decodesRefunds() async throws {
        let page = try await client(replying: "bigcommerce/refunds.list.json")
            .refunds(createdFrom: Date(), createdTo: Date(), page: 1, limit: 50)
        #expect(page.isLastPage, "meta.pagination says 1 of 1")
        #expect(page.records.map(\.id) == [1, 2])
        let r = page.records[0]
        #expect(r.totalAmount == dec("43.2") && r.totalTax == dec("3.2") && r.orderID == 218)
        #expect(r.created == BigCommerceDates.parse("2022-06-16T16:44:15Z"))
        #expect(r.items.first?.itemType == "PRODUCT" && r.items.first?.quantity == 1 && r.items.first?.requestedAmount == nil)
        #expect(r.payments.first?.providerID == "stripe" && r.payments.first?.amount == dec("43.2"))
        let goodwill = page.records[1]
        #expect(goodwill.items.map(\.requestedAmount) == [dec("6.48"), dec("3.52")])
        #expect(goodwill.payments.first?.offline == true)
    }

    @Test func quarantinesABadRefund() async throws {
        let stub = StubTransport()
        stub.enqueue(status: 200, text: """
        {"data": [{"id": 1, "order_id": 5, "created": "2022-06-16T16:44:15+00:00", "total_amount": 1},
                  {"id": 2, "order_id": 5, "created": "2022-06-16T16:44:15+00:00", "total_amount": "lots"}], "meta": {}}
        """)
        let page = try await makeBigCommerceClient(stub).refunds(createdFrom: Date(), createdTo: Date(), page: 1, limit: 250)
        #expect(page.records.map(\.id) == [1])
        #expect(page.rejected.map(\.entityKey) == ["refund:2"])
    }

    @Test func decodesCustomersWithAddresses() async throws {
        let page = try await client(replying: "bigcommerce/customers.list.json")
            .customers(modifiedFrom: Date(), modifiedTo: nil, after: nil, limit: 2)
        let jane = try #require(page.records.first)
        #expect(jane.email == "jane@example.com" && jane.firstName == "Jane" && jane.lastName == "Doe")
        #expect(jane.dateModified == BigCommerceDates.parse("2024-04-01T10:00:00Z"))
        let a = try #require(jane.addresses.first)
        #expect(a.street1 == "12345 W Anderson Ln" && a.street2 == "Suite 2" && a.state == "Texas")
        #expect(a.zip == "78757" && a.countryISO2 == "US" && a.company == "Doe Gardens")
    }

    // MARK: Error bodies

    @Test func readsBothErrorShapes() throws {
        #expect(BigCommerceErrorBody.message(from: try Fixture.data("bigcommerce/errors.v2-404.json")) == "The requested resource was not found.")
        #expect(BigCommerceErrorBody.message(from: try Fixture.data("bigcommerce/errors.v3-422.json"))
            == "JSON data is missing or invalid — date_modified:min: error.path.invalid")
        #expect(BigCommerceErrorBody.message(from: Data(#"{"data":[{"status":422,"title":"Refund exceeds"}]}"#.utf8)) == "Refund exceeds")
        #expect(BigCommerceErrorBody.message(from: Data("<html>Bad gateway</html>".utf8)) == nil)
    }
}
