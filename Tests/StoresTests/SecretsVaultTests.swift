import Foundation
import Testing
@testable import Stores

@Suite struct SecretsVaultTests {
    let home = TempHome()

    @Test func roundTrip() throws {
        let vault = SecretsVault(key: MasterKey.generate())
        for value in ["1000.refresh.token", "", "clé ✓ ünïcode", String(repeating: "x", count: 5_000)] {
            let sealed = try vault.encrypt(Secret(value), name: "zoho.refresh_token")
            #expect(sealed.keyID == vault.keyID)
            #expect(sealed.blob.count == 1 + 12 + value.utf8.count + 16)
            #expect(sealed.blob.first == SecretsVault.blobVersion)
            #expect(try vault.decrypt(blob: sealed.blob, name: "zoho.refresh_token", keyID: sealed.keyID).reveal() == value)
        }
    }

    @Test func nonceDiffersPerEncryption() throws {
        let vault = SecretsVault(key: MasterKey.generate())
        let a = try vault.encrypt(Secret("same"), name: "n")
        let b = try vault.encrypt(Secret("same"), name: "n")
        #expect(a.blob[1..<13] != b.blob[1..<13])
        #expect(a.blob != b.blob)
    }

    @Test(arguments: [0, 1, 12, 14, -1])
    func tamperingIsRejected(offset: Int) throws {
        let vault = SecretsVault(key: MasterKey.generate())
        var blob = try vault.encrypt(Secret("canary-tamper-secret"), name: "n").blob
        // Version byte, nonce, ciphertext and tag in turn.
        let index = offset >= 0 ? offset : blob.count - 1
        blob[index] ^= 0x01
        let error = #expect(throws: VaultError.self) { try vault.decrypt(blob: blob, name: "n", keyID: vault.keyID) }
        #expect(error == (offset == 0 ? .malformedBlob(name: "n") : .decryptionFailed(name: "n")))
        #expect(error.map { !$0.description.contains("canary-tamper-secret") } == true)
    }

    @Test func truncatedBlobIsRejected() throws {
        let vault = SecretsVault(key: MasterKey.generate())
        let blob = try vault.encrypt(Secret("s"), name: "n").blob
        #expect(throws: VaultError.malformedBlob(name: "n")) { try vault.decrypt(blob: blob.prefix(20), name: "n", keyID: vault.keyID) }
    }

    @Test func wrongKeyIsRejected() throws {
        let right = SecretsVault(key: MasterKey.generate())
        let wrong = SecretsVault(key: MasterKey.generate())
        let sealed = try right.encrypt(Secret("canary-wrong-key"), name: "n")
        #expect(throws: VaultError.keyMismatch(name: "n", storedKeyID: right.keyID, activeKeyID: wrong.keyID)) {
            try wrong.decrypt(blob: sealed.blob, name: "n", keyID: sealed.keyID)
        }
        // Even relabelled with the wrong key's id, authentication fails.
        #expect(throws: VaultError.decryptionFailed(name: "n")) {
            try wrong.decrypt(blob: sealed.blob, name: "n", keyID: wrong.keyID)
        }
    }

    @Test func blobMovedToAnotherNameIsRejected() throws {
        let store = try makeStore(home)
        try store.setSecret(Secret("canary-aad-secret"), name: "bigcommerce.access_token")
        try store.setSecret(Secret("other"), name: "zoho.client_secret")
        try store.withDatabase { db in
            try db.run("""
                UPDATE secrets SET blob = (SELECT blob FROM secrets WHERE name = 'bigcommerce.access_token')
                WHERE name = 'zoho.client_secret'
                """)
        }
        let error = #expect(throws: VaultError.self) { try store.secret("zoho.client_secret") }
        #expect(error == .decryptionFailed(name: "zoho.client_secret"))
        #expect(error.map { !$0.description.contains("canary-aad-secret") } == true)
        #expect(try store.secret("bigcommerce.access_token")?.reveal() == "canary-aad-secret")
    }

    @Test func secretStoreCrud() throws {
        let store = try makeStore(home)
        #expect(try store.secret("missing") == nil)
        try store.setSecret(Secret("v1"), name: "b")
        try store.setSecret(Secret("v2"), name: "a")
        try store.setSecret(Secret("v3"), name: "b")
        #expect(try store.secretNames() == ["a", "b"])
        #expect(try store.secret("b")?.reveal() == "v3")
        try store.deleteSecret("b")
        #expect(try store.secretNames() == ["a"])
    }

    @Test func rotationReencryptsEveryRow() throws {
        let oldKey = MasterKey.generate()
        let store = try makeStore(home, key: oldKey)
        let values = ["zoho.refresh_token": "r-1", "zoho.client_secret": "c-2", "bigcommerce.access_token": "b-3"]
        for (name, value) in values { try store.setSecret(Secret(value), name: name) }
        try store.saveZohoSession(ZohoSession(accessToken: Secret("a-4"), expiresAt: t(3600), apiDomain: "https://www.zohoapis.eu"))
        let blobsBefore = try store.withDatabase { db in try db.query("SELECT blob FROM secrets ORDER BY name") { $0.data(0) } }

        let newKey = MasterKey.generate()
        #expect(try store.rotateKey(to: newKey) == 4)
        #expect(store.activeKeyID == newKey.keyID)

        let keyIDs = try store.withDatabase { db in
            try db.query("SELECT key_id FROM secrets UNION ALL SELECT key_id FROM tokens") { $0.string(0) }
        }
        #expect(keyIDs.count == 4 && keyIDs.allSatisfy { $0 == newKey.keyID })
        let blobsAfter = try store.withDatabase { db in try db.query("SELECT blob FROM secrets ORDER BY name") { $0.data(0) } }
        #expect(zip(blobsBefore, blobsAfter).allSatisfy { $0 != $1 })
        for (name, value) in values { #expect(try store.secret(name)?.reveal() == value) }
        #expect(try store.zohoSession()?.accessToken.reveal() == "a-4")

        // The old key no longer opens anything.
        let withOldKey = try makeStore(home, key: oldKey)
        #expect(throws: VaultError.self) { try withOldKey.secret("zoho.refresh_token") }
        #expect(throws: VaultError.self) { try withOldKey.zohoSession() }
        let withNewKey = try makeStore(home, key: newKey)
        #expect(try withNewKey.secret("zoho.client_secret")?.reveal() == "c-2")
    }

    @Test func rotationWithAnUnreadableRowChangesNothing() throws {
        let oldKey = MasterKey.generate()
        let store = try makeStore(home, key: oldKey)
        try store.setSecret(Secret("good"), name: "a")
        try store.setSecret(Secret("bad"), name: "b")
        try store.withDatabase { db in try db.run("UPDATE secrets SET blob = zeroblob(40) WHERE name = 'b'") }
        #expect(throws: VaultError.self) { try store.rotateKey(to: MasterKey.generate()) }
        #expect(store.activeKeyID == oldKey.keyID)
        #expect(try store.secret("a")?.reveal() == "good")
    }
}

