import Foundation
import Stores
import SyncEngine

/// `zbsync status [--json]`: what the home folder's state says, without taking the run lock.
///
/// Exit codes: 0 when healthy; 1 when there are dead operations or open attention items (the one
/// stderr line says what to do). The report itself always goes to stdout, text or one JSON object.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show last runs, cursors, queued operations, Zoho quota and items needing attention.",
        discussion: """
        Read-only, and never waits for a running sync. Exits 0 when healthy and 1 when operations are
        dead-lettered or records need attention (quarantined records are named by their BigCommerce ids).
        """
    )

    static let arguments: [ArgumentSpec] = [
        .flag("--json", help: "Print one JSON object (sorted keys) instead of text."),
        .option("--limit", valueName: "n", help: "How many runs and attention items to list.", defaultValue: "10"),
    ]

    var json: Bool
    var limit: Int

    init(from arguments: ParsedArguments) throws {
        json = arguments.flag("json")
        limit = try arguments.int("limit") ?? 10
    }

    mutating func validate() throws {
        guard limit > 0 else { throw UsageError("--limit must be at least 1") }
    }

    func run(_ context: AppContext) async throws -> ExitCode {
        let config = try context.configuration()
        let store = try context.store()
        let report = try StatusReport.gather(store: store, configuration: config, home: context.home,
                                             now: context.clock.now(), limit: limit)
        if json {
            context.output.print(report.json.serializedString(sortedKeys: true))
        } else {
            context.output.print(lines: report.text(homeOption: context.globals.home == nil ? "" : " --home \(context.home.path)"))
        }
        if let problem = report.problem {
            throw CommandFailure(.partialFailure, problem)
        }
        return .success
    }
}

/// Everything `status` shows, read from the store in one go. Pure values; rendering is separate.
struct StatusReport {
    struct Oldest {
        var id: Int64
        var kind: String
        var entityKey: String
        var createdAt: Date
        var lastError: String?
    }

    var home: URL
    var now: Date
    var runs: [RunRecord]
    var cursors: [StreamCursor]
    var counts: [JournalState: Int]
    var oldest: [JournalState: Oldest]
    var attention: [AttentionItem]
    var attentionCount: Int
    var inboxWaiting: Int
    var callsToday: Int
    var quotaDay: String
    var dailyLimit: Int
    var tokenExpiresAt: Date?
    /// Set when the cached Zoho session cannot be read (wrong key); shown instead of the expiry.
    var tokenProblem: String?
    var credentialNames: [String]

    /// True before the first sync or backfill: no run, no cursor, no operation.
    var isFresh: Bool { runs.isEmpty && cursors.isEmpty && counts.values.allSatisfy { $0 == 0 } }

    var deadCount: Int { counts[.dead] ?? 0 }

    /// The one-line reason `status` exits 1, or nil when healthy.
    var problem: String? {
        var parts: [String] = []
        if deadCount > 0 { parts.append("\(deadCount) dead operation\(deadCount == 1 ? "" : "s") (fix the cause, then 'zbsync retry --all')") }
        if attentionCount > 0 {
            parts.append("\(attentionCount) record\(attentionCount == 1 ? "" : "s") need\(attentionCount == 1 ? "s" : "") attention (listed by 'zbsync status')")
        }
        return parts.isEmpty ? nil : "not healthy: " + parts.joined(separator: "; ")
    }

    static func gather(store: SQLiteStateStore, configuration: Configuration, home: URL, now: Date, limit: Int) throws -> StatusReport {
        var oldest: [JournalState: Oldest] = [:]
        for state in [JournalState.pending, .unknown, .failed, .dead] {
            if let e = try store.oldest(state) {
                oldest[state] = Oldest(id: e.id, kind: e.operation.kind, entityKey: e.operation.entityKey,
                                       createdAt: e.createdAt, lastError: e.lastError)
            }
        }
        var session: ZohoSession?
        var tokenProblem: String?
        do { session = try store.zohoSession() } catch { tokenProblem = FailureReport(for: error).message }

        let orgZone = session?.orgSettings["time_zone"]?.string.flatMap(TimeZone.init(identifier:)) ?? configuration.store.timeZone
        let limiter = try store.limiterState()
        let today = dayLabel(now, in: orgZone)
        let calls = limiter.map { $0.day == today ? $0.dayCount : 0 } ?? 0

        return StatusReport(
            home: home, now: now,
            runs: try store.recentRuns(limit: limit),
            cursors: try store.allCursors().sorted { $0.stream < $1.stream },
            counts: try store.counts(),
            oldest: oldest,
            attention: try store.openAttention(limit: limit),
            attentionCount: try store.openAttentionCount(),
            inboxWaiting: try store.inboxCount(processed: false),
            callsToday: calls, quotaDay: today, dailyLimit: configuration.zoho.dailyLimit,
            tokenExpiresAt: session?.expiresAt, tokenProblem: tokenProblem,
            credentialNames: try store.secretNames().sorted())
    }

