import Foundation
import Stores
import SyncEngine

/// A backfill of a seeded 5,000-order store at Zoho's real limit (100 calls per rolling minute), on a clock that
/// runs `scale` times faster than wall time, the sandbox's clock likewise. Every figure is in sandbox (scaled)
/// time, so it reads as it would at 1×.
enum BackfillBench {
    /// The largest number of calls in any window `[t, t + length)` starting at a call.
    static func busiestWindow(_ times: [Double], length: Double = 60) -> (count: Int, start: Double) {
        let t = times.sorted()
        var best = (count: 0, start: t.first ?? 0)
        var j = 0
        for i in t.indices {
            if j < i { j = i }
            while j < t.count && t[j] < t[i] + length { j += 1 }
            if j - i > best.count { best = (j - i, t[i]) }
        }
        return best
    }

    static func run(_ options: Options) async throws {
        let sandbox = Sandbox(port: Int(try options.string("port"))!)
        let scale = options.double("scale", default: 60)
        let rpm = options.int("rpm", default: 100)
        let dir = try options.string("dir")
        let homeParent = URL(fileURLWithPath: options.optional("home-dir") ?? dir)
        let out = try options.string("out")

        let home = try BenchHome(under: homeParent, name: "home-backfill-\(getpid())")
        defer { try? FileManager.default.removeItem(at: home.url) }
        let sandboxNow = try await sandbox.now()
        let clock = ScaledClock(start: sandboxNow, scale: scale)
        let since = sandboxNow.addingTimeInterval(-31 * 86_400)
        let before = try await sandbox.lastSequence()
        let wall0 = wallSeconds()
        let wiring = try await RunWiring.make(sandbox: sandbox, home: home, clock: clock, requestsPerMinute: rpm, start: since)
        note("backfill: reading and pushing (×\(fmt(scale, 0)) clock; progress every 1,000 operations)")
        var lastShown = 0
        let report = try await wiring.runner.backfill(BackfillWindow(since: since, until: nil), options: SyncOptions()) { push in
            let n = push.done + push.failed + push.dead
            if n >= lastShown + 1000 {
                lastShown = n
                note("  backfill: \(n) operations pushed, \(fmt(wallSeconds() - wall0, 0)) s wall")
            }
        }
        let wall = wallSeconds() - wall0

        let zoho = try await sandbox.requests(since: before, api: "zoho")
        let bc = try await sandbox.requests(since: before, api: "bc")
        let accounts = try await sandbox.requests(since: before, api: "accounts")
        let lastRead = bc.map(\.seq).max() ?? before
        let admitted = zoho.filter { !$0.isThrottled }
        let throttled = zoho.filter(\.isThrottled)
        let push = admitted.filter { $0.seq > lastRead }
        let pushTimes = push.map(\.time).sorted()
        let span = (pushTimes.last ?? 0) - (pushTimes.first ?? 0)
        let callsPerMinute = span > 0 ? Double(pushTimes.count - 1) / span * 60 : 0
        let busiest = busiestWindow(admitted.map(\.time))
        let invoices = push.filter { $0.method == "POST" && $0.path.hasSuffix("/invoices") }.count
        let readTimes = bc.map(\.time).sorted()
        let readSpan = (readTimes.last ?? 0) - (readTimes.first ?? 0)
        let capacity = Double(max(1, rpm / 50))

        var r = JSONObject()
        r["scale"] = .decimal(Decimal(scale))
        r["rpm"] = .int(rpm)
        r["limiter_sustained_per_minute"] = .decimal(Decimal(Double(rpm) - capacity))
        r["orders_read"] = .int(report.ordersSeen)
        r["refunds_read"] = .int(report.refundsSeen)
        r["operations_done"] = .int(report.push.done)
        r["operations_failed"] = .int(report.push.failed + report.push.dead)
        r["quarantined"] = .int(report.quarantined)
        r["stop"] = .string(report.push.stop.map { "\($0)" } ?? "")
        r["invoices_created"] = .int(invoices)
        r["zoho_calls"] = .int(admitted.count)
        r["push_calls"] = .int(push.count)
        r["bc_calls"] = .int(bc.count)
        r["token_requests"] = .int(accounts.count)
        r["throttled"] = .int(throttled.count)
        r["throttled_codes"] = .string(throttled.prefix(10).map { "\($0.status)/\($0.code ?? "-")" }.joined(separator: " "))
        r["read_minutes"] = .decimal(Decimal(readSpan / 60).rounded(scale: 2))
        r["push_minutes"] = .decimal(Decimal(span / 60).rounded(scale: 2))
        r["calls_per_minute"] = .decimal(Decimal(callsPerMinute).rounded(scale: 2))
        r["utilisation_pct"] = .decimal(Decimal(callsPerMinute / Double(rpm) * 100).rounded(scale: 1))
        r["utilisation_of_sustained_pct"] = .decimal(Decimal(callsPerMinute / (Double(rpm) - capacity) * 100).rounded(scale: 1))
        r["orders_per_minute"] = .decimal(Decimal(span > 0 ? Double(report.ordersSeen) / (span / 60) : 0).rounded(scale: 2))
        r["invoices_per_minute"] = .decimal(Decimal(span > 0 ? Double(invoices) / (span / 60) : 0).rounded(scale: 2))
        r["calls_per_order"] = .decimal(Decimal(report.ordersSeen > 0 ? Double(admitted.count) / Double(report.ordersSeen) : 0).rounded(scale: 2))
        r["busiest_window"] = .int(busiest.count)
        r["wall_seconds"] = .decimal(Decimal(wall).rounded(scale: 1))
        try writeResult(.object(r), to: out)
        note("backfill: \(report.ordersSeen) orders, \(admitted.count) Zoho calls, \(fmt(callsPerMinute, 2))/min over \(fmt(span / 60)) min, busiest 60 s \(busiest.count), 429s \(throttled.count), \(fmt(wall)) s wall")
    }
}
