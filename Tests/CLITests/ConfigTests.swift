import Foundation
import Testing

/// The config file and its environment overrides, through the built binary.
@Suite struct ConfigTests {
    @Test func aBadValueNamesTheLine() throws {
        let scratch = try Scratch()
        try scratch.initialize()
        let lines = try scratch.appendToConfig("\n[zoho]\nrequests_per_minute = lots\n")
        let result = try scratch.run(["status"])
        #expect(result.exitCode == 78, "\(result)")
        #expect(result.failureLines.count == 1)
        #expect(result.stderr.contains("zbsync.conf line \(lines + 3): zoho.requests_per_minute"), "\(result)")
        #expect(result.stderr.contains("got 'lots'"))
    }

    @Test func anUnknownKeyNamesTheLineAndSuggests() throws {
        let scratch = try Scratch()
        try scratch.initialize()
        let lines = try scratch.appendToConfig("[sync]\nlookbak = 600 # typo\n")
        let result = try scratch.run(["status"])
        #expect(result.exitCode == 78, "\(result)")
        #expect(result.stderr.contains("line \(lines + 2): unknown key 'lookbak' in [sync] (did you mean 'lookback'?)"), "\(result)")
    }

    @Test func aLineWithoutEqualsIsRefused() throws {
        let scratch = try Scratch()
        try scratch.initialize()
        let lines = try scratch.appendToConfig("just some words\n")
        let result = try scratch.run(["status"])
        #expect(result.exitCode == 78)
        #expect(result.stderr.contains("line \(lines + 1): expected 'key = value'"), "\(result)")
    }

    @Test func quotedValuesAndTrailingCommentsAreRead() throws {
        let scratch = try Scratch()
        try scratch.initialize()
        _ = try scratch.appendToConfig("[zoho]\ndaily_limit = 2500   # our plan\n[orders]\ninvoice_prefix = \"BC #\"\n")
        let result = try scratch.run(["status", "--json"])
        #expect(result.exitCode == 0, "\(result)")
        let zoho = try #require(try jsonObject(result.stdout)["zoho"] as? [String: Any])
        #expect((zoho["daily_limit"] as? NSNumber)?.intValue == 2500)
    }

    @Test func neverInvoicedStatusesAreRefused() throws {
        let scratch = try Scratch()
        try scratch.initialize()
        _ = try scratch.appendToConfig("[orders]\nstatuses = 1,2,3\n")
        let result = try scratch.run(["status"])
        #expect(result.exitCode == 78)
        #expect(result.stderr.contains("never invoiced"), "\(result)")
    }

    @Test func environmentOverridesWinAndAreValidated() throws {
        let scratch = try Scratch()
        try scratch.initialize()
        let good = try scratch.run(["status", "--json"], environment: ["ZBSYNC_ZOHO_DAILY_LIMIT": "5000"])
        #expect(good.exitCode == 0, "\(good)")
        let zoho = try #require(try jsonObject(good.stdout)["zoho"] as? [String: Any])
        #expect((zoho["daily_limit"] as? NSNumber)?.intValue == 5000)

        let bad = try scratch.run(["status"], environment: ["ZBSYNC_ZOHO_REQUESTS_PER_MINUTE": "fast"])
        #expect(bad.exitCode == 78, "\(bad)")
        #expect(bad.failureLines.count == 1)
        #expect(bad.stderr.contains("ZBSYNC_ZOHO_REQUESTS_PER_MINUTE"))

        let badZone = try scratch.run(["status"], environment: ["ZBSYNC_STORE_TIMEZONE": "Mars/Olympus"])
        #expect(badZone.exitCode == 78)
        #expect(badZone.stderr.contains("ZBSYNC_STORE_TIMEZONE"))
    }
}
