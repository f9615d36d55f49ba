import Foundation
import SyncEngine

/// Gathers the scenario results (JSON files in one folder) into the table printed on stdout and written to
/// `docs/BENCHMARKS.md`.
enum Report {
    static func run(_ options: Options) throws {
        let dir = URL(fileURLWithPath: try options.string("results"))
        let out = try options.string("out")
        func load(_ name: String) -> JSON? {
            guard let data = try? Data(contentsOf: dir.appendingPathComponent(name)) else { return nil }
            return try? JSON.parse(data)
        }
        let machine = (try? String(contentsOf: dir.appendingPathComponent("machine.txt"), encoding: .utf8)) ?? ""
        let calls = load("calls.json")
        let backfill = load("backfill.json")
        // The same backfill on a smaller store at a clock scale this machine can follow (see the note below).
        let rated = load("backfill-rate.json")
        let planSizes = [1_000, 10_000, 100_000]
        let plans = planSizes.map { load("plan-\($0).json") }
        let webhook = load("webhook.json")

        var md: [String] = []
        var checks: [(String, String, Bool?)] = []
        func d(_ j: JSON?, _ key: String) -> Double? { j?[key]?.decimal.map { NSDecimalNumber(decimal: $0).doubleValue } }
        func i(_ j: JSON?, _ key: String) -> Int? { j?[key]?.int }
        func mb(_ bytes: Int?) -> String { bytes.map { fmt(Double($0) / 1_000_000) + " MB" } ?? "—" }

        md.append("# Benchmarks")
        md.append("")
        md.append("Written by `make bench` (`scripts/bench.sh`): the release build against the local sandbox (`sandbox/`, loopback), "
            + "every figure from this one run. Zoho calls are counted in the sandbox's request log, not by zbsync itself.")
        md.append("")
        md.append("## Machine")
        md.append("")
        for line in machine.split(separator: "\n") where !line.isEmpty { md.append("- " + line) }
        md.append("")

        // Calls per order.
        let rows = calls?["rows"]?.array ?? []
        func row(_ key: String) -> JSON? { rows.first { $0["key"]?.string == key } }
        md.append("## Zoho calls per order")
        md.append("")
        md.append("Steady state: the organization, its taxes and the item list are already known from a first run; each kind of "
            + "order is created in BigCommerce and one `sync` picks it up. The baseline is a straightforward per-order flow "
            + "(look the contact up, look each item up, create the invoice, mark it sent, record the payment; no mapping table, "
            + "no cache) over the same clients, on a second sandbox with the same seed and the same orders.")
        md.append("")
        md.append("| order | zbsync calls | reads / writes | zbsync's calls | baseline calls | baseline ÷ zbsync |")
        md.append("|---|---:|---:|---|---:|---:|")
        for r in rows {
            let z = r["zbsync"], b = r["baseline"]
            let zt = z?["total"]?.int ?? 0
            let bt = b?["total"]?.int
            let ratio = bt.map { zt > 0 ? fmt(Double($0) / Double(zt), 2) + "×" : "—" } ?? "—"
            md.append("| \(r["name"]?.string ?? "") | \(zt) | \(z?["reads"]?.int ?? 0) / \(z?["writes"]?.int ?? 0) | "
                + "\(z?["calls"]?.string.flatMap { $0.isEmpty ? nil : "`" + $0.replacingOccurrences(of: ", ", with: "`, `") + "`" } ?? "none") | "
                + "\(bt.map(String.init) ?? "— (nothing to do)") | \(ratio) |")
        }
        md.append("")
        let imp = calls?["import"]
        let zbImport = imp?["zbsync"]?["total"]?.int ?? 0, zbInvoices = imp?["zbsync_invoices"]?.int ?? 0
        let baseImport = imp?["baseline"]?["total"]?.int ?? 0, baseInvoices = imp?["baseline_invoices"]?.int ?? 0
        let zbMix = zbInvoices > 0 ? Double(zbImport) / Double(zbInvoices) : 0
        let baseMix = baseInvoices > 0 ? Double(baseImport) / Double(baseInvoices) : 0
        md.append("First import of the seeded store (\(imp?["orders"]?.int ?? 0) orders, \(imp?["refunds"]?.int ?? 0) refunds; "
            + "every kind of order the sandbox seeds: guests, second currencies, bundles, coupons, refunds, cancellations): "
            + "zbsync \(zbImport) Zoho calls for \(zbInvoices) invoices (\(fmt(zbMix, 2)) per invoiced order, setup included: "
            + "organization, taxes, item list, accounts); baseline \(baseImport) calls for \(baseInvoices) invoices "
            + "(\(fmt(baseMix, 2)) per invoiced order, plus \(imp?["baseline_setup"]?["total"]?.int ?? 0) setup calls not counted). "
            + "Problems: zbsync \(calls?["zbsync_problems"]?.int ?? 0) failed or quarantined operations; baseline "
            + "\(calls?["baseline_failure_count"]?.int ?? 0) failed orders.")
        md.append("")

        // Orders per day.
        let steadyZ = row("known_customer_known_items")?["zbsync"]?["total"]?.int ?? 0
        let steadyB = row("known_customer_known_items")?["baseline"]?["total"]?.int ?? 0
        md.append("## Orders per day on each Zoho plan")
        md.append("")
        md.append("Orders per day = ⌊daily call limit ÷ calls per order⌋. \"Returning customer\" is the steady-state paid order "
            + "with a known customer and known items (zbsync \(steadyZ) calls, baseline \(steadyB)); \"store mix\" is the first "
            + "import's calls per invoiced order (zbsync \(fmt(zbMix, 2)), baseline \(fmt(baseMix, 2))).")
        md.append("")
        md.append("| plan | calls/day | zbsync, returning customer | baseline | ratio | zbsync, store mix | baseline | ratio |")
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        var ratioPrinted = false
        for plan in zohoPlans {
            let zs = steadyZ > 0 ? plan.daily / steadyZ : 0
            let bs = steadyB > 0 ? plan.daily / steadyB : 0
            let zm = zbMix > 0 ? Int(Double(plan.daily) / zbMix) : 0
            let bm = baseMix > 0 ? Int(Double(plan.daily) / baseMix) : 0
            let r1 = bs > 0 ? fmt(Double(zs) / Double(bs), 2) + "×" : "—"
            let r2 = bm > 0 ? fmt(Double(zm) / Double(bm), 2) + "×" : "—"
            if bs > 0 && bm > 0 { ratioPrinted = true }
            md.append("| \(plan.name) | \(plan.daily.formatted()) | \(zs.formatted()) | \(bs.formatted()) | \(r1) | \(zm.formatted()) | \(bm.formatted()) | \(r2) |")
        }
        md.append("")

        // Limiter rate.
        if let r = rated {
            md.append("## Limiter rate: a backfill at a clock scale the machine can follow")
            md.append("")
            md.append("\(i(r, "orders_read") ?? 0) seeded orders, limiter and sandbox at \(i(r, "rpm") ?? 0) calls per rolling minute, clock ×"
                + "\(fmt(d(r, "scale") ?? 0, 0)): each call has \(fmt(60_000 / Double(max(1, i(r, "rpm") ?? 1)) / max(1, d(r, "scale") ?? 1), 0)) wall ms "
                + "of budget, well above what one call costs here (HTTP to the Python sandbox, SQLite commits), so what is measured is the limiter, "
                + "not the machine: a check of the limiter alone, beside the 5,000-order backfill below.")
            md.append("")
            md.append("| figure | value |")
            md.append("|---|---:|")
            md.append("| Zoho calls | \(i(r, "zoho_calls") ?? 0) |")
            md.append("| pushing, sandbox minutes | \(fmt(d(r, "push_minutes") ?? 0)) |")
            md.append("| Zoho calls per minute while pushing | \(fmt(d(r, "calls_per_minute") ?? 0, 2)) |")
            md.append("| utilisation of the limit | \(fmt(d(r, "utilisation_pct") ?? 0))% |")
            md.append("| busiest 60-second window | \(i(r, "busiest_window") ?? 0) calls |")
            md.append("| 429 answers | \(i(r, "throttled") ?? 0) |")
            md.append("")
        }

        // Backfill.
        md.append("## Backfill of 5,000 orders at 100 calls per minute")
        md.append("")
        if let b = backfill {
            let scale = d(b, "scale") ?? 0
            md.append("A seeded store of 5,000 orders (`--orders 5000`), `zbsync backfill` over its 31 days, limiter and sandbox at "
                + "\(i(b, "rpm") ?? 0) calls per rolling minute. **The clock is scaled**: the sandbox runs with `--time-scale "
                + "\(fmt(scale, 0))` and zbsync with a clock \(fmt(scale, 0))× faster than wall time, so the "
                + "\(fmt(d(b, "push_minutes") ?? 0)) minutes of pushing took \(fmt(d(b, "wall_seconds") ?? 0)) wall seconds "
                + "(reading included). All times below are sandbox (scaled) minutes, as they would be at 1×; the busiest window "
                + "is measured by the sandbox's clock on arrival.")
            md.append("")
            md.append("| figure | value |")
            md.append("|---|---:|")
            md.append("| orders read (refunds) | \(i(b, "orders_read") ?? 0) (\(i(b, "refunds_read") ?? 0)) |")
            md.append("| invoices created | \(i(b, "invoices_created") ?? 0) |")
            md.append("| operations done / failed / quarantined | \(i(b, "operations_done") ?? 0) / \(i(b, "operations_failed") ?? 0) / \(i(b, "quarantined") ?? 0) |")
            md.append("| Zoho calls (per order read) | \(i(b, "zoho_calls") ?? 0) (\(fmt(d(b, "calls_per_order") ?? 0, 2))) |")
            md.append("| BigCommerce calls, reading (sandbox minutes) | \(i(b, "bc_calls") ?? 0) (\(fmt(d(b, "read_minutes") ?? 0))) |")
            md.append("| pushing, sandbox minutes | \(fmt(d(b, "push_minutes") ?? 0)) |")
            md.append("| Zoho calls per minute while pushing | \(fmt(d(b, "calls_per_minute") ?? 0, 2)) |")
            md.append("| utilisation of the \(i(b, "rpm") ?? 0)/min limit (of the limiter's sustained \(fmt(d(b, "limiter_sustained_per_minute") ?? 0, 0))/min) | \(fmt(d(b, "utilisation_pct") ?? 0))% (\(fmt(d(b, "utilisation_of_sustained_pct") ?? 0))%) |")
            md.append("| orders per minute (invoices per minute) | \(fmt(d(b, "orders_per_minute") ?? 0, 1)) (\(fmt(d(b, "invoices_per_minute") ?? 0, 1))) |")
            md.append("| busiest 60-second window | \(i(b, "busiest_window") ?? 0) calls |")
            md.append("| 429 answers (44 / 45 / 1070) | \(i(b, "throttled") ?? 0)\((b["throttled_codes"]?.string).flatMap { $0.isEmpty ? nil : " (" + $0 + ")" } ?? "") |")
            md.append("| token requests | \(i(b, "token_requests") ?? 0) |")
            if let stop = b["stop"]?.string, !stop.isEmpty { md.append("| push stopped | \(stop) |") }
        } else {
            md.append("Not run (no result).")
        }
        md.append("")

        // Planning.
        md.append("## Planning only (no network, no database)")
        md.append("")
        md.append("Orders generated in memory (deterministic: registered customers and guests, 1–4 lines from 500 SKUs, "
            + "US orders tax-exclusive with taxed shipping, EUR/GBP tax-inclusive, coupons, payments), planned with "
            + "`Planner.plan` in batches of \(i(plans.last ?? nil, "batch_size") ?? 250) against an empty mapping table, as a "
            + "first import plans each page. Each size runs in its own process; the time is `Planner.mappingKeys` + "
            + "`Planner.plan` only (generating the orders is timed apart), peak RSS is the process's `ru_maxrss`. `Planner.plan` "
            + "prepares the orders of a batch on every core (mapping, payloads and fingerprints), then adds their operations "
            + "in order, so the figures below are wall time on all cores.")
        md.append("")
        md.append("| orders | planning time | per order | peak RSS | operations planned | problems | generating the orders |")
        md.append("|---:|---:|---:|---:|---:|---:|---:|")
        for (size, p) in zip(planSizes, plans) {
            guard let p else { md.append("| \(size.formatted()) | not run | | | | | |"); continue }
            let t = d(p, "plan_seconds") ?? 0
            md.append("| \(size.formatted()) | \(fmt(t, 3)) s | \(fmt(t / Double(size) * 1e6, 1)) µs | \(mb(i(p, "peak_rss_bytes"))) | "
                + "\(i(p, "operations") ?? 0) | \(i(p, "problems") ?? 0) | \(fmt(d(p, "generate_seconds") ?? 0, 3)) s |")
        }
        let t10 = d(plans[1], "plan_seconds"), t100 = d(plans[2], "plan_seconds")
        let r10 = i(plans[1], "peak_rss_bytes"), r100 = i(plans[2], "peak_rss_bytes")
        if let t10, let t100, let r10, let r100 {
            md.append("")
            md.append("Growth from 10,000 to 100,000 orders (10×): time ×\(fmt(t100 / max(t10, 1e-9), 2)), "
                + "peak RSS ×\(fmt(Double(r100) / Double(r10), 2)).")
        }
        md.append("")

        // Webhook.
        md.append("## Webhook intake")
        md.append("")
        if let w = webhook {
            md.append("The release `zbsync webhook` run as a CGI program per delivery (a new process each time, as a web server "
                + "runs it), with signed Standard Webhooks deliveries into a home made with `zbsync init` and "
                + "`zbsync auth bigcommerce`; `webhooks.process = queue` (the default). Time to `200` is from starting the process to "
                + "the `Status: 200` line, which zbsync writes only after the inbox row is committed.")
            md.append("")
            md.append("| figure | value |")
            md.append("|---|---:|")
            md.append("| deliveries | \(i(w, "deliveries") ?? 0) one at a time, then \(i(w, "deliveries") ?? 0) with \(i(w, "concurrency") ?? 0) at a time |")
            md.append("| deliveries per second, one at a time | \(fmt(d(w, "sequential_per_second") ?? 0)) |")
            md.append("| time to 200: p50 / p99 / max | \(fmt(d(w, "sequential_p50_ms") ?? 0)) / \(fmt(d(w, "sequential_p99_ms") ?? 0)) / \(fmt(d(w, "sequential_max_ms") ?? 0)) ms |")
            md.append("| deliveries per second, \(i(w, "concurrency") ?? 0) at a time (p99) | \(fmt(d(w, "parallel_per_second") ?? 0)) (\(fmt(d(w, "parallel_p99_ms") ?? 0)) ms) |")
            md.append("| answers other than 200 | \(i(w, "non_200") ?? 0) |")
            md.append("| deliveries in the inbox afterwards | \(i(w, "stored") ?? 0) |")
        } else {
            md.append("Not run (no result).")
        }
        md.append("")

        // Acceptance.
        let known = row("known_customer_known_items")?["zbsync"]?["total"]?.int
        checks.append(("Known customer and items, paid order: ≤ 3 Zoho calls", known.map { "\($0) calls" } ?? "not measured", known.map { $0 <= 3 }))
        let idle = row("no_change")?["zbsync"]
        let idleW = idle?["writes"]?.int, idleR = idle?["reads"]?.int
        checks.append(("Second run with no changes: 0 writes, ≤ 1 read",
                       idle != nil ? "\(idleW ?? -1) writes, \(idleR ?? -1) reads" : "not measured",
                       idle != nil ? (idleW == 0 && (idleR ?? 99) <= 1) : nil))
        let util = d(backfill, "utilisation_pct"), busiest = i(backfill, "busiest_window"), thr = i(backfill, "throttled"), rpm = i(backfill, "rpm")
        let stop = backfill?["stop"]?.string ?? ""
        checks.append(("Backfill of 5,000 orders: every order handled in one run",
                       backfill == nil ? "not measured" : (stop.isEmpty ? "\(i(backfill, "operations_done") ?? 0) operations, 0 failed" : "stopped: \(stop)"),
                       backfill.map { _ in stop.isEmpty && (i(backfill, "operations_failed") ?? 1) == 0 }))
        checks.append(("Backfill: utilisation ≥ 95% of the limit",
                       util.map { fmt($0) + "% (" + fmt(d(backfill, "calls_per_minute") ?? 0, 2) + " calls/min)" } ?? "not measured",
                       util.map { $0 >= 95 }))
        if let rated {
            let u = d(rated, "utilisation_pct")
            checks.append(("Limiter-rate run (\(i(rated, "orders_read") ?? 0) orders, clock ×\(fmt(d(rated, "scale") ?? 0, 0))): utilisation ≥ 95%",
                           u.map { fmt($0) + "% (busiest 60 s: \(i(rated, "busiest_window") ?? 0))" } ?? "not measured", u.map { $0 >= 95 }))
        }
        checks.append(("Backfill: 0 self-caused 429s", thr.map { "\($0)" } ?? "not measured", thr.map { $0 == 0 }))
        checks.append(("Backfill: no 60-second window above the limit", busiest.map { "busiest \($0) (limit \(rpm ?? 0))" } ?? "not measured",
                       busiest.map { $0 <= (rpm ?? 0) }))
        checks.append(("Planning 100,000 orders: < 2 s", t100.map { fmt($0, 3) + " s" } ?? "not measured", t100.map { $0 < 2 }))
        checks.append(("Planning 100,000 orders: peak RSS < 150 MB", mb(r100), r100.map { $0 < 150_000_000 }))
        checks.append(("Peak RSS at 100,000 within 1.5× of 10,000", (r10 != nil && r100 != nil) ? "\(mb(r100)) vs \(mb(r10)) (×\(fmt(Double(r100!) / Double(r10!), 2)))" : "not measured",
                       (r10 != nil && r100 != nil) ? Double(r100!) <= 1.5 * Double(r10!) : nil))
        checks.append(("Baseline ratio printed by the same run", ratioPrinted ? "yes (tables above)" : "baseline missing", ratioPrinted))

        var acceptance: [String] = ["## Acceptance", "", "| target | measured | result |", "|---|---|---|"]
        for c in checks { acceptance.append("| \(c.0) | \(c.1) | \(c.2.map { $0 ? "pass" : "**FAIL**" } ?? "**not run**") |") }
        acceptance.append("")
        // Acceptance goes right after the machine section.
        let insertAt = (md.firstIndex(of: "## Zoho calls per order") ?? md.count)
        md.insert(contentsOf: acceptance, at: insertAt)

        md.append("## Method notes")
        md.append("")
        md.append("- The sandbox is one Python process on loopback; it enforces Zoho's limits (100 calls per rolling minute, "
            + "daily quota, 10 in flight) and records every request with its sandbox time. The calls-per-order and webhook "
            + "scenarios run at 1× with the per-minute limit raised so nothing waits; only counts matter there.")
        md.append("- Calls per order run each scenario as a new `sync` process would: new clients and store objects on the "
            + "same home, the Zoho session and organization read from the state database.")
        md.append("- Why two backfills: with the clock scaled ×N, every wall millisecond a call costs counts N times in sandbox time. The 5,000-order "
            + "run uses a high scale to finish in minutes, so its calls per minute measure this machine's per-call cost, not the limiter; "
            + "the limiter-rate run uses a scale at which the limiter, not the machine, sets the pace.")
        md.append("- The backfill's state database is on tmpfs (`/dev/shm` when present): with the clock scaled, a disk "
            + "flush would otherwise cost the scaled run far more sandbox time than it costs at 1×.")
        md.append("- In the backfill, BigCommerce's own quota is raised (`--bc-quota 1000000`): the sandbox announces its reset time in wall milliseconds while the client waits through the scaled clock, so under scaling the client would retry too early. The Zoho side is not changed: the limiter and the sandbox both allow 100 calls per rolling minute.")
        md.append("- The baseline reuses zbsync's mapping and resolves the organization, taxes and a refund account once "
            + "(not counted per order), which favours it.")
        md.append("")

        let text = md.joined(separator: "\n")
        try text.write(toFile: out, atomically: true, encoding: .utf8)
        print(text)
        if checks.contains(where: { $0.2 != true }) { FileHandle.standardError.write(Data("bench: some acceptance targets are not met (see above)\n".utf8)) }
    }
}
