import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

// End-to-end harness: the built `zbsync` binary against the local sandbox of both APIs
// (`sandbox/zbsandbox.py`), exactly as a user would point it there (see `scripts/demo.sh`).
//
// Every test gets its own sandbox process (its own port, state folder and seeded store) and its own home
// folder, and stops both at the end, bounded in time. The suites are nested in one serialized suite so that
// a 2-core machine runs one sandbox and one zbsync at a time.

/// All end-to-end suites against the sandbox, one test at a time.
@Suite(.serialized) struct SandboxEndToEnd {}

/// The values the sandbox accepts (its defaults; `sandbox/README.md`).
enum SandboxSecrets {
    static let storeHash = "sbx1a2b3c"
    static let bigCommerceToken = "bc-sandbox-token"
    static let zohoClientID = "zoho-sandbox-client"
    static let zohoClientSecret = "zoho-sandbox-secret"
    static let zohoRefreshToken = "zoho-sandbox-refresh"
    static let zohoGrantCode = "zoho-sandbox-code"
    /// Every credential the tests hand out; none may ever be printed.
    static let all = [bigCommerceToken, zohoClientSecret, zohoRefreshToken, zohoGrantCode]
}

enum SandboxHarnessError: Error, CustomStringConvertible {
    case sandbox(String)
    case http(String)
    var description: String {
        switch self {
        case .sandbox(let m): return "sandbox: \(m)"
        case .http(let m): return "http: \(m)"
        }
    }
}

// MARK: - Running the binary

/// One finished run of `zbsync`.
struct SandboxRun: CustomStringConvertible {
    var arguments: [String]
    var exitCode: Int32
    /// True when the process ended by a signal (`exitCode` is then the signal number).
    var signaled: Bool
    var timedOut: Bool
    var stdout: String
    var stderr: String
    var seconds: Double

    /// The final failure lines (`zbsync: …`) on stderr, as opposed to log lines.
    var failureLines: [String] { stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("zbsync: ") } }
    var output: String { stdout + stderr }

    var description: String {
        let how = timedOut ? "TIMED OUT, killed" : signaled ? "killed by signal \(exitCode)" : "exit \(exitCode)"
        func tail(_ s: String) -> String {
            let lines = s.split(separator: "\n", omittingEmptySubsequences: false)
            return lines.count > 40 ? "… (\(lines.count - 40) lines before)\n" + lines.suffix(40).joined(separator: "\n") : s
        }
        return "zbsync \(arguments.joined(separator: " ")): \(how) after \(String(format: "%.2f", seconds)) s\n--- stdout\n\(tail(stdout))\n--- stderr\n\(tail(stderr))"
    }
}

/// A `zbsync` child process that may still be running. Output goes to files (never pipes), so a chatty
/// child can never block.
final class ZBSyncChild: @unchecked Sendable {
    let arguments: [String]
    let process = Process()
    let started = Date()
    private let outURL: URL
    private let errURL: URL
    private let out: FileHandle
    private let err: FileHandle

    init(arguments: [String], environment: [String: String], scratch: Scratch) throws {
        self.arguments = arguments
        process.executableURL = ZBSync.binary
        process.arguments = arguments
        process.environment = ZBSync.baseEnvironment(userHome: scratch.userHome).merging(environment) { _, new in new }
        process.currentDirectoryURL = scratch.root
        let id = UUID().uuidString
        outURL = scratch.root.appendingPathComponent("out-\(id)")
        errURL = scratch.root.appendingPathComponent("err-\(id)")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        out = try FileHandle(forWritingTo: outURL)
        err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    /// Waits at most `timeout` seconds; a child still running then is killed (SIGKILL) and reported as timed out.
    func wait(timeout: TimeInterval) -> SandboxRun {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(5_000) }
        var timedOut = false
        if process.isRunning {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(started)
        try? out.close()
        try? err.close()
        let stdout = String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self)
        let stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
        return SandboxRun(arguments: arguments, exitCode: process.terminationStatus,
                          signaled: process.terminationReason == .uncaughtSignal, timedOut: timedOut,
                          stdout: stdout, stderr: stderr, seconds: seconds)
    }
}

// MARK: - The sandbox process

