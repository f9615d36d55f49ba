import Foundation
import Testing
@testable import Stores

@Suite struct RunLockTests {
    let home = TempHome()

    @Test func secondHolderIsRefusedUntilRelease() throws {
        let path = home.path(RunLock.fileName)
        let lock = try RunLock.acquire(home: home.url)
        #expect(fileMode(path) == 0o600)

        // Another process cannot take it, and neither can another open of the file in this one.
        #expect(try runProcess("/usr/bin/flock", ["-n", path, "true"]) == 1)
        let error = #expect(throws: RunLockError.self) { try RunLock.acquire(home: home.url) }
        #expect(error == .held(path: path, pid: getpid()))

        lock.release()
        lock.release()
        #expect(try runProcess("/usr/bin/flock", ["-n", path, "true"]) == 0)
        let again = try RunLock.acquire(home: home.url)
        again.release()
    }

    @Test func releasedWhenDeallocated() throws {
        let path = home.path(RunLock.fileName)
        do {
            let lock = try RunLock.acquire(home: home.url)
            #expect(try runProcess("/usr/bin/flock", ["-n", path, "true"]) == 1)
            _ = lock
        }
        #expect(try runProcess("/usr/bin/flock", ["-n", path, "true"]) == 0)
    }

    @Test func heldByAnotherProcessIsRefusedAtOnce() throws {
        let path = home.path(RunLock.fileName)
        _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        let holder = Process()
        // The shell takes the lock on fd 9 (waiting out any probe below) and then becomes `sleep`, so
        // killing it frees the lock.
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", "exec 9>>\"$0\"; /usr/bin/flock 9 || exit 1; exec sleep 30", path]
        try holder.run()
        defer { if holder.isRunning { holder.terminate(); holder.waitUntilExit() } }
        // Wait until the child has the lock (generously: the machine may be busy).
        var held = false
        let deadline = Date().addingTimeInterval(20)
        while !held && Date() < deadline {
            held = try runProcess("/usr/bin/flock", ["-n", path, "true"]) == 1
            if !held { usleep(50_000) }
        }
        try #require(held)
        let start = Date()
        #expect(throws: RunLockError.self) { try RunLock.acquire(home: home.url) }
        #expect(Date().timeIntervalSince(start) < 1)

        // The kernel frees the lock when the holder dies, even by SIGKILL.
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let lock = try RunLock.acquire(home: home.url)
        lock.release()
    }
}
