import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real ``HTTPTransport``: one ephemeral `URLSession` (no cookies, no cache, no stored credentials).
///
/// Contract (the port's): every HTTP reply is returned whatever its status, with lower-cased header
/// names; only a missing reply throws ``TransportError``. No retries here. Requests go over https, or
/// plain http to a loopback host only (the local sandbox); anything else is refused before sending.
/// Redirects are not followed: a 3xx is returned as the reply, so a token header is never re-sent to
/// another host.
public final class URLSessionTransport: HTTPTransport, @unchecked Sendable {
    /// Reads: connections are kept alive.
    private let session: URLSession
    /// Writes: a session of their own, every request on a new connection (`Connection: close`). An HTTP
    /// library may silently send a request again when a kept-alive connection turns out to be closed; for a
    /// write that could create a second document (Zoho refuses no duplicate payment), so writes never travel
    /// on a reused connection.
    private let writeSession: URLSession
    private let userAgent: String

    public init(userAgent: String) {
        func configuration() -> URLSessionConfiguration {
            let config = URLSessionConfiguration.ephemeral
            config.httpCookieStorage = nil
            config.httpShouldSetCookies = false
            config.httpCookieAcceptPolicy = .never
            config.urlCache = nil
            config.urlCredentialStorage = nil
            config.requestCachePolicy = .reloadIgnoringLocalCacheData
            return config
        }
        self.session = URLSession(configuration: configuration(), delegate: RedirectRefusal(), delegateQueue: nil)
        self.writeSession = URLSession(configuration: configuration(), delegate: RedirectRefusal(), delegateQueue: nil)
        self.userAgent = userAgent
    }

    deinit {
        session.finishTasksAndInvalidate()
        writeSession.finishTasksAndInvalidate()
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard Self.isAllowed(request.url) else {
            throw TransportError.notSent("refused \(request.url.scheme ?? "?")://\(request.url.host ?? ""): only https, or http to a loopback address")
        }
        var urlRequest = URLRequest(url: request.url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: request.timeout)
        urlRequest.httpMethod = request.method
        urlRequest.httpShouldHandleCookies = false
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        if request.headers.keys.first(where: { $0.lowercased() == "user-agent" }) == nil {
            urlRequest.setValue(userAgent, forHTTPHeaderField: "User-Agent")
        }
        urlRequest.httpBody = request.body
        let isWrite = request.method.uppercased() != "GET" && request.method.uppercased() != "HEAD"
        if isWrite { urlRequest.setValue("close", forHTTPHeaderField: "Connection") }

        return try await perform(urlRequest, in: isWrite ? writeSession : session, timeout: request.timeout,
                                 description: request.redactedDescription)
    }

    /// Runs one data task. The deadline is enforced here as well, because FoundationNetworking does not
    /// reliably apply `timeoutInterval` to a server that accepts the request and then stays silent.
    private func perform(_ request: URLRequest, in session: URLSession, timeout: TimeInterval, description: String) async throws -> HTTPResponse {
        let outcome = TaskOutcome()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, Error>) in
                let task = session.dataTask(with: request) { data, response, error in
                    if let error = error as? URLError, error.code == .cancelled {
                        // Only our own cancel() gets here first; after the deadline the outcome is already set.
                        outcome.finish(continuation, .failure(CancellationError()))
                    } else if let error = error as? URLError {
                        outcome.finish(continuation, .failure(Self.transportError(error, description: description)))
                    } else if let error {
                        outcome.finish(continuation, .failure(TransportError.lost("\(description): \(type(of: error))")))
                    } else if let http = response as? HTTPURLResponse {
                        outcome.finish(continuation, .success(Self.response(http, body: data ?? Data())))
                    } else {
                        outcome.finish(continuation, .failure(TransportError.lost("\(description): not an HTTP reply")))
                    }
                }
                outcome.attach(task)
                DispatchQueue.global().asyncAfter(deadline: .now() + max(timeout, 0.001)) {
                    if outcome.finish(continuation, .failure(TransportError.timedOut)) { task.cancel() }
                }
                task.resume()
            }
        } onCancel: {
            outcome.cancel()
        }
    }

    /// The reply with lower-cased header names.
    private static func response(_ http: HTTPURLResponse, body: Data) -> HTTPResponse {
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            guard let name = name as? String, let value = value as? String else { continue }
            headers[name.lowercased()] = value
        }
        return HTTPResponse(status: http.statusCode, headers: headers, body: body)
    }

    /// https anywhere; http only to `localhost`, `127.0.0.0/8` or `::1`.
    static func isAllowed(_ url: URL) -> Bool {
        switch url.scheme?.lowercased() {
        case "https": return true
        case "http":
            let host = (url.host ?? "").lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            return host == "localhost" || host == "::1" || host.hasPrefix("127.")
        default: return false
        }
    }

    /// Which side of "did the server get it" a URL error is on. Messages name the host and path only.
    static func transportError(_ error: URLError, description target: String) -> TransportError {
        switch error.code {
        case .cannotConnectToHost, .cannotFindHost, .dnsLookupFailed, .notConnectedToInternet,
             // A failed TLS handshake happens before any request byte is sent (the port's rule for notSent).
             .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
            return .notSent("\(target): \(reason(error.code))")
        case .timedOut:
            return .timedOut
        default:
            return .lost("\(target): \(reason(error.code))")
        }
    }

    private static func reason(_ code: URLError.Code) -> String {
        switch code {
        case .cannotConnectToHost: return "connection refused"
        case .cannotFindHost, .dnsLookupFailed: return "host not found"
        case .notConnectedToInternet: return "no network"
        case .networkConnectionLost: return "connection lost"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot: return "TLS failure"
        default: return "URL error \(code.rawValue)"
        }
    }
}

/// Resumes a continuation exactly once, whichever of reply, deadline or cancellation comes first.
private final class TaskOutcome: @unchecked Sendable {
    // `done`, `task` and `pendingCancel` are guarded by `lock`.
    private let lock = NSLock()
    private var done = false
    private var task: URLSessionDataTask?
    private var pendingCancel = false

    func attach(_ task: URLSessionDataTask) {
        let cancelNow = lock.withLock { () -> Bool in
            self.task = task
            return pendingCancel
        }
        if cancelNow { task.cancel() }
    }

    /// Returns true when this call resumed the continuation.
    @discardableResult
    func finish(_ continuation: CheckedContinuation<HTTPResponse, Error>, _ result: Result<HTTPResponse, Error>) -> Bool {
        let first = lock.withLock { () -> Bool in
            defer { done = true }
            return !done
        }
        if first { continuation.resume(with: result) }
        return first
    }

    func cancel() {
        let task = lock.withLock { () -> URLSessionDataTask? in
            pendingCancel = true
            return self.task
        }
        task?.cancel()
    }
}

/// Declines every redirect, so the 3xx reply itself reaches the caller.
private final class RedirectRefusal: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}
