import Foundation
import Testing

/// What one run of the built `zbsync` binary produced.
struct RunResult: CustomStringConvertible {
    var exitCode: Int32
    var stdout: String
    var stderr: String
    var seconds: Double

    var description: String { "exit \(exitCode)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }

    /// Lines on stderr that are the final failure line (`zbsync: …`), as opposed to log lines.
    var failureLines: [String] { stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("zbsync: ") } }
}

/// Runs the built `zbsync` executable in a child process with a clean environment.
///
/// The binary is `$ZBSYNC_BIN` when set, else the `zbsync` next to the test bundle (SwiftPM puts both in
/// the same build folder), else the first one found under the package's `.build*` folders.
enum ZBSync {
    static let binary: URL = {
        let fm = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["ZBSYNC_BIN"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit)
        }
        var candidates: [URL] = []
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(runner.deletingLastPathComponent().appendingPathComponent("zbsync"))
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("zbsync"))
        candidates.append(Bundle.main.bundleURL.appendingPathComponent("zbsync"))
        for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("zbsync"))
        }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for build in (try? fm.contentsOfDirectory(atPath: packageRoot.path)) ?? [] where build.hasPrefix(".build") {
            candidates.append(packageRoot.appendingPathComponent("\(build)/debug/zbsync"))
        }
        return candidates.first { fm.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }()

    /// The environment every child gets: the parent's without any `ZBSYNC_*` variable, with `HOME` pointing
    /// at an empty scratch folder so `~/.zbsync` is never the user's.
    static func baseEnvironment(userHome: URL) -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ZBSYNC_") }
        env["HOME"] = userHome.path
        return env
    }

    /// Runs `zbsync arguments…` to completion. `environment` is added to the clean base environment.
    static func run(_ arguments: [String], environment: [String: String] = [:], in scratch: Scratch) throws -> RunResult {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = baseEnvironment(userHome: scratch.userHome).merging(environment) { _, new in new }
        process.currentDirectoryURL = scratch.root
        // Files, not pipes: a chatty child can never block on a full pipe.
        let outURL = scratch.root.appendingPathComponent("stdout-\(UUID().uuidString)")
        let errURL = scratch.root.appendingPathComponent("stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let started = Date()
        try process.run()
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(started)
        try out.close()
        try err.close()
        let stdout = String(decoding: try Data(contentsOf: outURL), as: UTF8.self)
        let stderr = String(decoding: try Data(contentsOf: errURL), as: UTF8.self)
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
        return RunResult(exitCode: process.terminationStatus, stdout: stdout, stderr: stderr, seconds: seconds)
    }
}

/// A fresh temporary folder per test: `root/user` is the child's `$HOME`, `root/home` its zbsync home.
final class Scratch {
    let root: URL
    var userHome: URL { root.appendingPathComponent("user") }
    var home: URL { root.appendingPathComponent("home") }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("zbsync-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: userHome, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Runs `zbsync` with `--home <home>` appended.
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> RunResult {
        try ZBSync.run(arguments + ["--home", home.path], environment: environment, in: self)
    }

    /// Runs `zbsync init` into `home` and checks it worked.
    func initialize(environment: [String: String] = [:]) throws {
        let result = try run(["init"], environment: environment)
        try #require(result.exitCode == 0, "init failed: \(result)")
    }

    var configURL: URL { home.appendingPathComponent("zbsync.conf") }
    var keyURL: URL { home.appendingPathComponent("master.key") }

    func appendToConfig(_ text: String) throws -> Int {
        let before = try String(contentsOf: configURL, encoding: .utf8)
        try (before + text).write(to: configURL, atomically: true, encoding: .utf8)
        return before.split(separator: "\n", omittingEmptySubsequences: false).count - (before.hasSuffix("\n") ? 1 : 0)
    }

    func mode(of url: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }
}

/// Parses a JSON object printed by `--json`.
func jsonObject(_ text: String) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
    return try #require(value as? [String: Any])
}
