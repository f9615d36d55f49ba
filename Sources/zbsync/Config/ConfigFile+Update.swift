import Foundation

extension ConfigFile {
    /// Rewrites `HOME/zbsync.conf` with each `section.key` set, keeping comments and other lines; the new
    /// text is validated before it replaces the old file (written to a temp file, then renamed).
    static func update(home: URL, settings: [String: String]) throws {
        let file = url(home: home)
        var text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        for (path, value) in settings.sorted(by: { $0.key < $1.key }) { text = setting(path, to: value, in: text) }
        let temp = file.deletingLastPathComponent().appendingPathComponent(".zbsync.conf.tmp")
        try Data(text.utf8).write(to: temp, options: .atomic)
        chmod(temp.path, 0o600)
        _ = try resolve(file: try parse(text, path: file.path), fileURL: file, environment: [:])
        guard rename(temp.path, file.path) == 0 else {
            throw ConfigError.home("could not replace \(file.path): \(String(cString: strerror(errno)))")
        }
    }
}
