import Foundation
import Stores

/// `zbsync secrets rotate-key`: re-encrypts every stored secret (and the cached Zoho access token) under
/// a new master key in one transaction, then replaces `master.key` atomically. Takes the run lock.
///
/// Crash safety: the new key is written to `HOME/rotate-key.pending/master.key` (0600) *before* the
/// database is re-encrypted, and removed only after `master.key` holds it. If the process dies in
/// between, the next `secrets rotate-key` finds the pending key, sees which key the database is under,
/// and finishes (or discards) the interrupted rotation; no secret is ever under a key that exists nowhere.
///
/// With `$ZBSYNC_KEY` set there is no key file to replace: the command refuses unless `--print-new-key`
/// is given, and then prints the new key (base64) once on stdout *before* re-encrypting, so it cannot be
/// lost to a crash; the operator must put it in `$ZBSYNC_KEY` for every later run.
struct SecretsRotateKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key",
        abstract: "Re-encrypt every stored secret under a new master key.",
        discussion: """
        Generates a new 32-byte key, re-encrypts every secret in one transaction and replaces
        HOME/master.key atomically (mode 0600). Waits for no one: exits 75 if a sync is running.

        When the key comes from $ZBSYNC_KEY, no file is written: pass --print-new-key to have the new key
        printed once on stdout, then store it where $ZBSYNC_KEY comes from before the next run.
        """
    )

    static let arguments: [ArgumentSpec] = [
        .flag("--print-new-key", help: "With $ZBSYNC_KEY: print the new key (base64) on stdout instead of refusing."),
    ]

    static let pendingFolder = "rotate-key.pending"

    var printNewKey: Bool

    init(from arguments: ParsedArguments) {
        printNewKey = arguments.flag("print-new-key")
    }

    func run(_ context: AppContext) async throws -> ExitCode {
        try context.acquireRunLock()
        if context.keyFromEnvironment {
            return try rotateEnvironmentKey(context)
        }
        let store = try context.store()
        let pending = context.home.appendingPathComponent(Self.pendingFolder)
        if let resumed = try finishInterruptedRotation(context, store: store, pending: pending) {
            return resumed
        }

        let newKey = MasterKey.generate()
        try FileManager.default.createDirectory(at: pending, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try MasterKey.replaceFile(home: pending, with: newKey)
        let count = try store.rotateKey(to: newKey)
        try MasterKey.replaceFile(home: context.home, with: newKey)
        try? FileManager.default.removeItem(at: pending)

        context.logger.notice("master key rotated", ["key.id": newKey.keyID, "secrets.count": String(count)])
        if !context.globals.quiet {
            context.output.print("Re-encrypted \(count) secret\(count == 1 ? "" : "s") under the new master key \(newKey.keyID).")
            context.output.print("\(MasterKey.keyFileURL(home: context.home).path) now holds the new key; replace any backup of the old one.")
        }
        return .success
    }

    /// Completes or discards a rotation that stopped between re-encrypting and replacing `master.key`.
    /// Returns nil when there was nothing to resume (a fresh rotation follows).
    private func finishInterruptedRotation(_ context: AppContext, store: SQLiteStateStore, pending: URL) throws -> ExitCode? {
        guard FileManager.default.fileExists(atPath: MasterKey.keyFileURL(home: pending).path) else {
            try? FileManager.default.removeItem(at: pending)
            return nil
        }
        let pendingKey = try MasterKey.load(home: pending, environment: [:])
        let underPendingKey = try isStored(under: pendingKey.keyID, store: store)
        guard underPendingKey else {
            // The database never switched: the pending key was not used and can go.
            try FileManager.default.removeItem(at: pending)
            return nil
        }
        try MasterKey.replaceFile(home: context.home, with: pendingKey)
        try FileManager.default.removeItem(at: pending)
        context.logger.notice("finished an interrupted key rotation", ["key.id": pendingKey.keyID])
        context.output.print("Finished an interrupted rotation: \(MasterKey.keyFileURL(home: context.home).path) now holds key \(pendingKey.keyID).")
        context.output.print("Run 'zbsync secrets rotate-key' again for a fresh key if you want one.")
        return .success
    }

    /// Whether the database's secrets (or, with none, the cached access token) are encrypted under `keyID`
    /// rather than the active key. Rotation is one transaction, so one row tells for all.
    private func isStored(under keyID: String, store: SQLiteStateStore) throws -> Bool {
        do {
            if let name = try store.secretNames().first {
                _ = try store.secret(name)
            } else {
                _ = try store.zohoSession()
            }
            return false
        } catch VaultError.keyMismatch(_, let storedKeyID, _) where storedKeyID == keyID {
            return true
        }
    }

    private func rotateEnvironmentKey(_ context: AppContext) throws -> ExitCode {
        guard printNewKey else {
            throw UsageError("the master key comes from $\(MasterKey.environmentVariable), so there is no key file to replace",
                             hint: "zbsync secrets rotate-key --print-new-key   (then store the printed key in $\(MasterKey.environmentVariable))")
        }
        let store = try context.store()
        // MasterKey keeps its bytes to itself, so draw them here to be able to print them once.
        var bytes = [UInt8](repeating: 0, count: MasterKey.byteCount)
        var rng = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = rng.next() }
        let encoded = Data(bytes).base64EncodedString()
        let newKey = MasterKey(bytes: bytes)!
        for i in bytes.indices { bytes[i] = 0 }  // best effort: Swift may have copied the array
        context.output.error("warning: the new master key follows on stdout, once. Store it in $\(MasterKey.environmentVariable) now; the old key stops working.")
        context.output.print(encoded)
        let count = try store.rotateKey(to: newKey)
        context.logger.notice("master key rotated", ["key.id": newKey.keyID, "secrets.count": String(count)])
        context.output.error("Re-encrypted \(count) secret\(count == 1 ? "" : "s") under key \(newKey.keyID). Set \(MasterKey.environmentVariable) to the printed key before the next run.")
        return .success
    }
}
