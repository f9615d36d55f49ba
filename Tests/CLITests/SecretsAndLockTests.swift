import Foundation
import Testing

/// The master key, `secrets rotate-key`, the run lock and redaction, through the built binary.
@Suite struct SecretsAndLockTests {
    @Test func aKeyFileReadableByOthersIsRefused() throws {
        let scratch = try Scratch()
        try scratch.initialize()
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: scratch.keyURL.path)
        let result = try scratch.run(["status"])
        #expect(result.exitCode == 78, "\(result)")
        #expect(result.failureLines.count == 1)
        #expect(result.stderr.contains("chmod 600"))
        #expect(result.stderr.contains(scratch.keyURL.path))
    }

    @Test func rotateKeyReplacesTheKeyFileAndKeepsTheHomeUsable() throws {
        let scratch = try Scratch()
        try scratch.initialize()
        let before = try Data(contentsOf: scratch.keyURL)
        let result = try scratch.run(["secrets", "rotate-key"])
        #expect(result.exitCode == 0, "\(result)")
        #expect(result.stdout.contains("Re-encrypted"))
        let after = try Data(contentsOf: scratch.keyURL)
        #expect(after != before)
        #expect(try scratch.mode(of: scratch.keyURL) == 0o600)
        #expect(!after.isEmpty && !result.stdout.contains(String(decoding: after, as: UTF8.self).trimmingCharacters(in: .newlines)),
                "the key is never printed")
        #expect(!FileManager.default.fileExists(atPath: scratch.home.appendingPathComponent("rotate-key.pending").path))
        #expect(try scratch.run(["status"]).exitCode == 0)
    }

    @Test func rotateKeyWithAnEnvironmentKeyNeedsConsentAndPrintsTheNewKeyOnce() throws {
        let scratch = try Scratch()
        let oldKey = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        try scratch.initialize(environment: ["ZBSYNC_KEY": oldKey])
        #expect(!FileManager.default.fileExists(atPath: scratch.keyURL.path), "no key file with $ZBSYNC_KEY")

        let refused = try scratch.run(["secrets", "rotate-key"], environment: ["ZBSYNC_KEY": oldKey])
        #expect(refused.exitCode == 64, "\(refused)")
        #expect(refused.stderr.contains("--print-new-key"))

        let rotated = try scratch.run(["secrets", "rotate-key", "--print-new-key"], environment: ["ZBSYNC_KEY": oldKey])
        #expect(rotated.exitCode == 0, "\(rotated)")
        let newKey = rotated.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Data(base64Encoded: newKey)?.count == 32, "\(rotated)")
        #expect(newKey != oldKey)
        #expect(rotated.stderr.contains("warning"))
        #expect(try scratch.run(["status"], environment: ["ZBSYNC_KEY": newKey]).exitCode == 0)
    }

    @Test func aHeldRunLockMakesRotateKeyExit75AtOnce() throws {
        let scratch = try Scratch()
        try scratch.initialize()
        let lockPath = scratch.home.appendingPathComponent("zbsync.lock").path
        // Another process holds the lock, as a running sync would: flock(1) keeps it until its command
        // (`head -c 1`, reading our pipe) ends. -o: the lock belongs to flock itself, not to its command.
        let release = Pipe()
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = ["-o", lockPath, "head", "-c", "1"]
        holder.standardInput = release
        try holder.run()
        defer {
            try? release.fileHandleForWriting.close()
            holder.waitUntilExit()
        }
        // Wait until flock has the lock: a non-blocking probe fails once it does.
        var held = false
        for _ in 0..<50 {
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
            probe.arguments = ["-n", lockPath, "true"]
            try probe.run()
            probe.waitUntilExit()
            if probe.terminationStatus != 0 { held = true; break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        try #require(held, "flock did not take the lock")

        let result = try scratch.run(["secrets", "rotate-key"])
        #expect(result.exitCode == 75, "\(result)")
        #expect(result.seconds < 1.0)
        #expect(result.failureLines.count == 1)
        #expect(result.stderr.contains("another zbsync run is in progress"))

        // status never waits on the lock.
        #expect(try scratch.run(["status"]).exitCode == 0)
    }

    @Test func secretsFromTheEnvironmentNeverReachTheTerminal() throws {
        let scratch = try Scratch()
        let canary = "canary-7f3a9c1e-secret"
        let result = try ZBSync.run(["status", "--home", "/nonexistent/\(canary)"],
                                    environment: ["ZBSYNC_ZOHO_CLIENT_SECRET": canary], in: scratch)
        #expect(result.exitCode == 78, "\(result)")
        #expect(!result.stderr.contains(canary))
        #expect(!result.stdout.contains(canary))
        #expect(result.stderr.contains("‹redacted›"))
    }
}
