import Foundation

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
