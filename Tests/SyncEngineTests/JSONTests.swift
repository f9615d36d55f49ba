import Foundation
import Testing
@testable import SyncEngine

@Suite struct JSONTests {
    @Test func keepsNumberLiteralsAndIds() throws {
        let j = try JSON.parse(#"{"id": 982000000567114123, "total": "336.3200", "amt": 0.1, "neg": -12.5e0}"#)
        #expect(j["id"]?.stringOrNumberText == "982000000567114123")
        #expect(j["total"]?.decimal == Decimal(string: "336.32"))
        #expect(j["amt"]?.decimal == Decimal(string: "0.1"))
        #expect(j["neg"]?.decimal == Decimal(-12.5))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\":}", "tru", "\"abc", "{\"a\":1}x", "01x"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: JSONError.self) { try JSON.parse(text) }
    }

    @Test func roundTripsUnicodeAndControlCharacters() throws {
        let original: JSON = ["name": "Zoë \u{1F600} \"q\" \n\t\u{01}", "n": .decimal(Decimal(string: "12.50")!)]
        let back = try JSON.parse(original.serialized())
        #expect(back == original)
        #expect(original.serializedString(sortedKeys: true) == #"{"n":12.5,"name":"Zoë 😀 \"q\" \n\t\u0001"}"#)
    }

    @Test func roundsHalfAwayFromZero() {
        #expect(Decimal(string: "0.125")!.roundedToCents == Decimal(string: "0.13")!)
        #expect(Decimal(string: "-0.125")!.roundedToCents == Decimal(string: "-0.13")!)
        #expect(Decimal(string: "12.5")!.centsString == "12.50")
        #expect(Decimal(string: "-3")!.centsString == "-3.00")
        #expect(Decimal.parse("12,5") == nil)
        #expect(Decimal.parse("NaN") == nil)
    }
}
