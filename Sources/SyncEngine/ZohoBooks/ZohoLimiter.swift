import Foundation

/// What `zbsync status` shows about the Zoho call budget.
public struct ZohoLimiterSnapshot: Sendable, Equatable {
    public var requestsPerMinute: Int
    /// Burst size of the bucket.
    public var capacity: Double
    /// Steady refill rate, calls per minute.
    public var refillPerMinute: Double
    /// Tokens available now.
    public var tokens: Double
    /// Calls sent in the last 60 seconds (by every process of the home).
    public var callsInLastMinute: Int
    /// Calls sent today (`day`, in the organization's time zone).
    public var callsToday: Int
    public var dailyLimit: Int?
    public var day: String
    /// No call before this (after a code 44 / 45 answer), if set and in the future.
    public var blockedUntil: Date?
}

/// The Zoho call budget shared by every zbsync process of one home: a token bucket plus an exact
/// sliding-window check, and a per-day counter, all persisted in a ``LimiterStateStore``.
///
/// Invariants:
/// - `capacity + 60 × ratePerSecond ≤ requestsPerMinute`, and the sliding-window log refuses a call when
///   `requestsPerMinute` calls were sent in the preceding 60 seconds: no 60-second window ever holds more.
/// - ``acquire()`` counts the call *before* it is sent and waits (through the ``SyncClock``) for exactly as long
///   as needed, so a long run keeps the bucket's rate without idle gaps.
/// - With a `dailyLimit`, the call that would exceed it throws ``RemoteError/dailyQuotaExhausted(_:)`` before
///   anything is sent. The day is the calendar day in the organization's time zone (UTC until it is known).
/// - After code 45 (Zoho's daily quota) every ``acquire()`` throws until the next day begins.
public final class ZohoLimiter: @unchecked Sendable {
    public let requestsPerMinute: Int
    public let dailyLimit: Int?
    /// Bucket size: `max(1, requestsPerMinute / 50)` (2 at Zoho's 100/min: a tiny burst, then 98/min sustained,
    /// so a long run keeps ≥ 95% of the limit even with some scheduling jitter). Lower `requestsPerMinute` to leave
    /// room for the merchant's other Zoho integrations.
    public let capacity: Double
    /// Refill rate in tokens per second: `(requestsPerMinute − capacity) / 60`.
    public let ratePerSecond: Double

    private let store: any LimiterStateStore
    private let clock: any SyncClock
    private let jitter: @Sendable () -> Double
    private let lock = NSLock()
    private var zone: TimeZone

    /// - Parameters:
    ///   - requestsPerMinute: honoured as given (above Zoho's 100 too, for the sandbox); at least 1.
    ///   - dailyLimit: `zoho.daily_limit`, or nil for no local daily stop (Zoho's code 45 still stops the day).
    ///   - jitter: seconds added after a code-44 minute boundary (default 0.5–2.5 s at random).
    public init(store: any LimiterStateStore, clock: any SyncClock, requestsPerMinute: Int = 100, dailyLimit: Int? = nil,
                timeZone: TimeZone = TimeZone(identifier: "UTC")!,
                jitter: @escaping @Sendable () -> Double = { Double.random(in: 0.5...2.5) }) {
        let rpm = max(1, requestsPerMinute)
        self.requestsPerMinute = rpm
        self.dailyLimit = dailyLimit
        let capacity = Double(max(1, rpm / 50))
        self.capacity = capacity
        // With rpm 1 the bucket holds the one call; the refill is what the window check allows.
        self.ratePerSecond = max(Double(rpm) - capacity, rpm == 1 ? 1 : 0) / 60
        self.store = store
        self.clock = clock
        self.jitter = jitter
        self.zone = timeZone
    }

    /// The time zone the day counter follows (the organization's, once known).
    public var timeZone: TimeZone {
        get { lock.withLock { zone } }
        set { lock.withLock { zone = newValue } }
    }

    private enum Decision { case go, wait(Double), quota(String) }

