import Foundation

/// Log levels, least to most severe.
public enum LogLevel: Int, Sendable, Comparable, CustomStringConvertible {
    case debug = 0, info, notice, warning, error

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
    public var description: String {
        switch self {
        case .debug: return "debug"
        case .info: return "info"
        case .notice: return "notice"
        case .warning: return "warning"
        case .error: return "error"
        }
    }
}

/// One structured log record: a message for people and dotted-key metadata for machines
/// (`bc.order_id`, `zoho.invoice_id`, `http.status`).
public struct LogRecord: Sendable, Equatable {
    public var time: Date
    public var level: LogLevel
    public var message: String
    public var metadata: [String: String]
}

/// Where log records go. Implementations must be safe to call from any task.
public protocol LogSink: Sendable {
    func write(_ record: LogRecord)
}

/// The logger every component receives (never creates). Values that are ``Secret`` cannot reach it:
/// metadata is `[String: String]` and `Secret` interpolates as `‹redacted›`. As a second guard, every
/// message and value passes through the redactor, which masks strings registered as secret.
public struct Logger: Sendable {
    public var minimumLevel: LogLevel
    private let sink: LogSink
    private let redactor: Redactor
    public var context: [String: String]

    public init(sink: LogSink, minimumLevel: LogLevel = .info, redactor: Redactor = Redactor(), context: [String: String] = [:]) {
        self.sink = sink
        self.minimumLevel = minimumLevel
        self.redactor = redactor
        self.context = context
    }

    /// A logger that drops everything.
    public static let silent = Logger(sink: NullLogSink(), minimumLevel: .error)

    public func with(_ extra: [String: String]) -> Logger {
        var copy = self
        copy.context.merge(extra) { _, new in new }
        return copy
    }

    public func log(_ level: LogLevel, _ message: @autoclosure () -> String, _ metadata: [String: String] = [:]) {
        guard level >= minimumLevel else { return }
        var md = context
        md.merge(metadata) { _, new in new }
        var clean: [String: String] = [:]
        for (k, v) in md { clean[k] = redactor.redact(v) }
        sink.write(LogRecord(time: Date(), level: level, message: redactor.redact(message()), metadata: clean))
    }

    public func debug(_ m: @autoclosure () -> String, _ md: [String: String] = [:]) { log(.debug, m(), md) }
    public func info(_ m: @autoclosure () -> String, _ md: [String: String] = [:]) { log(.info, m(), md) }
    public func notice(_ m: @autoclosure () -> String, _ md: [String: String] = [:]) { log(.notice, m(), md) }
    public func warning(_ m: @autoclosure () -> String, _ md: [String: String] = [:]) { log(.warning, m(), md) }
    public func error(_ m: @autoclosure () -> String, _ md: [String: String] = [:]) { log(.error, m(), md) }
}

/// Masks known secret values anywhere in a string. Secrets are registered when they are loaded.
public final class Redactor: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String] = []

    public init() {}

    /// Registers a secret's value so it is masked wherever it appears. Very short values are ignored
    /// (they would mask ordinary text and are not real credentials).
    public func register(_ secret: Secret) {
        let v = secret.reveal()
        guard v.count >= 6 else { return }
        lock.withLock { if !values.contains(v) { values.append(v) } }
    }

    public func redact(_ text: String) -> String {
        let current = lock.withLock { values }
        guard !current.isEmpty else { return text }
        var out = text
        for v in current where out.contains(v) {
            out = out.replacingOccurrences(of: v, with: "‹redacted›")
        }
        return out
    }
}

public struct NullLogSink: LogSink {
    public init() {}
    public func write(_ record: LogRecord) {}
}

/// Keeps records in memory; tests read them back.
public final class InMemoryLogSink: LogSink, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [LogRecord] = []
    public init() {}
    public func write(_ record: LogRecord) { lock.withLock { stored.append(record) } }
    public var records: [LogRecord] { lock.withLock { stored } }
    /// Every message and metadata value, one per line, for "does this text appear anywhere" checks.
    public var allText: String {
        records.map { r in ([r.message] + r.metadata.map { "\($0.key)=\($0.value)" }).joined(separator: " ") }
            .joined(separator: "\n")
    }
}

/// Writes text or JSON lines to standard error.
public struct StandardErrorLogSink: LogSink {
    public enum Format: String, Sendable { case text, json }
    public let format: Format

    public init(format: Format) { self.format = format }

    public func write(_ record: LogRecord) {
        let line: String
        switch format {
        case .text:
            let md = record.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quoteIfNeeded($0.value))" }
            line = ([Self.timestamp(record.time), record.level.description, record.message] + md).joined(separator: " ")
        case .json:
            var obj = JSONObject()
            obj["time"] = .string(Self.timestamp(record.time))
            obj["level"] = .string(record.level.description)
            obj["message"] = .string(record.message)
            for (k, v) in record.metadata.sorted(by: { $0.key < $1.key }) { obj[k] = .string(v) }
            line = JSON.object(obj).serializedString()
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func quoteIfNeeded(_ v: String) -> String {
        v.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) ? JSON.string(v).serializedString() : v
    }

    static func timestamp(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }
}
