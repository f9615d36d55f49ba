import Foundation
import Stores
import SyncEngine

/// A process exit status, following sysexits(3) as DESIGN.md §2 lists it.
///
/// Invariant: these are the only codes zbsync exits with. Every code other than ``success`` is
/// accompanied by exactly one `zbsync: …` line on standard error (usage errors print their
/// `Error:` / `Try:` pair instead).
struct ExitCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    let rawValue: Int32
    init(rawValue: Int32) { self.rawValue = rawValue }
    init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// 0: everything asked for was done.
    static let success = ExitCode(0)
    /// 1: some operations failed and are queued for retry, or `status` found something unhealthy.
    static let partialFailure = ExitCode(1)
    /// 64 (EX_USAGE): the command line was wrong, or the command is not available in this version.
    static let usage = ExitCode(64)
    /// 65 (EX_DATAERR): a remote sent data zbsync cannot use; the record is quarantined.
    static let dataError = ExitCode(65)
    /// 69 (EX_UNAVAILABLE): BigCommerce or Zoho could not be reached.
    static let unavailable = ExitCode(69)
    /// 75 (EX_TEMPFAIL): try later: another run holds the lock, or the daily Zoho quota is spent.
    static let temporaryFailure = ExitCode(75)
    /// 77 (EX_NOPERM): credentials were rejected; re-authorize.
    static let noPermission = ExitCode(77)
    /// 78 (EX_CONFIG): the config file, an environment override, the master key or the home folder is wrong.
    static let configuration = ExitCode(78)

    /// What the code means, for help text and the generic failure line.
    var meaning: String {
        switch rawValue {
        case 0: return "ok"
        case 1: return "some operations failed and are queued for retry"
        case 64: return "usage error"
        case 65: return "bad data from a remote; the record is quarantined"
        case 69: return "a remote system is unavailable"
        case 75: return "temporary failure; try again later"
        case 77: return "re-authorization needed"
        case 78: return "configuration error"
        default: return "exit code \(rawValue)"
        }
    }

    var description: String { "\(rawValue)" }

    /// The table printed in `zbsync --help`.
    static let documented: [ExitCode] = [.success, .partialFailure, .usage, .dataError, .unavailable,
                                         .temporaryFailure, .noPermission, .configuration]
}

/// What the user is told when a command fails: the exit code and one line (printed as `zbsync: <message>`)
/// that says what happened and what to do next.
///
/// Invariant: ``init(for:)`` is the only place errors become exit codes. Messages are built from the
/// errors' descriptions, which never contain secrets; the printed line also passes through the redactor.
struct FailureReport: Equatable {
    var exitCode: ExitCode
    var message: String

    init(exitCode: ExitCode, message: String) {
        self.exitCode = exitCode
        self.message = message
    }

    /// Maps any error thrown by a command.
    init(for error: Error) {
        switch error {
        case let e as UsageError:
            self.init(exitCode: .usage, message: e.message)
        case let e as CommandUnavailable:
            self.init(exitCode: .usage, message: e.description)
        case let e as CommandFailure:
            self.init(exitCode: e.exitCode, message: e.message)
        case let e as ConfigError:
            self.init(exitCode: .configuration, message: e.description)
        case let e as RunLockError:
            switch e {
            case .held:
                self.init(exitCode: .temporaryFailure, message: e.description)
            case .io:
                self.init(exitCode: .configuration, message: "\(e.description); check the home folder's permissions")
            }
        case let e as VaultError:
            self.init(for: e)
        case let e as StoreError:
            self.init(for: e)
        case let e as RemoteError:
            self.init(for: e)
        case let e as ZohoConfigurationError:
            self.init(exitCode: .configuration, message: e.description)
        case let e as MappingProblem:
            self.init(exitCode: .dataError, message: "\(e.description); the record is quarantined, see 'zbsync status'")
        case let e as TransportError:
            self.init(exitCode: .unavailable, message: "\(e.description); check the network and run again")
        case is CancellationError:
            self.init(exitCode: .temporaryFailure, message: "interrupted; run again to continue where it stopped")
        default:
            self.init(exitCode: .partialFailure, message: "unexpected error: \(String(describing: error)); run again with -v for details")
        }
    }

    private init(for error: VaultError) {
        switch error {
        case .keyMismatch, .decryptionFailed:
            self.init(exitCode: .configuration,
                      message: "\(error.description) (use the master key this home was set up with, or store the credentials again with 'zbsync auth')")
        case .cryptoFailure:
            self.init(exitCode: .partialFailure, message: error.description)
        default:
            self.init(exitCode: .configuration, message: error.description)
        }
    }

    private init(for error: StoreError) {
        switch error.kind {
        case .busy:
            self.init(exitCode: .temporaryFailure, message: "\(error.description); another process is writing, try again shortly")
        case .corrupt:
            self.init(exitCode: .configuration, message: "\(error.description); restore state.db from a backup")
        case .schema:
            self.init(exitCode: .configuration,
                      message: "\(error.description); this state.db may come from a newer zbsync, so use that version")
        case .io:
            self.init(exitCode: .configuration, message: "\(error.description); check the disk space and the home folder's permissions")
        case .notFound:
            self.init(exitCode: .dataError, message: error.description)
        case .constraint, .other:
            self.init(exitCode: .partialFailure, message: "\(error.description); run again, and report it if it repeats")
        }
    }

    private init(for error: RemoteError) {
        switch error {
        case .unavailable(let system, _):
            self.init(exitCode: .unavailable, message: "\(error.description); check the network and \(Self.endpointKey(system)), then run again")
        case .unknownOutcome:
            self.init(exitCode: .unavailable, message: "\(error.description); the next run checks what was applied before sending again")
        case .rateLimited:
            self.init(exitCode: .temporaryFailure, message: "\(error.description); everything is still queued, run again later")
        case .dailyQuotaExhausted:
            self.init(exitCode: .temporaryFailure, message: "\(error.description); everything is still queued, run again tomorrow or raise zoho.daily_limit if your plan allows")
        case .authorization(let system, let detail):
            // Messages from the clients often carry the hint already; say it once.
            let hint = detail.contains("zbsync auth") ? "" : "; re-authorize with 'zbsync auth \(system.rawValue)'"
            self.init(exitCode: .noPermission, message: error.description + hint)
        case .duplicate, .rejected:
            self.init(exitCode: .dataError, message: "\(error.description); the record is quarantined, see 'zbsync status'")
        case .notFound:
            self.init(exitCode: .dataError, message: error.description)
        case .malformed:
            // Thrown only where nothing could be quarantined (a single read, the server time): say what is true.
            self.init(exitCode: .dataError, message: "\(error.description); no cursor moved past it, and the next run reads it again")
        }
    }

    private static func endpointKey(_ system: RemoteSystem) -> String {
        system == .bigcommerce ? "bigcommerce.api_url" : "the Zoho region (zoho.region)"
    }
}

/// A command's own failure with a chosen exit code and its one line (for example `status` finding
/// dead operations: exit 1). The message says what happened and what to do next.
struct CommandFailure: Error, Equatable {
    var exitCode: ExitCode
    var message: String
    init(_ exitCode: ExitCode, _ message: String) {
        self.exitCode = exitCode
        self.message = message
    }
}
