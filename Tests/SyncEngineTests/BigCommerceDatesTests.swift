import Foundation
import Testing
@testable import SyncEngine

@Suite struct BigCommerceDatesTests {
    /// 2019-03-05 21:40:11 UTC.
    static let reference = Date(timeIntervalSince1970: 1_551_822_011)

    @Test(arguments: [
        "Tue, 05 Mar 2019 21:40:11 +0000",
        "05 Mar 2019 21:40:11 +0000",
        "Tue, 5 Mar 2019 21:40:11 GMT",
        "Tue, 05 Mar 2019 16:40:11 -0500",
        "Wed, 06 Mar 2019 03:10:11 +0530",
        "tue, 05 mar 2019 21:40:11 +0000",
    ])
    func readsRFC2822(_ text: String) {
        #expect(BigCommerceDates.parseRFC2822(text) == Self.reference)
        #expect(BigCommerceDates.parse(text) == Self.reference)
    }

    @Test(arguments: [
        "2019-03-05T21:40:11Z",
        "2019-03-05T21:40:11+00:00",
        "2019-03-05T21:40:11+0000",
        "2019-03-05T16:40:11-05:00",
        "2019-03-05T21:40:11",
    ])
    func readsISO8601(_ text: String) {
        #expect(BigCommerceDates.parseISO8601(text) == Self.reference)
        #expect(BigCommerceDates.parse(text) == Self.reference)
    }

    @Test func readsFractionalSeconds() throws {
        let d = try #require(BigCommerceDates.parse("2019-03-05T21:40:11.512Z"))
        #expect(abs(d.timeIntervalSince(Self.reference) - 0.512) < 0.000_1)
        #expect(BigCommerceDates.parse("2017-04-20T11:32:00.000-04:00") == Date(timeIntervalSince1970: 1_492_702_320))
    }

    @Test(arguments: ["", " ", "yesterday", "Tue, 31 Feb 2019 10:00:00 +0000", "Tue, 05 Foo 2019 21:40:11 +0000",
                      "05 Mar 2019 25:00:00 +0000", "2019-13-01T00:00:00Z", "2019-03-05T21:40:11+25:00",
                      "2019-03-05T21:40:11 garbage", "1551822011", "05 Mar 19 21:40:11 +0000"])
    func rejectsGarbage(_ text: String) {
        #expect(BigCommerceDates.parse(text) == nil)
    }

    @Test func formatsUTCAtWholeSeconds() {
        let d = Self.reference.addingTimeInterval(0.9)
        #expect(BigCommerceDates.rfc2822(d) == "Tue, 05 Mar 2019 21:40:11 +0000")
        #expect(BigCommerceDates.iso8601WithOffset(d) == "2019-03-05T21:40:11+00:00")
        #expect(BigCommerceDates.iso8601Zulu(d) == "2019-03-05T21:40:11Z")
        #expect(BigCommerceDates.iso8601UTCWithoutOffset(d) == "2019-03-05T21:40:11")
        #expect(BigCommerceDates.rfc2822(Date(timeIntervalSince1970: 951_782_400)) == "Tue, 29 Feb 2000 00:00:00 +0000")
    }

    @Test func formattingRoundTrips() {
        for seconds in stride(from: 0.0, to: 4_102_444_800, by: 86_399 * 37) {
            let d = Date(timeIntervalSince1970: seconds)
            #expect(BigCommerceDates.parse(BigCommerceDates.rfc2822(d)) == d)
            #expect(BigCommerceDates.parse(BigCommerceDates.iso8601WithOffset(d)) == d)
        }
    }
}
