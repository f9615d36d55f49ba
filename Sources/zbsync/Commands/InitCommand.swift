import Foundation
import Stores

/// `zbsync init`: creates a home folder: the folder (0700), `zbsync.conf` (a template with every key
/// documented and `sync.start` set to now), `master.key` (0600, unless `$ZBSYNC_KEY` is set) and
/// `state.db` with its schema.
///
/// Invariants: an existing master key is never replaced (that would make the stored secrets unreadable);
/// an existing config is only rewritten with `--force`, which keeps its `sync.start`.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the home folder: config template, state database and master key.",
        discussion: """
        Writes HOME/zbsync.conf with every key documented and sync.start set to now (a first sync starts
        there; older orders are backfill's job), creates HOME/master.key (mode 0600) unless $ZBSYNC_KEY is
        set, and creates HOME/state.db. An existing master key and state database are kept.
        """
    )

    static let arguments: [ArgumentSpec] = [
        .flag("--force", help: "Rewrite an existing zbsync.conf from the template (keeps sync.start, the key and the state)."),
    ]

    var force: Bool

    init(from arguments: ParsedArguments) {
        force = arguments.flag("force")
    }

    func run(_ context: AppContext) async throws -> ExitCode {
        let fm = FileManager.default
        let home = context.home
        let configURL = ConfigFile.url(home: home)
        var created: [String] = []
        var kept: [String] = []

        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: home.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ConfigError.home("\(home.path) exists and is not a folder; choose another --home") }
        } else {
            do {
                try fm.createDirectory(at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw ConfigError.home("cannot create \(home.path): \((error as NSError).localizedDescription)")
            }
            created.append("\(home.path)/ (mode 0700)")
        }

        var start = context.clock.now()
        if fm.fileExists(atPath: configURL.path) {
            guard force else {
                throw UsageError("\(configURL.path) already exists; this home is set up",
                                 hint: "zbsync status --home \(home.path)   (or zbsync init --force to rewrite the config)")
            }
            // Keep where the cursors begin: moving it silently could skip or re-import orders.
            if let old = try? ConfigFile.load(home: home), let entry = old.entries["sync.start"],
               let date = DateText.parse(entry.value) {
                start = date
            }
        }
        let wasThere = fm.fileExists(atPath: configURL.path)
        try write(ConfigFile.template(start: start), to: configURL)
        if wasThere {
            kept.append("\(configURL.path) (rewritten from the template; sync.start kept)")
        } else {
            created.append(configURL.path)
        }

        let keyURL = MasterKey.keyFileURL(home: home)
        if context.keyFromEnvironment {
            _ = try context.masterKey()
            kept.append("master key: from $\(MasterKey.environmentVariable) (no key file written)")
        } else if fm.fileExists(atPath: keyURL.path) {
            _ = try context.masterKey()
            kept.append("\(keyURL.path) (existing key kept)")
        } else {
            _ = try MasterKey.create(home: home)
            created.append("\(keyURL.path) (mode 0600; back it up: without it the stored credentials are lost)")
        }

        let dbURL = home.appendingPathComponent(SQLiteStateStore.fileName)
        let dbExisted = fm.fileExists(atPath: dbURL.path)
        let store = try context.store(create: true)
        let dbLine = "\(dbURL.path) (schema version \(try store.schemaVersion()))"
        if dbExisted { kept.append(dbLine) } else { created.append(dbLine) }

        guard !context.globals.quiet else { return .success }
        let out = context.output
        if !created.isEmpty {
            out.print("Created:")
            for line in created { out.print("  \(line)") }
        }
        if !kept.isEmpty {
            out.print("Kept:")
            for line in kept { out.print("  \(line)") }
        }
        let homeOption = context.globals.home == nil ? "" : " --home \(home.path)"
        out.print("")
        out.print("Next steps:")
        out.print("  1. zbsync auth bigcommerce --store-hash HASH\(homeOption)   (token from $ZBSYNC_BIGCOMMERCE_TOKEN)")
        out.print("  2. zbsync auth zoho --region us --client-id ID\(homeOption)  (secret from $ZBSYNC_ZOHO_CLIENT_SECRET)")
        out.print("  3. zbsync doctor\(homeOption)")
        out.print("  4. zbsync sync --dry-run\(homeOption)")
        out.print("Review \(configURL.path) first: sync.start is \(DateText.iso(start)); earlier orders need 'zbsync backfill'.")
        return .success
    }

    /// Writes the file atomically (temp file in the same folder, then rename), mode 0600.
    private func write(_ text: String, to url: URL) throws {
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try Data(text.utf8).write(to: temp)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: temp.path)
            guard rename(temp.path, url.path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw ConfigError.home("cannot write \(url.path): \((error as NSError).localizedDescription)")
        }
    }
}
