import Foundation
import Testing

/// `init`, `status` and the global options' positions, on a real home folder in a temp directory.
@Suite struct HomeAndStatusTests {
    @Test func initCreatesTheHomeWithSafeModes() throws {
        let scratch = try Scratch()
        let result = try scratch.run(["init"])
        #expect(result.exitCode == 0, "\(result)")
        #expect(result.stdout.contains("Created:"))
        for next in ["zbsync auth bigcommerce", "zbsync auth zoho", "zbsync doctor", "zbsync sync --dry-run"] {
            #expect(result.stdout.contains(next), "missing next step \(next)")
        }
        #expect(try scratch.mode(of: scratch.home) == 0o700)
        #expect(try scratch.mode(of: scratch.keyURL) == 0o600)
        #expect(FileManager.default.fileExists(atPath: scratch.home.appendingPathComponent("state.db").path))
        let config = try String(contentsOf: scratch.configURL, encoding: .utf8)
        #expect(config.contains("\nstart = 20"), "sync.start is set")
        #expect(config.contains("# requests_per_minute = 100"))
        #expect(config.contains("[webhooks]"))
    }

    @Test func initRefusesToOverwriteWithoutForceAndKeepsStart() throws {
        let scratch = try Scratch()
        try scratch.initialize()
        let key = try Data(contentsOf: scratch.keyURL)
        let startLine = try #require(try String(contentsOf: scratch.configURL, encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix("start = ") })

        let again = try scratch.run(["init"])
        #expect(again.exitCode == 64, "\(again)")
        #expect(again.stderr.contains("already exists"))

        let forced = try scratch.run(["init", "--force"])
        #expect(forced.exitCode == 0, "\(forced)")
        let config = try String(contentsOf: scratch.configURL, encoding: .utf8)
        #expect(config.contains(String(startLine)))
        #expect(try Data(contentsOf: scratch.keyURL) == key, "the master key is never replaced by init")
    }

    @Test func freshStatusSaysNothingHasRunYet() throws {
        let scratch = try Scratch()
        try scratch.initialize()
        let text = try scratch.run(["status"])
        #expect(text.exitCode == 0, "\(text)")
        #expect(text.stdout.contains("Nothing has run yet."))
        #expect(text.stdout.contains("zbsync auth bigcommerce"))

        let json = try scratch.run(["status", "--json"])
        #expect(json.exitCode == 0, "\(json)")
        let object = try jsonObject(json.stdout)
        #expect(object["fresh"] as? Bool == true)
        #expect(object["healthy"] as? Bool == true)
        let zoho = try #require(object["zoho"] as? [String: Any])
        #expect((zoho["daily_limit"] as? NSNumber)?.intValue == 1000)
        #expect((zoho["calls_today"] as? NSNumber)?.intValue == 0)
        let journal = try #require(object["journal"] as? [String: Any])
        let counts = try #require(journal["counts"] as? [String: Any])
        #expect(Set(counts.keys) == ["pending", "sending", "unknown", "done", "failed", "dead"])
        #expect(json.stdout.hasPrefix("{\"attention\":"), "keys are sorted")
    }

    @Test func globalOptionsWorkBeforeOrAfterTheCommand() throws {
        let scratch = try Scratch()
        try scratch.initialize()
        let before = try ZBSync.run(["--home", scratch.home.path, "status", "--json"], in: scratch)
        let after = try ZBSync.run(["status", "--json", "--home", scratch.home.path], in: scratch)
        let equals = try ZBSync.run(["status", "--home=\(scratch.home.path)", "--json"], in: scratch)
        let fromEnvironment = try ZBSync.run(["status", "--json"], environment: ["ZBSYNC_HOME": scratch.home.path], in: scratch)
        #expect(before.exitCode == 0, "\(before)")
        for other in [after, equals, fromEnvironment] {
            #expect(other.exitCode == 0, "\(other)")
            // `now` may differ by a second between runs; compare the rest.
            #expect(try withoutNow(before.stdout) == withoutNow(other.stdout))
        }
    }

    @Test func statusOnAnEmptyFolderSaysToRunInit() throws {
        let scratch = try Scratch()
        let result = try scratch.run(["status"])
        #expect(result.exitCode == 78, "\(result)")
        #expect(result.failureLines.count == 1)
        #expect(result.stderr.contains("run 'zbsync init'"))
    }

    @Test func defaultHomeIsUnderTheUsersHome() throws {
        let scratch = try Scratch()
        let result = try ZBSync.run(["init"], in: scratch)
        #expect(result.exitCode == 0, "\(result)")
        #expect(FileManager.default.fileExists(atPath: scratch.userHome.appendingPathComponent(".zbsync/zbsync.conf").path))
    }

    /// The JSON text with the `now` field removed (it may tick between two runs).
    private func withoutNow(_ json: String) throws -> String {
        var object = try jsonObject(json)
        object["now"] = nil
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}
