import Foundation
import Testing
@testable import SyncEngine

@Suite struct ZohoLimiterTests {
    /// The largest number of `times` inside any window `[t, t + 60)`.
    func busiestMinute(_ times: [Date]) -> Int {
        let sorted = times.sorted()
        var best = 0
        var start = 0
        for end in sorted.indices {
            while sorted[end].timeIntervalSince(sorted[start]) >= 60 { start += 1 }
            best = max(best, end - start + 1)
        }
        return best
    }

    @Test(arguments: [1, 5, 10, 60, 80, 100, 250, 6000])
    func bucketNeverAllowsMoreThanTheLimitPerMinute(_ rpm: Int) {
        let limiter = ZohoLimiter(store: ZohoTestLimiterStore(), clock: TestClock(), requestsPerMinute: rpm)
        #expect(limiter.capacity >= 1)
        #expect(limiter.ratePerSecond > 0)
        if rpm > 1 { #expect(limiter.capacity + 60 * limiter.ratePerSecond <= Double(rpm) + 1e-9) }
    }

    @Test func defaultSizing() {
        let limiter = ZohoLimiter(store: ZohoTestLimiterStore(), clock: TestClock())
        #expect(limiter.capacity == 2)
        #expect(abs(limiter.ratePerSecond * 60 - 98) < 1e-9)
    }

    @Test func thousandCallsStayUnderTheLimitAtFullRate() async throws {
        let clock = TestClock()
        let limiter = ZohoLimiter(store: ZohoTestLimiterStore(), clock: clock, requestsPerMinute: 100)
        let start = clock.now()
        var times: [Date] = []
        for _ in 0..<1000 {
            try await limiter.acquire()
            times.append(clock.now())
        }
        #expect(busiestMinute(times) <= 100)
        let elapsed = clock.now().timeIntervalSince(start)
        let throughput = Double(times.count) / elapsed
        #expect(throughput >= 0.95 * limiter.ratePerSecond, "throughput \(throughput)/s")
        #expect(throughput * 60 >= 95, "at least 95% of the per-minute limit, sustained")
        #expect(try limiter.callsToday() == 1000)
    }

    @Test func twoProcessesSharingTheStoreShareTheBudget() async throws {
        let clock = TestClock()
        let store = ZohoTestLimiterStore()
        let a = ZohoLimiter(store: store, clock: clock, requestsPerMinute: 100)
        let b = ZohoLimiter(store: store, clock: clock, requestsPerMinute: 100)
        var times: [Date] = []
        for i in 0..<400 {
            try await (i % 3 == 0 ? a : b).acquire()
            times.append(clock.now())
        }
        #expect(busiestMinute(times) <= 100)
    }

    @Test func windowLogHoldsEvenWhenAnotherProcessUsesABiggerBucket() async throws {
        // A home whose processes disagree on the limit (config changed mid-run) still never exceeds the smaller one
        // in the process that has it, thanks to the sliding-window log.
        let clock = TestClock()
        let store = ZohoTestLimiterStore()
        let big = ZohoLimiter(store: store, clock: clock, requestsPerMinute: 1000)
        let small = ZohoLimiter(store: store, clock: clock, requestsPerMinute: 100)
        for _ in 0..<100 { try await big.acquire() }
        let before = clock.now()
        try await small.acquire()
        #expect(clock.now().timeIntervalSince(before) > 0)
    }

    @Test func dailyLimitStopsBeforeTheCallAndResetsAtMidnightInTheOrgTimeZone() async throws {
        // 2027-01-15 07:30 UTC is 23:30 the day before in Los Angeles.
        let clock = TestClock(start: Date(timeIntervalSince1970: 1_800_000_000 - 1_800_000_000.truncatingRemainder(dividingBy: 86_400) + 7.5 * 3600))
        let limiter = ZohoLimiter(store: ZohoTestLimiterStore(), clock: clock, requestsPerMinute: 6000, dailyLimit: 3,
                                  timeZone: TimeZone(identifier: "America/Los_Angeles")!)
        for _ in 0..<3 { try await limiter.acquire() }
        await expectRemoteError({ try await limiter.acquire() }) {
            if case .dailyQuotaExhausted(let m) = $0 { return m.contains("America/Los_Angeles") }
            return false
        }
        #expect(try limiter.callsToday() == 3)
        clock.advance(by: 31 * 60)  // 00:01 in Los Angeles
        try await limiter.acquire()
        #expect(try limiter.callsToday() == 1)
    }

    @Test func code44BlocksUntilTheNextMinuteBoundary() async throws {
        let clock = TestClock(start: Date(timeIntervalSince1970: 1_800_000_020))
        let limiter = ZohoLimiter(store: ZohoTestLimiterStore(), clock: clock, requestsPerMinute: 100, jitter: { 1.5 })
        try await limiter.acquire()
        let until = try limiter.recordPerMinuteLimit()
        #expect(until == Date(timeIntervalSince1970: 1_800_000_061.5))  // 1_800_000_060 is the next minute boundary
        #expect(try limiter.snapshot().blockedUntil == until)
        try await limiter.acquire()
        #expect(clock.now() >= until)
    }

    @Test func code45SpendsTheDay() async throws {
        let clock = TestClock()
        let limiter = ZohoLimiter(store: ZohoTestLimiterStore(), clock: clock, requestsPerMinute: 100, dailyLimit: 2000)
        try await limiter.acquire()
        try limiter.recordDailyQuotaExhausted()
        #expect(try limiter.callsToday() == 2000)
        await expectRemoteError({ try await limiter.acquire() }) {
            if case .dailyQuotaExhausted = $0 { return true }
            return false
        }
        clock.advance(by: 86_400)
        try await limiter.acquire()
        #expect(try limiter.callsToday() == 1)
    }

    @Test func code45WithoutAConfiguredLimitStillStopsTheDay() async throws {
        let clock = TestClock()
        let limiter = ZohoLimiter(store: ZohoTestLimiterStore(), clock: clock)
        try limiter.recordDailyQuotaExhausted()
        await expectRemoteError({ try await limiter.acquire() }) {
            if case .dailyQuotaExhausted = $0 { return true }
            return false
        }
        #expect(clock.totalSlept == 0, "the run stops instead of sleeping until tomorrow")
    }

    @Test func snapshotIsReadOnly() async throws {
        let clock = TestClock()
        let store = ZohoTestLimiterStore()
        let limiter = ZohoLimiter(store: store, clock: clock, requestsPerMinute: 100, dailyLimit: 500)
        for _ in 0..<4 { try await limiter.acquire() }
        let before = try store.limiterState()
        let snap = try limiter.snapshot()
        #expect(try store.limiterState() == before)
        #expect(snap.callsToday == 4)
        #expect(snap.callsInLastMinute == 4)
        #expect(snap.dailyLimit == 500)
        #expect(abs(snap.refillPerMinute - 98) < 1e-9)
        #expect(snap.tokens >= 0 && snap.tokens < 1)
    }

    @Test func burstIsTheCapacityThenTheSteadyRate() async throws {
        let clock = TestClock()
        let limiter = ZohoLimiter(store: ZohoTestLimiterStore(), clock: clock, requestsPerMinute: 100)
        let start = clock.now()
        for _ in 0..<2 { try await limiter.acquire() }
        #expect(clock.now() == start)
        try await limiter.acquire()
        #expect(abs(clock.now().timeIntervalSince(start) - 60.0 / 98) < 0.002)
    }
}
