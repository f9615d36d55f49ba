import Foundation

/// Why a delivery body cannot be used. The descriptions never quote the body.
public enum WebhookPayloadError: String, Error, Sendable, Equatable, CustomStringConvertible {
    case notJSON
    case noScope
    case noEntityID

    public var description: String {
        switch self {
        case .notJSON: return "the body is not a JSON object"
        case .noScope: return "the body has no scope"
        case .noEntityID: return "the body names no order or customer id"
        }
    }
}

/// What a BigCommerce delivery says changed: its scope and the id of the entity to re-read. Nothing else
/// of the payload is kept (the sync fetches the entity from the API).
///
/// Invariant: `entityID` is the id the inbox drain looks up for `scope` (`SyncRunner.drainInbox`):
/// - `store/order/*`, including `store/order/refund/*` and `store/order/message/*`: the order id (`data.id`);
/// - `store/order/transaction/*`: the order id (`data.order_id`; those payloads carry no `data.id`);
/// - `store/customer/address/*`: the customer id (`data.address.customer_id`; `data.id` is the address);
/// - `store/customer/*`: the customer id (`data.id`).
/// Other scopes (`store/cart/*`, `store/product/*`, …) are not handled: `entityID` is nil.
public struct WebhookEvent: Sendable, Equatable {
    public var scope: String
    public var entityID: Int64?
    /// The payload's `hash` (an unkeyed SHA-1 of the event, the same on every retry of one event).
    public var hash: String?
    /// The payload's `created_at` (Unix seconds, as sent), when there is one.
    public var createdAt: String? = nil

    public init(scope: String, entityID: Int64?, hash: String?, createdAt: String? = nil) {
        self.scope = scope; self.entityID = entityID; self.hash = hash; self.createdAt = createdAt
    }

    /// The inbox key taken from the payload when the delivery has no usable `webhook-id`: the `hash` with the scope
    /// and `created_at`. The reference says only that `hash` is a SHA-1 of "the payload data / event metadata"; if it
    /// covered the data alone (`{type, id}`), every later event of the same order would share it and be dropped as a
    /// duplicate. A retry of one event repeats all three, so it is still recognised.
    public var dedupeKey: String? {
        guard let hash else { return nil }
        return [hash, scope, createdAt ?? ""].joined(separator: "|")
    }

    /// Whether the inbox drain does something with this scope.
    public var isHandled: Bool { Self.handles(scope: scope) }

    public static func handles(scope: String) -> Bool {
        scope.hasPrefix("store/order/") || scope.hasPrefix("store/customer/")
    }

    /// Reads a delivery body. Throws ``WebhookPayloadError`` when it is not a JSON object, has no `scope`,
    /// or (for a handled scope) names no positive entity id.
    public static func parse(_ body: Data) throws -> WebhookEvent {
        guard let json = try? JSON.parse(body), let object = json.object else { throw WebhookPayloadError.notJSON }
        guard let scope = object["scope"]?.string?.trimmingCharacters(in: .whitespaces), !scope.isEmpty else {
            throw WebhookPayloadError.noScope
        }
        let hash = object["hash"]?.stringOrNumberText.flatMap { $0.isEmpty ? nil : $0 }
        let createdAt = object["created_at"]?.stringOrNumberText.flatMap { $0.isEmpty ? nil : $0 }
        guard handles(scope: scope) else { return WebhookEvent(scope: scope, entityID: nil, hash: hash, createdAt: createdAt) }
        let data = object["data"]
        let raw: JSON?
        if scope.hasPrefix("store/order/transaction/") {
            raw = data?["order_id"]
        } else if scope.hasPrefix("store/customer/address/") {
            raw = data?["address"]?["customer_id"]
        } else {
            raw = data?["id"]
        }
        guard let id = raw?.int64, id > 0 else { throw WebhookPayloadError.noEntityID }
        return WebhookEvent(scope: scope, entityID: id, hash: hash, createdAt: createdAt)
    }

    /// The inbox key of a delivery: the `webhook-id` header when it is usable (Standard Webhooks keeps it
    /// across retries), else `hash` (callers pass the event's ``dedupeKey``), else a SHA-256 of the body.
    public static func deliveryID(header: String?, hash: String?, body: Data) -> String {
        if let id = usableDeliveryID(header) { return id }
        if let h = usableDeliveryID(hash) { return h }
        return "sha256:" + Fingerprint.sha256Hex(body)
    }

    /// `text` trimmed when it can serve as a delivery id (1 to 200 printable ASCII characters), else nil.
    public static func usableDeliveryID(_ text: String?) -> String? {
        guard let t = text?.trimmingCharacters(in: .whitespaces), !t.isEmpty, t.utf8.count <= 200,
              t.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else { return nil }
        return t
    }

    /// The inbox row for this event (nil for an unhandled scope).
    public func inboxDelivery(deliveryID: String, receivedAt: Date) -> InboxDelivery? {
        guard let entityID else { return nil }
        return InboxDelivery(deliveryID: deliveryID, scope: scope, entityID: entityID, receivedAt: receivedAt)
    }
}
