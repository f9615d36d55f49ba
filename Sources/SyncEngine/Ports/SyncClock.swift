import Foundation

/// Wall time and waiting, behind a port so tests skip real sleeps.
///
/// Contract: `now()` never goes backwards within one process by more than the system clock does;
/// `sleep` may return early only by throwing `CancellationError`.
public protocol SyncClock: Sendable {
    func now() -> Date
    func sleep(seconds: Double) async throws
}

/// The real clock.
public struct SystemClock: SyncClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(nanoseconds: UInt64(min(seconds, 86_400) * 1_000_000_000))
    }
}

/// A clock that moves only when told to or when someone sleeps on it; sleeping advances time at once.
public final class TestClock: SyncClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    private var slept: Double = 0

    public init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }

    public func now() -> Date { lock.withLock { current } }

    public func sleep(seconds: Double) async throws {
        lock.withLock {
            if seconds > 0 { current = current.addingTimeInterval(seconds); slept += seconds }
        }
    }

    public func advance(by seconds: Double) { lock.withLock { current = current.addingTimeInterval(seconds) } }

    /// Total seconds spent in `sleep`.
    public var totalSlept: Double { lock.withLock { slept } }
}
