import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The run lock could not be taken.
public enum RunLockError: Error, Equatable, CustomStringConvertible {
    /// Another process holds the lock (`pid` when it could be read from the file).
    case held(path: String, pid: Int32?)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .held(let path, let pid):
            let who = pid.map { "process \($0)" } ?? "another process"
            return "another zbsync run is in progress (\(who) holds \(path)); try again later"
        case .io(let path, let reason):
            return "cannot take the run lock \(path): \(reason)"
        }
    }
}

/// An exclusive `flock` on `HOME/zbsync.lock`: at most one writer (`sync`, `backfill`, `replay`,
/// `retry`) per home at a time.
///
/// Invariants: `acquire` never waits; it throws `RunLockError.held` at once when another open file
/// holds the lock. The lock is released by `release()`, by `deinit`, or by the kernel when the process
/// dies (even with SIGKILL), so it can never go stale. The lock file is created with mode 0600 and
/// holds the holder's pid, for the message only.
public final class RunLock: @unchecked Sendable {
    /// The lock file's name inside the home folder.
    public static let fileName = "zbsync.lock"

    /// The lock file's path.
    public let path: String
    // Guarded by `mutex`; -1 once released.
    private var fd: Int32
    private let mutex = NSLock()

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { release() }

    /// Takes the lock on `home/zbsync.lock` or throws `RunLockError.held` immediately.
    public static func acquire(home: URL) throws -> RunLock {
        let path = home.appendingPathComponent(fileName).path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RunLockError.io(path: path, reason: String(cString: strerror(errno))) }
        _ = fchmod(fd, 0o600)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            let holder = code == EWOULDBLOCK ? readPID(fd) : nil
            close(fd)
            if code == EWOULDBLOCK { throw RunLockError.held(path: path, pid: holder) }
            throw RunLockError.io(path: path, reason: String(cString: strerror(code)))
        }
        // Informational only: the lock is the flock, not the pid in the file.
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 {
            _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
        return RunLock(path: path, fd: fd)
    }

    /// Releases the lock. Safe to call more than once.
    public func release() {
        mutex.lock()
        defer { mutex.unlock() }
        guard fd >= 0 else { return }
        _ = flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
