import Foundation
import Testing

/// `zbsync webhooks register`: prints the BigCommerce calls, sends nothing, prints no secret.
@Suite struct WebhookRegisterTests {
    @Test func printsOneHookPerScopeWithoutSecrets() throws {
        let scratch = try Scratch()
        try scratch.initialize()
        let token = "bc-api-token-reg-1"
        let clientSecret = "bc-client-secret-reg-1"
        let auth = try scratch.run(["auth", "bigcommerce", "--store-hash", "abc123"],
                                   environment: ["ZBSYNC_BIGCOMMERCE_TOKEN": token, "ZBSYNC_BIGCOMMERCE_CLIENT_SECRET": clientSecret])
        try #require(auth.exitCode == 0, "\(auth)")
        let result = try scratch.run(["webhooks", "register", "--destination", "https://hooks.example.com/zbsync"],
                                     environment: ["ZBSYNC_BIGCOMMERCE_TOKEN": token])
        #expect(result.exitCode == 0, "\(result)")
        #expect(result.stdout.contains("POST https://api.bigcommerce.com/stores/abc123/v3/hooks"), "\(result)")
        for scope in ["store/order/*", "store/customer/*"] {
            #expect(result.stdout.contains(#""scope":"\#(scope)","destination":"https://hooks.example.com/zbsync""#), "\(result)")
        }
        #expect(result.stdout.contains("X-Zbsync-Token"))
        #expect(!result.stdout.contains(token) && !result.stdout.contains(clientSecret) && !result.stderr.contains(token))
    }

    @Test(arguments: ["http://hooks.example.com/zbsync", "https://hooks.example.com:8443/zbsync", "hooks.example.com"])
    func refusesADestinationBigCommerceCannotDeliverTo(_ destination: String) throws {
        let scratch = try Scratch()
        try scratch.initialize()
        let result = try scratch.run(["webhooks", "register", "--destination", destination])
        #expect(result.exitCode == 64, "\(result)")
        #expect(result.stderr.contains("443"), "\(result)")
    }
}
