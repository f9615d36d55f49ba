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
        // The shell takes the lock on fd 9 and then becomes `sleep`, so terminating it frees the lock.
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", "exec 9>>\"$0\"; /usr/bin/flock -n 9 || exit 1; exec sleep 30", path]
        try holder.run()
        defer { if holder.isRunning { holder.terminate(); holder.waitUntilExit() } }
        // Wait until the child has the lock.
        var held = false
        for _ in 0..<100 {
            if try runProcess("/usr/bin/flock", ["-n", path, "true"]) == 1 { held = true; break }
            usleep(20_000)
        }
        #expect(held)
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
