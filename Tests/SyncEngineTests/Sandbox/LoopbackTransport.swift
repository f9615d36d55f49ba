import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import SyncEngine

/// An ``HTTPTransport`` over URLSession for tests that talk to the local sandbox.
///
/// It keeps the port's contract like the real transport of the `zbsync` target (which tests cannot import):
/// every HTTP reply is returned whatever its status, header names lower-cased; only a missing reply throws
/// ``TransportError`` (`notSent` when the connection could not be made, `timedOut`, `lost` otherwise).
/// Redirects are not followed, nothing is cached, no cookies are kept, and only loopback hosts are allowed.
/// Each request uses a new connection (`Connection: close`), see ``send(_:)``.
final class LoopbackTransport: HTTPTransport, @unchecked Sendable {
    private let session: URLSession

    init() {
        let config = URLSessionConfiguration.ephemeral
        config.httpCookieStorage = nil
        config.httpShouldSetCookies = false
        config.httpCookieAcceptPolicy = .never
        config.urlCache = nil
        config.urlCredentialStorage = nil
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.httpMaximumConnectionsPerHost = 16
        session = URLSession(configuration: config, delegate: LoopbackRedirectRefusal(), delegateQueue: nil)
    }

    deinit { session.finishTasksAndInvalidate() }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let host = (request.url.host ?? "").lowercased()
        guard request.url.scheme?.lowercased() == "http", host == "127.0.0.1" || host == "localhost" else {
            throw TransportError.notSent("refused \(request.url.scheme ?? "?")://\(host): tests only talk to loopback")
        }
        var urlRequest = URLRequest(url: request.url, cachePolicy: .reloadIgnoringLocalCacheData,
                                    timeoutInterval: request.timeout)
        urlRequest.httpMethod = request.method
        urlRequest.httpShouldHandleCookies = false
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        // One connection per request: on a kept-alive connection the sandbox's replies wait about 40 ms each
        // (it writes headers and body separately without TCP_NODELAY, so Nagle meets the client's delayed ACK).
        urlRequest.setValue("close", forHTTPHeaderField: "Connection")
        urlRequest.httpBody = request.body
        let target = request.redactedDescription
        let outcome = LoopbackOutcome()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, Error>) in
                let task = session.dataTask(with: urlRequest) { data, response, error in
                    if let error = error as? URLError, error.code == .cancelled {
                        outcome.finish(continuation, .failure(CancellationError()))
                    } else if let error = error as? URLError {
                        outcome.finish(continuation, .failure(Self.transportError(error, target: target)))
                    } else if let error {
                        outcome.finish(continuation, .failure(TransportError.lost("\(target): \(type(of: error))")))
                    } else if let http = response as? HTTPURLResponse {
                        var headers: [String: String] = [:]
                        for (name, value) in http.allHeaderFields {
                            guard let name = name as? String, let value = value as? String else { continue }
                            headers[name.lowercased()] = value
                        }
                        outcome.finish(continuation, .success(HTTPResponse(status: http.statusCode, headers: headers,
                                                                           body: data ?? Data())))
                    } else {
                        outcome.finish(continuation, .failure(TransportError.lost("\(target): not an HTTP reply")))
                    }
                }
                outcome.attach(task)
                DispatchQueue.global().asyncAfter(deadline: .now() + max(request.timeout, 0.001)) {
                    if outcome.finish(continuation, .failure(TransportError.timedOut)) { task.cancel() }
                }
                task.resume()
            }
        } onCancel: {
            outcome.cancel()
        }
    }

    /// The same split as the real transport: could the server have seen the request or not.
    static func transportError(_ error: URLError, target: String) -> TransportError {
        switch error.code {
        case .cannotConnectToHost, .cannotFindHost, .dnsLookupFailed, .notConnectedToInternet,
             .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
            return .notSent("\(target): URL error \(error.code.rawValue)")
        case .timedOut:
            return .timedOut
        default:
            return .lost("\(target): URL error \(error.code.rawValue)")
        }
    }
}

/// Resumes a continuation exactly once: reply, deadline or cancellation, whichever comes first.
private final class LoopbackOutcome: @unchecked Sendable {
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

private final class LoopbackRedirectRefusal: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}
