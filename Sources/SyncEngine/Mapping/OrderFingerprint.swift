import Foundation

/// The fingerprint of an order as Zoho sees it: the hash of its mapped invoice spec.
///
/// Invariant: it changes exactly when the invoice zbsync would send changes. The order's status, modification
/// time and anything else that does not reach the invoice leave it unchanged, so an unchanged order (or one
/// that only moved between invoiced statuses) plans nothing.
public enum OrderFingerprint {
    public static func of(_ spec: InvoiceSpec) -> String { Fingerprint.of(spec.toJSON()) }
}

extension InvoiceSpec {
    /// See ``OrderFingerprint``.
    public var fingerprint: String { OrderFingerprint.of(self) }
}

extension PaymentSpec {
    public var fingerprint: String { Fingerprint.of(toJSON()) }
}

extension CreditNoteSpec {
    public var fingerprint: String { Fingerprint.of(toJSON()) }
}

extension ItemSpec {
    public var fingerprint: String { Fingerprint.of(toJSON()) }
}
