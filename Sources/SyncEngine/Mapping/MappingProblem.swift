import Foundation

/// A BigCommerce record that cannot be mapped to a Zoho document as it is. The planner quarantines the record
/// and `status` shows the message.
///
/// Invariant: `message` names the record (`order 123: …`) and never holds personal data beyond ids.
public struct MappingProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// Mapping key of the record: `order:123`, `refund:7`, `customer:5`.
    public var entityKey: String
    public var message: String

    public init(entityKey: String, message: String) {
        self.entityKey = entityKey
        self.message = message
    }

    static func order(_ id: Int64, _ message: String) -> MappingProblem {
        MappingProblem(entityKey: "order:\(id)", message: "order \(id): \(message)")
    }

    static func refund(_ id: Int64, _ message: String) -> MappingProblem {
        MappingProblem(entityKey: "refund:\(id)", message: "refund \(id): \(message)")
    }

    public var description: String { message }
}
