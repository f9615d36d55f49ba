import Foundation

/// The faults a test really injected, appended to the file named by `$ZBSYNC_FAULT_TALLY` (one
/// `suite<TAB>kind<TAB>count` line each). `make fault` sets it and sums the lines per kind
/// (`scripts/fault-report.sh`); without the variable nothing is written.
enum FaultTallyFile {
    static func record(suite: String, _ fired: [String: Int]) {
        guard let path = ProcessInfo.processInfo.environment["ZBSYNC_FAULT_TALLY"], !path.isEmpty, !fired.isEmpty else { return }
        let text = fired.sorted { $0.key < $1.key }.map { "\(suite)\t\($0.key)\t\($0.value)\n" }.joined()
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
    }
}

/// Counts faults by kind across the cases of one test.
final class FaultCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var fired: [String: Int] = [:]
    func add(_ kinds: [String: Int]) { lock.withLock { fired.merge(kinds, uniquingKeysWith: +) } }
    func add(_ kind: String, _ n: Int = 1) { lock.withLock { fired[kind, default: 0] += n } }
    var total: Int { lock.withLock { fired.values.reduce(0, +) } }
    var all: [String: Int] { lock.withLock { fired } }
    func record(suite: String) { FaultTallyFile.record(suite: suite, all) }
}
