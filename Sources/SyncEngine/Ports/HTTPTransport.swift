import Foundation

/// One HTTP request as the API clients build it. Header names are sent as given.
public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    public var url: URL
    public var headers: [String: String]
    public var body: Data?
    /// Seconds before the transport gives up on the reply.
    public var timeout: TimeInterval

    public init(method: String, url: URL, headers: [String: String] = [:], body: Data? = nil, timeout: TimeInterval = 60) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// Method, host and path only: what a log line or an error may show (never the query or body,
    /// which may hold tokens or personal data).
    public var redactedDescription: String {
        "\(method) \(url.host ?? "")\(url.path)"
    }
}

/// One HTTP reply. Header names are lower-cased by the transport.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        var lowered: [String: String] = [:]
        for (k, v) in headers { lowered[k.lowercased()] = v }
        self.headers = lowered
        self.body = body
    }

    /// Case-insensitive header lookup.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// How a request failed below HTTP.
///
/// The distinction matters for writes: after ``notSent`` the server certainly did nothing and the request
/// may be sent again; after ``timedOut`` or ``lost`` the server may have applied it (an *unknown* outcome).
public enum TransportError: Error, Equatable, CustomStringConvertible {
    /// The connection could not be made (refused, DNS, TLS before sending). Nothing reached the server.
    case notSent(String)
    /// No reply within the request's timeout. The request may have been applied.
    case timedOut
    /// The connection broke after the request was sent. The request may have been applied.
    case lost(String)

    public var description: String {
        switch self {
        case .notSent(let m): return "could not connect: \(m)"
        case .timedOut: return "no reply before the timeout"
        case .lost(let m): return "connection lost: \(m)"
        }
    }
}

/// Sends HTTP requests. The only port through which zbsync talks to the network.
///
/// Contract: returns every HTTP reply, whatever its status (4xx and 5xx are replies, not errors); throws
/// ``TransportError`` only when no complete reply was received. Implementations do not retry.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
