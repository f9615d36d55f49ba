import Foundation
@testable import SyncEngine

/// A scripted ``HTTPTransport``: answers requests from a queue of replies (or a handler) and records every
/// request it receives. When the script runs out it throws ``TransportError/notSent(_:)`` naming the request,
/// so a test that makes an unexpected call fails loudly rather than hanging.
final class StubTransport: HTTPTransport, @unchecked Sendable {
    enum Step: Sendable {
        case reply(HTTPResponse)
        case fail(TransportError)
    }

    private let lock = NSLock()
    private var steps: [Step] = []
    private var handler: (@Sendable (HTTPRequest) throws -> HTTPResponse)?
    private var recorded: [HTTPRequest] = []

    init(_ steps: [Step] = []) { self.steps = steps }

    /// Answers every request with `handler` (after any queued steps are used up).
    init(handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) { self.handler = handler }

    // MARK: Scripting

    func enqueue(_ step: Step) { lock.withLock { steps.append(step) } }

    func enqueue(status: Int = 200, body: Data = Data(), headers: [String: String] = [:]) {
        enqueue(.reply(HTTPResponse(status: status, headers: headers, body: body)))
    }

    func enqueue(status: Int = 200, text: String, headers: [String: String] = [:]) {
        enqueue(status: status, body: Data(text.utf8), headers: headers)
    }

    /// Queues a fixture file as the reply body.
    func enqueue(status: Int = 200, fixture path: String, headers: [String: String] = [:]) throws {
        enqueue(status: status, body: try Fixture.data(path), headers: headers)
    }

    func enqueue(_ error: TransportError, times: Int = 1) {
        for _ in 0..<times { enqueue(.fail(error)) }
    }

    func enqueue(status: Int, times: Int, text: String = "") {
        for _ in 0..<times { enqueue(status: status, text: text) }
    }

    // MARK: Inspection

    var requests: [HTTPRequest] { lock.withLock { recorded } }
    var requestCount: Int { lock.withLock { recorded.count } }
    var remainingSteps: Int { lock.withLock { steps.count } }

    /// `path?query` of each request, the part tests usually compare.
    var requestTargets: [String] {
        requests.map { r in
            let c = URLComponents(url: r.url, resolvingAgainstBaseURL: false)
            return (c?.percentEncodedPath ?? "") + (c?.percentEncodedQuery.map { "?" + $0 } ?? "")
        }
    }

    // MARK: HTTPTransport

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let next: Step? = lock.withLock {
            recorded.append(request)
            return steps.isEmpty ? nil : steps.removeFirst()
        }
        switch next {
        case .reply(let r): return r
        case .fail(let e): throw e
        case nil:
            if let handler { return try handler(request) }
            throw TransportError.notSent("no scripted reply for \(request.redactedDescription)")
        }
    }
}
