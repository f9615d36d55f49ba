import Foundation
import SyncEngine

/// Where results (stdout) and the final failure line (stderr) are written.
///
/// Invariant: every line passes through the shared ``Redactor`` first, so a secret that was loaded (and
/// registered) can never be printed, even by mistake. Writes are unbuffered and whole-line.
struct Output: Sendable {
    let redactor: Redactor

    /// A result line on stdout.
    func print(_ line: String = "") { write(line + "\n", to: .standardOutput) }

    /// Several result lines on stdout.
    func print(lines: [String]) { for line in lines { print(line) } }

    /// A line on stderr (usage errors, the one failure line, warnings outside the logger).
    func error(_ line: String) { write(line + "\n", to: .standardError) }

    private func write(_ text: String, to handle: FileHandle) {
        handle.write(Data(redactor.redact(text).utf8))
    }
}