/// How a test's sandbox is started (`python3 sandbox/zbsandbox.py --port 0 …`).
struct SandboxOptions {
    var seed = 7
    var orders = 40
    var zohoRPM = 6000
    var zohoDaily = 100_000
    /// BigCommerce requests per window. Raised so BigCommerce's pauses don't dominate a run's time: these
    /// tests are about what reaches Zoho.
    var bcQuota = 100_000
    var zohoOrgs = 1
    var ttl = 600
    var extra: [String] = []

    var arguments: [String] {
        ["--seed", "\(seed)", "--orders", "\(orders)", "--zoho-rpm", "\(zohoRPM)", "--zoho-daily", "\(zohoDaily)",
         "--bc-quota", "\(bcQuota)", "--zoho-orgs", "\(zohoOrgs)", "--ttl", "\(ttl)"] + extra
    }
}

/// One running sandbox: start, control endpoints, bounded stop.
final class SandboxServer: @unchecked Sendable {
    /// The package root (…/Tests/CLITests/SandboxHarness.swift → …).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = packageRoot.appendingPathComponent("sandbox/zbsandbox.py")

    let stateDir: URL
    let process = Process()
    private(set) var port = 0
    private let session: URLSession
    private var stopped = false

    init(options: SandboxOptions, stateDir: URL) throws {
        self.stateDir = stateDir
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        session = URLSession(configuration: configuration)
        let fm = FileManager.default
        try fm.createDirectory(at: stateDir, withIntermediateDirectories: true)
        let portFile = stateDir.appendingPathComponent("port")
        let logURL = stateDir.appendingPathComponent("sandbox.out")
        fm.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script.path, "--port", "0", "--port-file", portFile.path,
                             "--state-dir", stateDir.path] + options.arguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let text = try? String(contentsOf: portFile, encoding: .utf8),
               let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), value > 0 {
                port = value
                return
            }
            if !process.isRunning { break }
            usleep(20_000)
        }
        let output = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        stop()
        throw SandboxHarnessError.sandbox("did not start within 30 s: \(output)")
    }

    deinit { stop() }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Stops the sandbox: `POST /_sandbox/shutdown`, then SIGTERM, then SIGKILL; at most about 8 s.
    func stop() {
        if stopped { return }
        stopped = true
        if process.isRunning, port > 0 {
            _ = try? request("POST", "/_sandbox/shutdown", json: [:], timeout: 3)
        }
        func waitExit(_ seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            return !process.isRunning
        }
        if !waitExit(4) {
            process.terminate()
            if !waitExit(2) { kill(process.processIdentifier, SIGKILL); _ = waitExit(2) }
        }
        session.invalidateAndCancel()
    }

    // MARK: HTTP

    private final class Reply: @unchecked Sendable {
        var status = 0
        var data = Data()
        var error: Error?
    }

    /// One HTTP request to the sandbox; returns the status and the body.
    @discardableResult
    func request(_ method: String, _ path: String, json: Any? = nil, headers: [String: String] = [:],
                 timeout: TimeInterval = 60) throws -> (status: Int, data: Data) {
        guard let url = URL(string: baseURL + path) else { throw SandboxHarnessError.http("bad path \(path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = timeout
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let reply = Reply()
        let done = DispatchSemaphore(value: 0)
        session.dataTask(with: request) { data, response, error in
            reply.data = data ?? Data()
            reply.status = (response as? HTTPURLResponse)?.statusCode ?? 0
            reply.error = error
            done.signal()
        }.resume()
        if done.wait(timeout: .now() + timeout + 5) == .timedOut {
            throw SandboxHarnessError.http("\(method) \(path): no reply within \(Int(timeout)) s")
        }
        if let error = reply.error { throw SandboxHarnessError.http("\(method) \(path): \(error)") }
        return (reply.status, reply.data)
    }

    /// A control or API call whose reply must be 2xx JSON.
    func json(_ method: String, _ path: String, body: Any? = nil, headers: [String: String] = [:]) throws -> Any {
        let (status, data) = try request(method, path, json: body, headers: headers)
        guard (200..<300).contains(status) else {
            throw SandboxHarnessError.http("\(method) \(path) → \(status): \(String(decoding: data.prefix(500), as: UTF8.self))")
        }
        if data.isEmpty { return [String: Any]() }
        return try JSONSerialization.jsonObject(with: data)
    }

    func object(_ method: String, _ path: String, body: Any? = nil) throws -> [String: Any] {
        guard let object = try json(method, path, body: body) as? [String: Any] else {
            throw SandboxHarnessError.http("\(method) \(path): not a JSON object")
        }
        return object
    }

    // MARK: Control endpoints

    /// `GET /_sandbox/state`.
    func state() throws -> [String: Any] { try object("GET", "/_sandbox/state") }

    /// The request log after sequence number `since` (every API; control calls are never logged).
    func requests(since: Int) throws -> RequestLog {
        let body = try object("GET", "/_sandbox/requests?since=\(since)")
        let rows = (body["requests"] as? [[String: Any]] ?? []).map(LoggedRequest.init)
        return RequestLog(entries: rows, lastSeq: body["last_seq"] as? Int ?? 0)
    }

    /// The current last sequence number of the request log.
    func lastSeq() throws -> Int { try requests(since: Int.max / 2).lastSeq }

    /// Moves the sandbox clock forward.
    func advanceClock(seconds: Double) throws { _ = try object("POST", "/_sandbox/clock", body: ["advance": seconds]) }

    /// Adds fault rules.
    func addFaults(_ rules: [[String: Any]]) throws { _ = try object("POST", "/_sandbox/faults", body: ["rules": rules]) }
    func faults() throws -> [[String: Any]] { try object("GET", "/_sandbox/faults")["rules"] as? [[String: Any]] ?? [] }
    func clearFaults() throws { _ = try json("DELETE", "/_sandbox/faults") }

    /// Revokes the sandbox's refresh token (later refreshes answer `invalid_code`).
    func revokeRefreshToken() throws { _ = try object("POST", "/_sandbox/zoho/revoke", body: [String: Any]()) }

    // MARK: BigCommerce, read through its API (as zbsync reads it)

    private var bcHeaders: [String: String] { ["X-Auth-Token": SandboxSecrets.bigCommerceToken, "Accept": "application/json"] }

    /// Every order of the store, through `GET /v2/orders` (204 ends the pages).
    func bigCommerceOrders() throws -> [BCOrderSummary] {
        var all: [BCOrderSummary] = []
        for page in 1...1000 {
            let (status, data) = try request("GET", "/stores/\(SandboxSecrets.storeHash)/v2/orders?limit=250&page=\(page)&sort=id:asc", headers: bcHeaders)
            if status == 204 || data.isEmpty { break }
            guard status == 200, let rows = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
                throw SandboxHarnessError.http("GET /v2/orders page \(page) → \(status)")
            }
            all += rows.map(BCOrderSummary.init)
            if rows.count < 250 { break }
        }
        return all
    }

    /// Every refund of the store, through `GET /v3/orders/payment_actions/refunds`.
    func bigCommerceRefunds() throws -> [(id: Int, orderID: Int, totalCents: Int)] {
        var all: [(id: Int, orderID: Int, totalCents: Int)] = []
        for page in 1...1000 {
            let (status, data) = try request("GET", "/stores/\(SandboxSecrets.storeHash)/v3/orders/payment_actions/refunds?limit=250&page=\(page)", headers: bcHeaders)
            if status == 204 || data.isEmpty { break }
            guard status == 200, let body = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw SandboxHarnessError.http("GET /v3/…/refunds page \(page) → \(status)")
            }
            let rows = body["data"] as? [[String: Any]] ?? []
            for r in rows {
                all.append((id: intValue(r["id"]) ?? -1, orderID: intValue(r["order_id"]) ?? -1, totalCents: cents(r["total_amount"]) ?? Int.min))
            }
            let pages = ((body["meta"] as? [String: Any])?["pagination"] as? [String: Any])?["total_pages"] as? Int ?? 1
            if page >= pages || rows.isEmpty { break }
        }
        return all
    }
}

