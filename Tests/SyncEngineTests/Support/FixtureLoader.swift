import Foundation
@testable import SyncEngine

/// Recorded-shape API replies under `Tests/Fixtures`, named `<api>/<endpoint>.<scenario>.json`.
///
/// Paths are relative to `Tests/Fixtures` and found from this file's location (`#filePath`), so tests work from
/// any working directory without bundling resources.
enum Fixture {
    /// `Tests/Fixtures`.
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // Support
        .deletingLastPathComponent()   // SyncEngineTests
        .deletingLastPathComponent()   // Tests
        .appendingPathComponent("Fixtures", isDirectory: true)

    static func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    /// The raw bytes, e.g. `Fixture.data("bigcommerce/orders.list.json")`.
    static func data(_ path: String) throws -> Data {
        do {
            return try Data(contentsOf: url(path))
        } catch {
            throw FixtureError.missing(path)
        }
    }

    static func string(_ path: String) throws -> String { String(decoding: try data(path), as: UTF8.self) }

    /// Parsed with zbsync's own JSON (numbers keep their literal text).
    static func json(_ path: String) throws -> JSON { try JSON.parse(try data(path)) }

    /// Every fixture file under `folder` (e.g. `bigcommerce`), as paths relative to `Tests/Fixtures`.
    static func all(in folder: String) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: url(folder).path)
        return names.filter { $0.hasSuffix(".json") }.sorted().map { "\(folder)/\($0)" }
    }

    enum FixtureError: Error, CustomStringConvertible {
        case missing(String)
        var description: String { "fixture not found: Tests/Fixtures/\(self)" }
    }
}
