import Foundation
@testable import SyncEngine

/// A ``SyncClock`` that runs `scale` times faster than wall time, like a sandbox started with `--time-scale`:
/// `now()` is `start + wall elapsed × scale` (plus any ``advance(by:)`` jumps, to follow the sandbox's
/// `/_sandbox/clock` moves), and `sleep(s)` sleeps `s / scale` wall seconds.
final class ScaledClock: SyncClock, @unchecked Sendable {
    let start: Date
    let scale: Double
    private let wall0: UInt64
    private let lock = NSLock()
    private var offset: Double = 0

    init(start: Date = Date(), scale: Double) {
        self.start = start
        self.scale = scale
        self.wall0 = DispatchTime.now().uptimeNanoseconds
    }

    func now() -> Date {
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - wall0) / 1e9
        return start.addingTimeInterval(elapsed * scale + lock.withLock { offset })
    }

    /// Jumps forward by `seconds` (clock time).
    func advance(by seconds: Double) { lock.withLock { offset += seconds } }

    func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(nanoseconds: UInt64(min(seconds / scale, 600) * 1e9))
    }
}