// MARK: - Request log

struct LoggedRequest: CustomStringConvertible {
    var seq: Int
    var api: String
    var method: String
    var path: String
    var query: String
    var status: Int
    var code: String

    init(_ row: [String: Any]) {
        seq = row["seq"] as? Int ?? 0
        api = row["api"] as? String ?? ""
        method = row["method"] as? String ?? ""
        path = row["path"] as? String ?? ""
        query = row["query"] as? String ?? ""
        status = row["status"] as? Int ?? 0
        code = row["code"].map { "\($0)" } ?? ""
    }

    /// A Zoho Books API call (not the accounts server).
    var isZohoBooks: Bool { api == "zoho" && path.hasPrefix("/books/v3") }
    var isWrite: Bool { ["POST", "PUT", "DELETE", "PATCH"].contains(method) }
    var description: String { "#\(seq) \(api) \(method) \(path)\(query.isEmpty ? "" : "?" + query) → \(status)\(code.isEmpty || code == "<null>" ? "" : " code \(code)")" }
}

struct RequestLog {
    var entries: [LoggedRequest]
    var lastSeq: Int

    var zohoCalls: [LoggedRequest] { entries.filter(\.isZohoBooks) }
    var zohoWrites: [LoggedRequest] { zohoCalls.filter(\.isWrite) }
    var accountsCalls: [LoggedRequest] { entries.filter { $0.api == "accounts" } }
    var bigCommerceCalls: [LoggedRequest] { entries.filter { $0.api == "bc" } }