    /// Waits until a call may be sent, then counts it. Throws ``RemoteError/dailyQuotaExhausted(_:)`` instead of
    /// waiting when the day's budget is spent; `CancellationError` if the waiting task is cancelled.
    public func acquire() async throws {
        while true {
            try Task.checkCancellation()
            let now = clock.now()
            let day = dayKey(now)
            let nextDay = startOfNextDay(after: now)
            let decision: Decision = try store.updateLimiterState { state in
                var s = self.refreshed(state, now: now, day: day)
                defer { state = s }
                if let limit = dailyLimit, s.dayCount >= limit {
                    return .quota("\(s.dayCount) Zoho calls today reach zoho.daily_limit \(limit); the count resets at "
                        + "midnight (\(timeZone.identifier)). Everything not sent stays queued")
                }
                if let blocked = s.blockedUntil, blocked >= nextDay {
                    return .quota("Zoho answered that the organization's daily API quota is spent (code 45); "
                        + "try again after midnight (\(timeZone.identifier)). Everything not sent stays queued")
                }
                var wait = 0.0
                if let blocked = s.blockedUntil, blocked > now { wait = blocked.timeIntervalSince(now) }
                if s.tokens < 1 - 1e-6 { wait = max(wait, (1 - s.tokens) / ratePerSecond) }
                if s.recentCalls.count >= requestsPerMinute {
                    let oldestInWindow = s.recentCalls[s.recentCalls.count - requestsPerMinute]
                    wait = max(wait, 60 - now.timeIntervalSince(oldestInWindow))
                }
                // Whole milliseconds: a wait below a clock's resolution would never move it forward.
                if wait > 1e-6 { return .wait((wait * 1000).rounded(.up) / 1000) }
                s.tokens = max(0, s.tokens - 1)
                s.dayCount += 1
                s.recentCalls.append(now)
                if s.recentCalls.count > requestsPerMinute { s.recentCalls.removeFirst(s.recentCalls.count - requestsPerMinute) }
                if let blocked = s.blockedUntil, blocked <= now { s.blockedUntil = nil }
                return .go
            }
            switch decision {
            case .go: return
            case .quota(let message): throw RemoteError.dailyQuotaExhausted(message)
            case .wait(let seconds): try await clock.sleep(seconds: seconds)
            }
        }
    }

    /// Zoho answered code 44 (per-minute limit): no call before the next minute boundary plus a little jitter,
    /// or before `retryAfter` seconds when Zoho said so. Returns the time calls resume.
    @discardableResult
    public func recordPerMinuteLimit(retryAfter: Double? = nil) throws -> Date {
        let now = clock.now()
        let until: Date
        if let r = retryAfter, r > 0 {
            until = now.addingTimeInterval(r)
        } else {
            let t = now.timeIntervalSince1970
            let boundary = (t / 60).rounded(.down) * 60 + 60
            until = Date(timeIntervalSince1970: boundary + max(0, jitter()))
        }
        try block(until: until, now: now)
        return until
    }

    /// Zoho answered 1070 (too many requests in flight) or asked for a pause: no call before `until`.
    public func pause(until: Date) throws {
        try block(until: until, now: clock.now())
    }

    /// Zoho answered code 45: the day is spent (`dayCount = dailyLimit`) and no call is sent before the next day.
    public func recordDailyQuotaExhausted() throws {
        let now = clock.now()
        let day = dayKey(now)
        let nextDay = startOfNextDay(after: now)
        try store.updateLimiterState { state in
            var s = refreshed(state, now: now, day: day)
            if let limit = dailyLimit { s.dayCount = max(s.dayCount, limit) }
            s.blockedUntil = max(s.blockedUntil ?? nextDay, nextDay)
            state = s
        }
    }

    /// Calls counted today (0 when the stored count belongs to an earlier day).
    public func callsToday() throws -> Int {
        let now = clock.now()
        guard let s = try store.limiterState(), s.day == dayKey(now) else { return 0 }
        return s.dayCount
    }

    /// The current budget, read-only (changes nothing in the store).
    public func snapshot() throws -> ZohoLimiterSnapshot {
        let now = clock.now()
        let s = refreshed(try store.limiterState(), now: now, day: dayKey(now))
        return ZohoLimiterSnapshot(requestsPerMinute: requestsPerMinute, capacity: capacity,
                                   refillPerMinute: ratePerSecond * 60, tokens: s.tokens,
                                   callsInLastMinute: s.recentCalls.count, callsToday: s.dayCount,
                                   dailyLimit: dailyLimit, day: s.day,
                                   blockedUntil: s.blockedUntil.flatMap { $0 > now ? $0 : nil })
    }

    // MARK: State arithmetic

    /// The state brought up to `now`: refilled bucket, day rolled over, window pruned.
    private func refreshed(_ state: LimiterState?, now: Date, day: String) -> LimiterState {
        var s = state ?? LimiterState(tokens: capacity, updatedAt: now, day: day, dayCount: 0)
        if s.day != day {
            s.day = day
            s.dayCount = 0
        }
        let elapsed = now.timeIntervalSince(s.updatedAt)
        if elapsed > 0 {
            s.tokens = min(capacity, s.tokens + elapsed * ratePerSecond)
            s.updatedAt = now
        }
        s.tokens = min(s.tokens, capacity)
        s.recentCalls = s.recentCalls.filter { now.timeIntervalSince($0) < 60 }
        if let blocked = s.blockedUntil, blocked <= now { s.blockedUntil = nil }
        return s
    }

    private func block(until: Date, now: Date) throws {
        let day = dayKey(now)
        try store.updateLimiterState { state in
            var s = refreshed(state, now: now, day: day)
            s.blockedUntil = max(s.blockedUntil ?? until, until)
            state = s
        }
    }

    private var calendar: Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = timeZone
        return c
    }

    /// `yyyy-MM-dd` of `date` in the limiter's time zone.
    func dayKey(_ date: Date) -> String {
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    func startOfNextDay(after date: Date) -> Date {
        let cal = calendar
        let start = cal.startOfDay(for: date)
        return cal.date(byAdding: .day, value: 1, to: start) ?? date.addingTimeInterval(86_400)
    }
}