    static func dayLabel(_ date: Date, in zone: TimeZone) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = zone
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: date)
    }

    /// `3m`, `2h 5m`, `4d 3h`.
    static func age(_ seconds: TimeInterval) -> String {
        let s = Int(max(0, seconds))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        if s < 86_400 { return "\(s / 3600)h \(s % 3600 / 60)m" }
        return "\(s / 86_400)d \(s % 86_400 / 3600)h"
    }

    // MARK: Text

    func text(homeOption: String) -> [String] {
        var out = ["Home: \(home.path)"]
        out.append("Credentials stored: " + (credentialNames.isEmpty ? "none yet" : credentialNames.joined(separator: ", ")))
        if isFresh {
            out.append("")
            out.append("Nothing has run yet.")
            out.append("Next steps:")
            out.append("  zbsync auth bigcommerce --store-hash HASH\(homeOption)")
            out.append("  zbsync auth zoho --region us --client-id ID\(homeOption)")
            out.append("  zbsync doctor\(homeOption)")
            out.append("  zbsync sync --dry-run\(homeOption)")
            return out
        }

        out.append("")
        out.append("Last runs:")
        if runs.isEmpty { out.append("  none") }
        for run in runs {
            let ended = run.endedAt.map { "took \(Self.age($0.timeIntervalSince(run.startedAt)))" } ?? "did not finish"
            let code = run.exitCode.map { "exit \($0)" } ?? "exit ?"
            let summary = run.summary.isEmpty ? "" : "  \(run.summary)"
            out.append("  \(DateText.iso(run.startedAt))  \(run.command)  \(code)  \(ended)  (\(Self.age(now.timeIntervalSince(run.startedAt))) ago)\(summary)")
        }

        out.append("")
        out.append("Cursors:")
        if cursors.isEmpty { out.append("  none yet") }
        for c in cursors {
            out.append("  \(c.stream.padding(toLength: 12, withPad: " ", startingAt: 0)) \(DateText.iso(c.timestamp)) id \(c.id)  lag \(Self.age(now.timeIntervalSince(c.timestamp)))")
        }

        out.append("")
        out.append("Journal:")
        for state in JournalState.allCases {
            var line = "  \(state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(counts[state] ?? 0)"
            if let o = oldest[state] {
                line += "  oldest #\(o.id) \(o.kind) \(o.entityKey), \(Self.age(now.timeIntervalSince(o.createdAt))) old"
                if let e = o.lastError, !e.isEmpty { line += ": \(e)" }
            }
            out.append(line)
        }

        out.append("")
        out.append("Needs attention: \(attentionCount)")
        for item in attention {
            out.append("  \(item.kind)  \(item.entityKey)  \(item.message)  (since \(DateText.iso(item.firstSeen)))")
        }
        if attentionCount > attention.count { out.append("  … and \(attentionCount - attention.count) more (use --limit)") }

        out.append("")
        out.append("Webhook inbox: \(inboxWaiting) waiting")
        out.append("Zoho calls today (\(quotaDay)): \(callsToday) of \(dailyLimit)")
        if let tokenProblem {
            out.append("Zoho access token: unreadable: \(tokenProblem)")
        } else if let expires = tokenExpiresAt {
            let left = expires.timeIntervalSince(now)
            out.append("Zoho access token: " + (left > 0 ? "expires \(DateText.iso(expires)) (in \(Self.age(left)))"
                                                           : "expired \(DateText.iso(expires)); the next run refreshes it"))
        } else {
            out.append("Zoho access token: none cached")
        }
        out.append("")
        out.append("Health: " + (problem ?? "ok"))
        return out
    }

    // MARK: JSON

    var json: JSON {
        var root = JSONObject()
        root["home"] = .string(home.path)
        root["now"] = .string(DateText.iso(now))
        root["fresh"] = .bool(isFresh)
        root["healthy"] = .bool(problem == nil)
        root["problem"] = .optional(problem)
        root["credentials"] = .array(credentialNames.map(JSON.string))
        root["runs"] = .array(runs.map { run in
            var o = JSONObject()
            o["id"] = .string(run.id)
            o["command"] = .string(run.command)
            o["started_at"] = .string(DateText.iso(run.startedAt))
            o["ended_at"] = .optional(run.endedAt.map(DateText.iso))
            o["exit_code"] = run.exitCode.map { .int(Int($0)) } ?? .null
            o["summary"] = .string(run.summary)
            var counts = JSONObject()
            for (k, v) in run.counts { counts[k] = .int(v) }
            o["counts"] = .object(counts)
            return .object(o)
        })
        root["cursors"] = .array(cursors.map { c in
            .object(JSONObject([("stream", .string(c.stream)), ("timestamp", .string(DateText.iso(c.timestamp))),
                                ("id", .int64(c.id)), ("lag_seconds", .int(Int(now.timeIntervalSince(c.timestamp))))]))
        })
        var journal = JSONObject()
        for state in JournalState.allCases { journal[state.rawValue] = .int(counts[state] ?? 0) }
        var oldestJSON = JSONObject()
        for state in JournalState.allCases {
            guard let o = oldest[state] else { continue }
            oldestJSON[state.rawValue] = .object(JSONObject([
                ("id", .int64(o.id)), ("kind", .string(o.kind)), ("entity", .string(o.entityKey)),
                ("created_at", .string(DateText.iso(o.createdAt))), ("last_error", .optional(o.lastError)),
            ]))
        }
        root["journal"] = .object(JSONObject([("counts", .object(journal)), ("oldest", .object(oldestJSON))]))
        root["attention"] = .object(JSONObject([
            ("open", .int(attentionCount)),
            ("items", .array(attention.map { item in
                .object(JSONObject([("kind", .string(item.kind)), ("entity", .string(item.entityKey)),
                                    ("message", .string(item.message)), ("first_seen", .string(DateText.iso(item.firstSeen))),
                                    ("last_seen", .string(DateText.iso(item.lastSeen)))]))
            })),
        ]))
        root["inbox"] = .object(JSONObject([("waiting", .int(inboxWaiting))]))
        root["zoho"] = .object(JSONObject([
            ("day", .string(quotaDay)), ("calls_today", .int(callsToday)), ("daily_limit", .int(dailyLimit)),
            ("token_expires_at", .optional(tokenExpiresAt.map(DateText.iso))), ("token_problem", .optional(tokenProblem)),
        ]))
        return .object(root)
    }
}
