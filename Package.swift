// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "zbsync",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "zbsync", targets: ["zbsync"]),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", providers: [.apt(["libssl-dev"])]),
        .target(name: "SyncEngine", dependencies: ["CCrypto"]),
        .target(name: "Stores", dependencies: ["SyncEngine", "CSQLite", "CCrypto"]),
        .executableTarget(name: "zbsync", dependencies: ["SyncEngine", "Stores"]),
        .executableTarget(name: "zbsync-bench", dependencies: ["SyncEngine", "Stores"], path: "Sources/zbsync-bench"),
        .testTarget(name: "SyncEngineTests", dependencies: ["SyncEngine", "Stores"]),
        .testTarget(name: "StoresTests", dependencies: ["Stores", "SyncEngine"]),
        .testTarget(name: "CLITests", dependencies: []),
    ]
)