    /// "12 POST /books/v3/invoices, 3 GET …" (ids folded), for failure messages and figures.
    static func histogram(_ rows: [LoggedRequest]) -> String {
        var counts: [String: Int] = [:]
        for r in rows {
            let path = r.path.split(separator: "/").map { $0.allSatisfy(\.isNumber) ? "{id}" : String($0) }.joined(separator: "/")
            counts["\(r.method) /\(path) → \(r.status)", default: 0] += 1
        }
        return counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            .map { "\($0.value) × \($0.key)" }.joined(separator: "\n")
    }
}

// MARK: - Money and JSON values

/// A JSON number or numeric string as whole cents, rounded half-up (money in both APIs has ≤ 4 decimals).
func cents(_ value: Any?) -> Int? {
    let text: String
    switch value {
    case let s as String: text = s
    case let n as NSNumber: text = "\(n)"
    case let d as Double: text = "\(d)"
    case let i as Int: text = "\(i)"
    default: return nil
    }
    guard var decimal = Decimal(string: text.trimmingCharacters(in: .whitespaces)) else { return nil }
    decimal *= 100
    var rounded = Decimal()
    NSDecimalRound(&rounded, &decimal, 0, .plain)
    return NSDecimalNumber(decimal: rounded).intValue
}

func intValue(_ value: Any?) -> Int? {
    switch value {
    case let i as Int: return i
    case let n as NSNumber: return n.intValue
    case let s as String: return Int(s)
    default: return nil
    }
}

func formatCents(_ c: Int?) -> String {
    // Int.min stands for an amount that could not be read.
    guard let c, c != Int.min else { return c == nil ? "nil" : "unreadable" }
    return String(format: "%@%d.%02d", c < 0 ? "-" : "", abs(c) / 100, abs(c) % 100)
}

// MARK: - BigCommerce and Zoho views

struct BCOrderSummary {
    var id: Int
    var statusID: Int
    var isDeleted: Bool
    var totalCents: Int
    var customerID: Int
    var currency: String
    var inclusive: Bool
    var email: String
    var billing: [String: Any]

    init(_ row: [String: Any]) {
        id = intValue(row["id"]) ?? -1
        statusID = intValue(row["status_id"]) ?? -1
        isDeleted = row["is_deleted"] as? Bool ?? false
        totalCents = cents(row["total_inc_tax"]) ?? Int.min
        customerID = intValue(row["customer_id"]) ?? 0
        currency = row["currency_code"] as? String ?? ""
        inclusive = row["is_tax_inclusive_pricing"] as? Bool ?? false
        billing = row["billing_address"] as? [String: Any] ?? [:]
        email = (billing["email"] as? String ?? "").lowercased()
    }

    /// Statuses 0 Incomplete, 1 Pending and 6 Declined are never invoiced; 5 Cancelled (and archived
    /// orders) are voided if invoiced, else skipped (DESIGN.md §4).
    var isNotASale: Bool { [0, 1, 6].contains(statusID) }
    var isCancelled: Bool { statusID == 5 || isDeleted }
    var isInvoiceable: Bool { !isNotASale && !isCancelled }
}

/// The Zoho side of `GET /_sandbox/state` (the first organization unless told).
struct ZohoBooksSnapshot {
    var invoices: [[String: Any]]
    var creditNotes: [[String: Any]]
    var payments: [[String: Any]]
    var contacts: [[String: Any]]
    var items: [[String: Any]]

