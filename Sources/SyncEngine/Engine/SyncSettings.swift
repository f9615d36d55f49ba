import Foundation

/// Everything the engine needs from the configuration, resolved to values.
public struct SyncSettings: Sendable, Equatable {
    public var mapping: MappingSettings
    /// How far before the cursor each window starts (visibility lag, boundary ties).
    public var lookback: TimeInterval = 600
    /// How far behind BigCommerce's clock each window ends.
    public var lag: TimeInterval = 60
    /// Where a new home's cursors begin.
    public var start: Date
    /// Attempts before an operation is dead-lettered.
    public var maxAttempts: Int = 8
    /// BigCommerce page size (≤ 250).
    public var pageSize: Int = 250
    /// Orders planned and journaled per transaction.
    public var batchSize: Int = 250
    /// Upper bound on Zoho operations pushed in one run (a safety stop, not a tuning knob).
    public var maxOperationsPerRun: Int = 100_000
    /// Upper bound on one run's wall time in seconds; the push stops cleanly after it.
    public var maxRunSeconds: TimeInterval = 6 * 3600

    public init(mapping: MappingSettings, start: Date) {
        self.mapping = mapping
        self.start = start
    }
}

/// The kinds of journaled operations and what their payload holds.
public enum OperationKind: String, Sendable, CaseIterable {
    /// Payload `{"spec": ContactSpec}`. Ensures the contact exists (adopt by email, else create) and matches.
    case contactEnsure = "contact.ensure"
    /// Payload `{"spec": ItemSpec}`. Ensures an item with the SKU exists.
    case itemEnsure = "item.ensure"
    /// Payload `{"spec": InvoiceSpec}`. Ensures the order's invoice exists, matches the spec and is sent.
    case invoiceEnsure = "invoice.ensure"
    /// Payload `{"order_id": N}`. Voids the order's invoice (already void = done).
    case invoiceVoid = "invoice.void"
    /// Payload `{"spec": PaymentSpec}`. Ensures the payment is recorded on the order's invoice.
    case paymentEnsure = "payment.ensure"
    /// Payload `{"spec": CreditNoteSpec}`. Ensures the credit note exists, is applied or refunded.
    case creditNoteEnsure = "creditnote.ensure"
}
