import Foundation

/// The fingerprint of an order as Zoho sees it: the hash of its mapped invoice spec.
///
/// Invariant: it changes exactly when the invoice zbsync would send changes. The order's status, modification
/// time and anything else that does not reach the invoice leave it unchanged, so an unchanged order (or one
/// that only moved between invoiced statuses) plans nothing.
///
/// Every fingerprint here equals `Fingerprint.of(spec.toJSON())`; it is computed from the canonical bytes
/// written directly (``CanonicalJSONWriter``).
public enum OrderFingerprint {
    public static func of(_ spec: InvoiceSpec) -> String { spec.canonicalFingerprint }
}

extension InvoiceSpec {
    /// See ``OrderFingerprint``.
    public var fingerprint: String { OrderFingerprint.of(self) }
}

extension PaymentSpec {
    public var fingerprint: String { canonicalFingerprint }
}

extension CreditNoteSpec {
    public var fingerprint: String { canonicalFingerprint }
}

extension ItemSpec {
    public var fingerprint: String { canonicalFingerprint }
}