@Suite struct MasterKeyTests {
    let home = TempHome()

    @Test func createWritesA0600FileAndLoadReadsIt() throws {
        let created = try MasterKey.create(home: home.url)
        let path = MasterKey.keyFileURL(home: home.url).path
        #expect(fileMode(path) == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix("\n") && Data(base64Encoded: text.trimmingCharacters(in: .newlines))?.count == 32)
        let loaded = try MasterKey.load(home: home.url, environment: [:])
        #expect(loaded.keyID == created.keyID && loaded.keyID.count == 8)
        #expect(throws: VaultError.keyFileExists(path: path)) { try MasterKey.create(home: home.url) }
        #expect("\(loaded)" == "MasterKey(\(loaded.keyID))")
    }

    @Test(arguments: [0o644, 0o640, 0o400, 0o700])
    func keyFileWithOtherModeIsRefused(mode: Int) throws {
        _ = try MasterKey.create(home: home.url)
        let path = MasterKey.keyFileURL(home: home.url).path
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        let error = #expect(throws: VaultError.self) { try MasterKey.load(home: home.url, environment: [:]) }
        #expect(error?.description.contains("chmod 600 \(path)") == true)
    }

    @Test func keyFileThatIsADirectoryIsRefused() throws {
        let path = MasterKey.keyFileURL(home: home.url).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        #expect(throws: VaultError.self) { try MasterKey.load(home: home.url, environment: [:]) }
    }

    @Test func missingKeyFileSaysWhatToDo() throws {
        let error = #expect(throws: VaultError.self) { try MasterKey.load(home: home.url, environment: [:]) }
        #expect(error?.description.contains("zbsync init") == true)
    }

    @Test func environmentKeyWinsAndMustBe32Bytes() throws {
        let fileKey = try MasterKey.create(home: home.url)
        let raw = (0..<32).map { UInt8($0) }
        let env = ["ZBSYNC_KEY": Data(raw).base64EncodedString()]
        let fromEnv = try MasterKey.load(home: home.url, environment: env)
        #expect(fromEnv.keyID == MasterKey(bytes: raw)!.keyID && fromEnv.keyID != fileKey.keyID)

        let short = Data(repeating: 7, count: 31).base64EncodedString()
        #expect(throws: VaultError.environmentKeyInvalid(byteCount: 31)) {
            try MasterKey.load(home: home.url, environment: ["ZBSYNC_KEY": short])
        }
        #expect(throws: VaultError.environmentKeyInvalid(byteCount: 33)) {
            try MasterKey.load(home: home.url, environment: ["ZBSYNC_KEY": Data(repeating: 7, count: 33).base64EncodedString()])
        }
        #expect(throws: VaultError.environmentKeyInvalid(byteCount: nil)) {
            try MasterKey.load(home: home.url, environment: ["ZBSYNC_KEY": "not base64!"])
        }
        let error = #expect(throws: VaultError.self) { try MasterKey.load(home: home.url, environment: ["ZBSYNC_KEY": short]) }
        #expect(error.map { !$0.description.contains(short) } == true)
        // An empty variable counts as unset.
        #expect(try MasterKey.load(home: home.url, environment: ["ZBSYNC_KEY": ""]).keyID == fileKey.keyID)
    }

    @Test func replaceFileIsAtomicAnd0600() throws {
        _ = try MasterKey.create(home: home.url)
        let next = MasterKey.generate()
        try MasterKey.replaceFile(home: home.url, with: next)
        #expect(fileMode(MasterKey.keyFileURL(home: home.url).path) == 0o600)
        #expect(try MasterKey.load(home: home.url, environment: [:]).keyID == next.keyID)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: home.url.path).filter { $0.contains(".tmp") }
        #expect(leftovers.isEmpty)
    }
}