    init(state: [String: Any], organizationID: String? = nil) {
        let orgs = (state["zoho"] as? [String: Any])?["organizations"] as? [String: Any] ?? [:]
        let key = organizationID ?? orgs.keys.sorted().first ?? ""
        let org = orgs[key] as? [String: Any] ?? [:]
        invoices = org["invoices"] as? [[String: Any]] ?? []
        creditNotes = org["creditnotes"] as? [[String: Any]] ?? []
        payments = org["payments"] as? [[String: Any]] ?? []
        contacts = org["contacts"] as? [[String: Any]] ?? []
        items = org["items"] as? [[String: Any]] ?? []
    }

    /// Keys that occur more than once, with their counts.
    static func duplicates(_ keys: [String]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for k in keys where !k.isEmpty { counts[k, default: 0] += 1 }
        return counts.filter { $0.value > 1 }
    }

    var duplicateInvoiceNumbers: [String: Int] { Self.duplicates(invoices.map { ($0["invoice_number"] as? String ?? "").uppercased() }) }
    var duplicateCreditNoteNumbers: [String: Int] { Self.duplicates(creditNotes.map { ($0["creditnote_number"] as? String ?? "").uppercased() }) }
    var duplicatePaymentReferences: [String: Int] { Self.duplicates(payments.map { ($0["reference_number"] as? String ?? "").lowercased() }) }
    var duplicateItemSKUs: [String: Int] { Self.duplicates(items.map { ($0["sku"] as? String ?? "").uppercased() }) }
    /// Contacts by (primary email, currency): one shopper has one contact per currency.
    var duplicateContacts: [String: Int] {
        Self.duplicates(contacts.map { c in
            let email = (c["email"] as? String ?? "").lowercased()
            return email.isEmpty ? "" : "\(email)|\(c["currency_code"] as? String ?? "")"
        })
    }

    func invoice(number: String) -> [String: Any]? {
        invoices.first { ($0["invoice_number"] as? String ?? "").caseInsensitiveCompare(number) == .orderedSame }
    }
}

/// The invariants that hold after any sequence of runs has converged (DESIGN.md §4, §5, §9): exactly one
/// Zoho document per BigCommerce entity, every sale invoiced, totals equal to the cent.
struct ConvergenceReport: CustomStringConvertible {
    var problems: [String] = []
    var invoiceable = 0
    /// Invoices compared with their order, and how many totals were equal to the cent.
    var totalsCompared = 0
    var totalsEqual = 0
    var invoices = 0
    var creditNotes = 0
    var payments = 0
    var contacts = 0
    var items = 0

    var description: String {
        let head = "\(invoiceable) invoiceable orders, \(totalsEqual) of \(totalsCompared) invoice totals equal to the cent; Zoho: \(invoices) invoices, \(creditNotes) credit notes, \(payments) payments, \(contacts) contacts, \(items) items"
        if problems.isEmpty { return head + "; no problems" }
        let shown = problems.prefix(40).joined(separator: "\n  ")
        return head + "\n\(problems.count) problems:\n  " + shown + (problems.count > 40 ? "\n  …" : "")
    }

