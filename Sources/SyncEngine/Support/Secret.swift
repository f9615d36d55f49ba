import Foundation

/// A secret value (token, client secret, key). It never prints its value: `description`,
/// `debugDescription` and string interpolation all give `‹redacted›`. It is deliberately not `Codable`.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    public init(_ value: String) { self.value = value }

    /// The plain value, for the one place that must send it (an HTTP header or form field).
    public func reveal() -> String { value }

    public var isEmpty: Bool { value.isEmpty }
    public var description: String { "‹redacted›" }
    public var debugDescription: String { "‹redacted›" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}
