import Foundation
import Testing
@testable import Stores

@Suite struct LimiterStateTests {
    let home = TempHome()

    @Test func readModifyWriteRoundTrips() throws {
        let store = try makeStore(home)
        #expect(try store.limiterState() == nil)
        let recent = [t(0.001), t(1.5), t(59.999)]
        let n = try store.updateLimiterState { state -> Int in
            #expect(state == nil)
            state = LimiterState(tokens: 99.5, updatedAt: t(2), day: "2023-11-14", dayCount: 1, blockedUntil: t(60), recentCalls: recent)
            return 42
        }
        #expect(n == 42)
        #expect(try store.limiterState() == LimiterState(tokens: 99.5, updatedAt: t(2), day: "2023-11-14", dayCount: 1,
                                                          blockedUntil: t(60), recentCalls: recent))
    }

    @Test func throwingBodyChangesNothing() throws {
        struct Refused: Error {}
        let store = try makeStore(home)
        try store.updateLimiterState { $0 = LimiterState(tokens: 1, updatedAt: t(), day: "d", dayCount: 1) }
        #expect(throws: Refused.self) {
            try store.updateLimiterState { state -> Void in
                state?.dayCount = 500
                throw Refused()
            }
        }
        #expect(try store.limiterState()?.dayCount == 1)
    }

    @Test func concurrentUpdatesFromTwoConnectionsAreAtomic() throws {
        let key = MasterKey.generate()
        let stores = [try makeStore(home, key: key), try makeStore(home, key: key)]
        try stores[0].updateLimiterState { $0 = LimiterState(tokens: 0, updatedAt: t(), day: "d", dayCount: 0) }
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for _ in 0..<50 {
                do {
                    try stores[worker % 2].updateLimiterState { state in state!.dayCount += 1 }
                } catch {
                    failures.increment()
                }
            }
        }
        #expect(failures.value == 0)
        #expect(try stores[1].limiterState()?.dayCount == 400)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
