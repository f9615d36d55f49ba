import Foundation
import Stores
import SyncEngine

/// The wiring every command receives: home folder, configuration, logger, output, and on demand the
/// state store, the run lock and HTTP transports.
///
/// Invariants:
/// - `home` is an absolute path: `--home`, else `$ZBSYNC_HOME`, else `~/.zbsync`.
/// - One ``Redactor`` is shared by the logger and ``Output``; secret values from the environment are
///   registered with it at creation, and every secret read through ``secret(_:)`` is registered too.
/// - The configuration is loaded once, on first use; loading it rebuilds ``logger`` with `[log]` settings
///   (command-line options win over the file, `-v`/`-q` over `log.level`).
/// - The store is opened once, on first use, and never created here unless asked (`init` does that);
///   the run lock, once acquired, is held until the process ends.
final class AppContext: @unchecked Sendable {
    // Mutable state (`cachedConfiguration`, `cachedStore`, `heldLock`, `currentLogger`) is guarded by `lock`.
    private let lock = NSLock()

    let globals: GlobalOptions
    let environment: [String: String]
    let home: URL
    let redactor: Redactor
    let output: Output
    let clock: SyncClock
    /// `zbsync status` as typed, for run records and messages.
    let commandLine: String

    private var cachedConfiguration: Configuration?
    private var cachedStore: SQLiteStateStore?
    private var heldLock: RunLock?
    private var currentLogger: Logger

    /// Environment variables whose values are secrets (registered with the redactor when present).
    static let secretEnvironmentVariables = [
        MasterKey.environmentVariable, "ZBSYNC_BIGCOMMERCE_TOKEN", "ZBSYNC_BIGCOMMERCE_CLIENT_SECRET",
        "ZBSYNC_ZOHO_CLIENT_SECRET", "ZBSYNC_ZOHO_REFRESH_TOKEN", "ZBSYNC_WEBHOOK_HEADER_SECRET",
    ]

    init(globals: GlobalOptions, environment: [String: String], redactor: Redactor, commandLine: String,
         clock: SyncClock = SystemClock()) throws {
        self.globals = globals
        self.environment = environment
        self.redactor = redactor
        self.output = Output(redactor: redactor)
        self.clock = clock
        self.commandLine = commandLine
        self.home = try Self.resolveHome(option: globals.home, environment: environment)
        for name in Self.secretEnvironmentVariables {
            if let value = environment[name], !value.isEmpty { redactor.register(Secret(value)) }
        }
        let format = globals.logFormat ?? LogFormat(rawValue: environment["ZBSYNC_LOG_FORMAT"] ?? "") ?? .text
        currentLogger = Self.makeLogger(format: format, level: Self.level(globals: globals, configured: .info), redactor: redactor)
    }

    // MARK: Home

    /// `--home` (with `~` expanded, relative to the working directory), else `$ZBSYNC_HOME`, else `~/.zbsync`.
    static func resolveHome(option: String?, environment: [String: String]) throws -> URL {
        let userHome = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.path
        func absolute(_ raw: String) -> URL {
            var path = raw
            if path == "~" { path = userHome } else if path.hasPrefix("~/") { path = userHome + path.dropFirst(1) }
            if !path.hasPrefix("/") { path = FileManager.default.currentDirectoryPath + "/" + path }
            return URL(fileURLWithPath: path).standardizedFileURL
        }
        if let option {
            guard !option.isEmpty else { throw UsageError("--home needs a folder") }
            return absolute(option)
        }
        if let env = environment["ZBSYNC_HOME"], !env.isEmpty { return absolute(env) }
        guard !userHome.isEmpty else {
            throw ConfigError.home("cannot tell where the home folder is: set ZBSYNC_HOME or pass --home")
        }
        return absolute("~/.zbsync")
    }

    /// Whether `init` has run here (the config file exists).
    var isInitialized: Bool { FileManager.default.fileExists(atPath: ConfigFile.url(home: home).path) }

    // MARK: Configuration and logging

    /// The resolved configuration of this home (file + environment). Throws ``ConfigError``.
    func configuration() throws -> Configuration {
        if let cached = lock.withLock({ cachedConfiguration }) { return cached }
        let config = try ConfigFile.loadConfiguration(home: home, environment: environment)
        lock.withLock {
            cachedConfiguration = config
            let format = globals.logFormat ?? config.log.format
            currentLogger = Self.makeLogger(format: format, level: Self.level(globals: globals, configured: config.log.level),
                                            redactor: redactor)
        }
        return config
    }

    /// The logger (stderr). Before ``configuration()`` has loaded, it uses the command line and
    /// `ZBSYNC_LOG_FORMAT` only.
    var logger: Logger { lock.withLock { currentLogger } }

    static func level(globals: GlobalOptions, configured: LogLevel) -> LogLevel {
        if globals.verbose { return .debug }
        if globals.quiet { return .error }
        return configured
    }

    static func makeLogger(format: LogFormat, level: LogLevel, redactor: Redactor) -> Logger {
        let sinkFormat: StandardErrorLogSink.Format = format == .json ? .json : .text
        return Logger(sink: StandardErrorLogSink(format: sinkFormat), minimumLevel: level, redactor: redactor)
    }

    // MARK: Key, store, lock

    /// The master key: `$ZBSYNC_KEY`, else `HOME/master.key` (refused unless mode 0600). Throws ``VaultError``.
    func masterKey() throws -> MasterKey {
        try MasterKey.load(home: home, environment: environment)
    }

    /// Whether the key comes from `$ZBSYNC_KEY` rather than the key file.
    var keyFromEnvironment: Bool {
        !(environment[MasterKey.environmentVariable] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }

    /// The state database, opened on first use (master key → vault → store). Without `create`, a home
    /// with no `state.db` is a ``ConfigError`` telling the user to run `zbsync init`.
    func store(create: Bool = false) throws -> SQLiteStateStore {
        if let cached = lock.withLock({ cachedStore }) { return cached }
        let path = home.appendingPathComponent(SQLiteStateStore.fileName).path
        if !create && !FileManager.default.fileExists(atPath: path) {
            throw ConfigError.home("no state database at \(path); run 'zbsync init --home \(home.path)' first")
        }
        let key = try masterKey()
        let opened = try SQLiteStateStore.open(home: home, vault: SecretsVault(key: key))
        return lock.withLock {
            if let cachedStore { return cachedStore }
            cachedStore = opened
            return opened
        }
    }

    /// A secret from the store, registered with the redactor before it is returned.
    func secret(_ name: String) throws -> Secret? {
        let value = try store().secret(name)
        if let value { redactor.register(value) }
        return value
    }

    /// Takes the exclusive run lock on `HOME/zbsync.lock` for the rest of the process, or throws
    /// `RunLockError.held` at once (exit 75). Calling it again while held is a no-op.
    func acquireRunLock() throws {
        if lock.withLock({ heldLock != nil }) { return }
        let acquired = try RunLock.acquire(home: home)
        lock.withLock { heldLock = acquired }
    }

    /// Releases the run lock early (it is otherwise released when the process exits).
    func releaseRunLock() {
        let held = lock.withLock { () -> RunLock? in
            defer { heldLock = nil }
            return heldLock
        }
        held?.release()
    }

    // MARK: Network

    /// The HTTP transport for the API clients (one URLSession per call site is fine; they are cheap).
    func makeTransport() -> HTTPTransport {
        URLSessionTransport(userAgent: "zbsync/\(ZBSyncVersion.current)")
    }
}
