import Foundation

/// A configuration problem: exit 78. The description names where the problem is (file and line, or
/// the environment variable) and what to change. Values that might be secret are never quoted:
/// config values are not secrets (secrets live encrypted in the state database).
enum ConfigError: Error, Equatable, CustomStringConvertible {
    /// A line of the config file is wrong.
    case line(file: String, line: Int, problem: String)
    /// An environment override is wrong.
    case environment(variable: String, problem: String)
    /// The home folder has no config file.
    case missingFile(path: String)
    /// The config file could not be read or written.
    case unreadable(path: String, reason: String)
    /// The home folder is missing, unusable or cannot be determined.
    case home(String)
    /// A value that is valid alone but wrong for what is being done (for example no store hash yet).
    case invalid(key: String, problem: String)

    var description: String {
        switch self {
        case .line(let file, let line, let problem):
            return "\(file) line \(line): \(problem); fix that line and run again"
        case .environment(let variable, let problem):
            return "environment variable \(variable): \(problem); fix or unset it and run again"
        case .missingFile(let path):
            return "no config file at \(path); run 'zbsync init' (with the same --home) first"
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .home(let problem):
            return problem
        case .invalid(let key, let problem):
            return "\(key): \(problem)"
        }
    }
}
