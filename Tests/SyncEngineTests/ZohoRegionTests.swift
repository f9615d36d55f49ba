import Foundation
import Testing
@testable import SyncEngine

@Suite struct ZohoRegionTests {
    @Test(arguments: [
        ("us", "https://accounts.zoho.com", "https://www.zohoapis.com"),
        ("eu", "https://accounts.zoho.eu", "https://www.zohoapis.eu"),
        ("in", "https://accounts.zoho.in", "https://www.zohoapis.in"),
        ("au", "https://accounts.zoho.com.au", "https://www.zohoapis.com.au"),
        ("jp", "https://accounts.zoho.jp", "https://www.zohoapis.jp"),
        ("ca", "https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),
        ("cn", "https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
        ("sa", "https://accounts.zoho.sa", "https://www.zohoapis.sa"),
        ("uk", "https://accounts.zoho.uk", "https://www.zohoapis.uk"),
    ])
    func regionTable(_ code: String, _ accounts: String, _ api: String) throws {
        let region = try #require(ZohoRegion(code: code.uppercased()))
        #expect(region.accountsURL.absoluteString == accounts)
        #expect(region.apiDomain == api)
        #expect(try ZohoRegion.validatedAPIDomain(api, region: region, allowCustom: false) == api)
    }

    @Test func unknownRegionIsNil() {
        #expect(ZohoRegion(code: "mars") == nil)
        #expect(ZohoRegion(code: " eu ") == .eu)
    }

    @Test(arguments: ["www.zohoapis.com", "www.zohoapis.com.au", "WWW.ZOHOAPIS.EU", "www.zohoapis.uk"])
    func whitelistAccepts(_ host: String) { #expect(ZohoRegion.isZohoAPIHost(host)) }

    @Test(arguments: ["zohoapis.com", "www.zohoapis.de", "www.zohoapis.com.evil.example", "api.zoho.eu", "www.zohoapis.comx",
                      "evilwww.zohoapis.com"])
    func whitelistRefuses(_ host: String) { #expect(!ZohoRegion.isZohoAPIHost(host)) }

    @Test func apiDomainChecks() throws {
        // A trailing slash is tolerated; the case of the host is normalised.
        #expect(try ZohoRegion.validatedAPIDomain("https://WWW.zohoapis.in/", region: .in, allowCustom: false) == "https://www.zohoapis.in")
        // Zoho's own example of another form falls back to the region table.
        #expect(try ZohoRegion.validatedAPIDomain("https://api.zoho.eu", region: .eu, allowCustom: false) == "https://www.zohoapis.eu")
        // Missing api_domain: the region's.
        #expect(try ZohoRegion.validatedAPIDomain(nil, region: .au, allowCustom: false) == "https://www.zohoapis.com.au")
        // A Zoho host over plain http or with a port never gets the token as given: the region's https domain is used.
        #expect(try ZohoRegion.validatedAPIDomain("http://www.zohoapis.com", region: .us, allowCustom: false) == "https://www.zohoapis.com")
        #expect(try ZohoRegion.validatedAPIDomain("https://www.zohoapis.com:8443", region: .us, allowCustom: false) == "https://www.zohoapis.com")
        // A foreign host is refused without the sandbox override.
        for bad in ["https://books.attacker.example", "http://127.0.0.1:8080", "https://www.zohoapis.com.evil.example", "not a url"] {
            #expect(throws: ZohoConfigurationError.self) { try ZohoRegion.validatedAPIDomain(bad, region: .us, allowCustom: false) }
        }
        #expect(try ZohoRegion.validatedAPIDomain("http://127.0.0.1:8080", region: .us, allowCustom: true) == "http://127.0.0.1:8080")
    }

    @Test func configurationErrorsNameTheOrganizations() {
        let a = ZohoOrganization(organizationID: "1", name: "Shop A", currencyCode: "USD")
        let b = ZohoOrganization(organizationID: "2", name: "Shop B", currencyCode: "EUR")
        let text = ZohoConfigurationError.ambiguousOrganization([a, b]).description
        #expect(text.contains("Shop A (1)") && text.contains("Shop B (2)") && text.contains("zoho.organization_id"))
    }
}
