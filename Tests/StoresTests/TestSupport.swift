import Foundation
import Testing
@testable import Stores

/// A fresh folder under the temporary directory, removed when released.
final class TempHome: @unchecked Sendable {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("zbsync-stores-\(UUID().uuidString)", isDirectory: true)
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// A fixed point in time (2023-11-14T22:13:20Z) and offsets from it, exact in binary.
func t(_ seconds: Double = 0) -> Date { Date(timeIntervalSince1970: 1_700_000_000 + seconds) }

func makeStore(_ home: TempHome, key: MasterKey = MasterKey.generate()) throws -> SQLiteStateStore {
    try SQLiteStateStore.open(home: home.url, vault: SecretsVault(key: key))
}

func op(_ entity: String, kind: String = "invoice.create", fingerprint: String = "fp1", zohoKey: String? = nil) -> PlannedOperation {
    PlannedOperation(kind: kind, entityKey: entity, zohoKey: zohoKey ?? "BC-\(entity)",
                     payload: ["order_id": .string(entity), "total": .number("12.50")], fingerprint: fingerprint)
}

/// Permission bits of a file.
func fileMode(_ path: String) -> Int {
    let attributes = try? FileManager.default.attributesOfItem(atPath: path)
    return (attributes?[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

/// Runs a program and returns its exit status.
func runProcess(_ executable: String, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}
