import Foundation
import Testing
@testable import SyncEngine

@Suite struct ZohoTotalsTests {
    func d(_ s: String) -> Decimal { Decimal(string: s)! }

    func line(_ rate: String, qty: String = "1", discount: String = "0", tax: String? = nil, percent: String = "0") -> DocumentLine {
        var l = DocumentLine(name: "L", rate: d(rate), quantity: d(qty))
        l.discountAmount = d(discount)
        l.taxID = tax
        l.taxPercentage = d(percent)
        return l
    }

    @Test func exclusiveItemLevelVersusEntityLevel() {
        // Three lines of 1.00 at 10.5%: each tax 0.105.
        let lines = (0..<3).map { _ in line("1.00", tax: "T", percent: "10.5") }
        let item = ZohoTotals.compute(lines: lines, isInclusiveTax: false, adjustment: 0, taxRounding: .itemLevel)
        #expect(item.taxTotal == d("0.33"))  // 0.11 × 3
        #expect(item.subTotal == d("3.00"))
        #expect(item.total == d("3.33"))
        let entity = ZohoTotals.compute(lines: lines, isInclusiveTax: false, adjustment: 0, taxRounding: .entityLevel)
        #expect(entity.taxTotal == d("0.32"))  // round(0.315)
        #expect(entity.total == d("3.32"))
    }

    @Test func entityLevelRoundsPerTax() {
        // Two taxes of the same rate: each sum (0.105) is rounded on its own → 0.11 + 0.11.
        let lines = [line("1.00", tax: "A", percent: "10.5"), line("1.00", tax: "B", percent: "10.5")]
        let t = ZohoTotals.compute(lines: lines, isInclusiveTax: false, adjustment: 0, taxRounding: .entityLevel)
        #expect(t.taxTotal == d("0.22"))
        #expect(t.total == d("2.22"))
    }

    @Test func discountsComeOffTheLineBeforeTax() {
        // 19.99 × 3 − 5.00 = 54.97; 8.25% of it = 4.535025 → 4.54.
        let lines = [line("19.99", qty: "3", discount: "5.00", tax: "T", percent: "8.25"), line("4.95")]
        for mode in ZohoTaxRounding.allCases {
            let t = ZohoTotals.compute(lines: lines, isInclusiveTax: false, adjustment: 0, taxRounding: mode)
            #expect(t.lineTotals == [d("54.97"), d("4.95")])
            #expect(t.subTotal == d("59.92"))
            #expect(t.taxTotal == d("4.54"))
            #expect(t.total == d("64.46"))
        }
    }

    @Test func lineTotalsAreRoundedHalfAwayFromZero() {
        let t = ZohoTotals.compute(lines: [line("0.125"), line("-0.125"), line("0.333", qty: "3")], isInclusiveTax: false,
                                   adjustment: 0, taxRounding: .itemLevel)
        #expect(t.lineTotals == [d("0.13"), d("-0.13"), d("1.00")])
        #expect(t.total == d("1.00"))
    }

    @Test func inclusiveTaxIsBackedOut() {
        // 10.00 including 20%: tax 10 × 20/120 = 1.6666… → 1.67, sub total 8.33, total stays 10.00.
        let one = ZohoTotals.compute(lines: [line("10.00", tax: "V", percent: "20")], isInclusiveTax: true, adjustment: 0,
                                     taxRounding: .itemLevel)
        #expect(one.taxTotal == d("1.67"))
        #expect(one.subTotal == d("8.33"))
        #expect(one.total == d("10.00"))
        // Two such lines: per line 1.67 + 1.67 = 3.34, per document round(3.3333…) = 3.33; the total is 20.00 either way.
        let two = [line("10.00", tax: "V", percent: "20"), line("10.00", tax: "V", percent: "20")]
        let item = ZohoTotals.compute(lines: two, isInclusiveTax: true, adjustment: 0, taxRounding: .itemLevel)
        let entity = ZohoTotals.compute(lines: two, isInclusiveTax: true, adjustment: 0, taxRounding: .entityLevel)
        #expect(item.taxTotal == d("3.34") && item.subTotal == d("16.66") && item.total == d("20.00"))
        #expect(entity.taxTotal == d("3.33") && entity.subTotal == d("16.67") && entity.total == d("20.00"))
    }

    @Test func adjustmentIsAddedAfterTax() {
        let t = ZohoTotals.compute(lines: [line("100.00", tax: "T", percent: "7.25")], isInclusiveTax: false,
                                   adjustment: d("-0.01"), taxRounding: .entityLevel)
        #expect(t.taxTotal == d("7.25"))
        #expect(t.total == d("107.24"))
        let inc = ZohoTotals.compute(lines: [line("10.00", tax: "V", percent: "20")], isInclusiveTax: true,
                                     adjustment: d("0.02"), taxRounding: .entityLevel)
        #expect(inc.total == d("10.02"))
    }

    @Test func linesWithoutATaxIDHaveNoTax() {
        let t = ZohoTotals.compute(lines: [line("10.00", tax: nil, percent: "20")], isInclusiveTax: false, adjustment: 0,
                                   taxRounding: .itemLevel)
        #expect(t.taxTotal == 0)
        #expect(t.total == d("10.00"))
    }

    @Test func matchesTheRecordedInvoice() throws {
        // invoices.create.ok: 199.99 − 20.00 at 8.25% plus 12.50 shipping, adjustment 0.01 → 207.35.
        let json = ZohoFixture.json("invoices.create.ok")["invoice"]!
        var tent = line("199.99", discount: "20.00", tax: "982000000557028", percent: "8.25")
        tent.productType = "goods"
        let t = ZohoTotals.compute(lines: [tent, line("12.50")], isInclusiveTax: false, adjustment: d("0.01"), taxRounding: .entityLevel)
        #expect(t.subTotal == json["sub_total"]?.decimal)
        #expect(t.taxTotal == json["tax_total"]?.decimal)
        #expect(t.total == json["total"]?.decimal)
    }
}