    static func check(_ sandbox: SandboxServer, prefix: String = "BC-", creditPrefix: String = "BCR-") throws -> ConvergenceReport {
        let orders = try sandbox.bigCommerceOrders()
        let refunds = try sandbox.bigCommerceRefunds()
        let zoho = ZohoBooksSnapshot(state: try sandbox.state())
        var report = ConvergenceReport()
        report.invoices = zoho.invoices.count
        report.creditNotes = zoho.creditNotes.count
        report.payments = zoho.payments.count
        report.contacts = zoho.contacts.count
        report.items = zoho.items.count
        func problem(_ s: String) { report.problems.append(s) }

        for (k, n) in zoho.duplicateInvoiceNumbers.sorted(by: { $0.key < $1.key }) { problem("invoice number \(k) × \(n)") }
        for (k, n) in zoho.duplicateCreditNoteNumbers.sorted(by: { $0.key < $1.key }) { problem("credit-note number \(k) × \(n)") }
        for (k, n) in zoho.duplicatePaymentReferences.sorted(by: { $0.key < $1.key }) { problem("payment reference \(k) × \(n)") }
        for (k, n) in zoho.duplicateContacts.sorted(by: { $0.key < $1.key }) { problem("contact (email|currency) \(k) × \(n)") }
        for (k, n) in zoho.duplicateItemSKUs.sorted(by: { $0.key < $1.key }) { problem("item SKU \(k) × \(n)") }

        var byNumber: [String: [String: Any]] = [:]
        for inv in zoho.invoices { byNumber[(inv["invoice_number"] as? String ?? "").uppercased()] = inv }
        let orderIDs = Set(orders.map(\.id))
        for inv in zoho.invoices {
            let number = inv["invoice_number"] as? String ?? ""
            guard number.uppercased().hasPrefix(prefix.uppercased()), let id = Int(number.dropFirst(prefix.count)), orderIDs.contains(id) else {
                problem("invoice \(number) matches no BigCommerce order")
                continue
            }
        }
        for order in orders {
            let inv = byNumber["\(prefix)\(order.id)".uppercased()]
            if order.isInvoiceable {
                report.invoiceable += 1
                guard let inv else { problem("order \(order.id) (status \(order.statusID), \(formatCents(order.totalCents)) \(order.currency)) has no invoice"); continue }
                let status = inv["status"] as? String ?? ""
                if status == "void" || status == "draft" { problem("invoice \(prefix)\(order.id) is \(status)") }
                let total = cents(inv["total"])
                report.totalsCompared += 1
                if total == order.totalCents { report.totalsEqual += 1 }
                if total != order.totalCents {
                    problem("invoice \(prefix)\(order.id) total \(formatCents(total)) ≠ order total_inc_tax \(formatCents(order.totalCents)) \(order.currency)")
                }
                if let currency = inv["currency_code"] as? String, currency != order.currency {
                    problem("invoice \(prefix)\(order.id) currency \(currency) ≠ order currency \(order.currency)")
                }
            } else if let inv {
                problem("order \(order.id) with status \(order.statusID)\(order.isDeleted ? " (archived)" : "") was never a sale to invoice, yet has invoice \(inv["invoice_number"] ?? "?") (\(inv["status"] ?? "?"))")
            }
        }
        var notes: [String: [String: Any]] = [:]
        for cn in zoho.creditNotes { notes[(cn["creditnote_number"] as? String ?? "").uppercased()] = cn }
        for refund in refunds {
            guard let order = orders.first(where: { $0.id == refund.orderID }), order.isInvoiceable else { continue }
            guard let cn = notes["\(creditPrefix)\(refund.id)".uppercased()] else {
                problem("refund \(refund.id) of order \(refund.orderID) has no credit note"); continue
            }
            if cents(cn["total"]) != refund.totalCents {
                problem("credit note \(creditPrefix)\(refund.id) total \(formatCents(cents(cn["total"]))) ≠ refund total_amount \(formatCents(refund.totalCents))")
            }
        }
        return report
    }
}

// MARK: - A home folder wired to a sandbox

/// A sandbox, a temporary home folder configured for it (as `scripts/demo.sh` does) and helpers to run `zbsync`.
final class SandboxWorld: @unchecked Sendable {
    let scratch: Scratch
    let sandbox: SandboxServer
    let options: SandboxOptions
    var home: URL { scratch.home }

    /// Starts the sandbox, runs `zbsync init`, appends the sandbox config and, when asked, authorizes both
    /// systems (`auth bigcommerce`, `auth zoho --code`).
    init(_ options: SandboxOptions, config extra: String = "", authorize: Bool = true) throws {
        self.options = options
        scratch = try Scratch()
        sandbox = try SandboxServer(options: options, stateDir: scratch.root.appendingPathComponent("sandbox"))
        do {
            let initRun = try run(["init"])
            guard initRun.exitCode == 0, !initRun.signaled else { throw SandboxHarnessError.sandbox("init failed: \(initRun)") }
            try configure(extra: extra)
            if authorize {
                let bc = try authBigCommerce()
                guard bc.exitCode == 0 else { throw SandboxHarnessError.sandbox("auth bigcommerce failed: \(bc)") }
                let zoho = try authZoho(code: SandboxSecrets.zohoGrantCode)
                guard zoho.exitCode == 0 else { throw SandboxHarnessError.sandbox("auth zoho failed: \(zoho)") }
            }
        } catch {
            sandbox.stop()
            throw error
        }
    }

    /// Stops the sandbox (bounded); the scratch folder goes with the world.
    func close() { sandbox.stop() }

