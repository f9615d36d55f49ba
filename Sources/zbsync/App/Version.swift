/// The version `zbsync --version` prints and the transport sends as `User-Agent: zbsync/<version>`.
enum ZBSyncVersion {
    static let current = "0.1.0"
}