    deinit { sandbox.stop() }

    /// The config lines of `scripts/demo.sh`, with limits matching the sandbox's, and `sync.start` moved
    /// back before the seeded orders (they span the last 30 days).
    private func configure(extra: String) throws {
        let url = scratch.configURL
        var text = try String(contentsOf: url, encoding: .utf8)
        let start = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-31 * 86_400))
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let i = lines.firstIndex(where: { $0.hasPrefix("start = ") }) else { throw SandboxHarnessError.sandbox("no `start = ` line in \(url.path)") }
        lines[i] = "start = \(start)"
        text = lines.joined(separator: "\n")
        text += """

        # --- the local sandbox instead of the real services ---
        [bigcommerce]
        api_url = \(sandbox.baseURL)
        [zoho]
        accounts_url = \(sandbox.baseURL)
        allow_custom_api_domain = true
        requests_per_minute = \(options.zohoRPM)
        daily_limit = \(options.zohoDaily)
        [taxes]
        mode = create

        """
        text += extra
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    // MARK: Running zbsync

    /// Runs `zbsync arguments… --home HOME` to completion (killed after `timeout` seconds).
    func run(_ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 120) throws -> SandboxRun {
        try launch(arguments, environment: environment).wait(timeout: timeout)
    }

    /// Starts `zbsync arguments… --home HOME` and returns at once.
    func launch(_ arguments: [String], environment: [String: String] = [:]) throws -> ZBSyncChild {
        try ZBSyncChild(arguments: arguments + ["--home", home.path], environment: environment, scratch: scratch)
    }

    func authBigCommerce(token: String = SandboxSecrets.bigCommerceToken) throws -> SandboxRun {
        try run(["auth", "bigcommerce", "--store-hash", SandboxSecrets.storeHash], environment: ["ZBSYNC_BIGCOMMERCE_TOKEN": token])
    }

    /// `auth zoho` with the grant code (exchanged for a refresh token), or with a refresh token given directly.
    func authZoho(code: String? = nil, refreshToken: String? = nil) throws -> SandboxRun {
        var env = ["ZBSYNC_ZOHO_CLIENT_SECRET": SandboxSecrets.zohoClientSecret]
        var args = ["auth", "zoho", "--region", "us", "--client-id", SandboxSecrets.zohoClientID]
        if let code { args += ["--code", code] }
        if let refreshToken { env["ZBSYNC_ZOHO_REFRESH_TOKEN"] = refreshToken }
        return try run(args, environment: env)
    }

    /// `status --json`, parsed.
    func statusJSON() throws -> [String: Any] {
        let result = try run(["status", "--json"], timeout: 60)
        guard !result.signaled, !result.timedOut else { throw SandboxHarnessError.sandbox("status failed: \(result)") }
        let value = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        guard let object = value as? [String: Any] else { throw SandboxHarnessError.sandbox("status --json is not an object: \(result)") }
        return object
    }

    /// The cursors of `status --json` as comparable text (stream, timestamp, id; not the moving lag).
    func cursors() throws -> [String] {
        let list = try statusJSON()["cursors"] as? [[String: Any]] ?? []
        return list.map { "\($0["stream"] ?? "?")@\($0["timestamp"] ?? "?")#\($0["id"] ?? "?")" }.sorted()
    }

    /// Journal counts from `status --json` (pending, sending, unknown, done, failed, dead).
    func journalCounts() throws -> [String: Int] {
        let journal = try statusJSON()["journal"] as? [String: Any] ?? [:]
        return (journal["counts"] as? [String: Any] ?? [:]).compactMapValues(intValue)
    }

    /// Secrets that appear in a run's output: the sandbox credentials, any extra ones, the master key, and
    /// anything shaped like a Zoho access token.
    func leakedSecrets(in run: SandboxRun, extra: [String] = []) -> [String] {
        var secrets = SandboxSecrets.all + extra
        if let key = try? String(contentsOf: scratch.keyURL, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !key.isEmpty {
            secrets.append(key)
        }
        var leaked = secrets.filter { !$0.isEmpty && run.output.contains($0) }
        if let range = run.output.range(of: #"1000\.[0-9a-f]{32}"#, options: .regularExpression) {
            leaked.append("an access token (\(run.output[range].prefix(9))…)")
        }
        return leaked
    }
}
