import Foundation

/// `HOME/zbsync.conf`: `[section]` headers, `key = value` lines, `#` comments (whole lines, or after
/// a value following whitespace), `"quoted values"` (with `\"` and `\\`), blank lines.
///
/// Invariants: a parsed file holds only known sections and keys, each set at most once, each value valid
/// for its key's type; every problem is a ``ConfigError/line(file:line:problem:)`` naming the line.
struct ConfigFile: Sendable {
    static let fileName = "zbsync.conf"

    /// One `key = value` line.
    struct Entry: Sendable, Equatable {
        var path: String
        var value: String
        var line: Int
    }

    var path: String
    /// By `section.name`.
    var entries: [String: Entry]

    static func url(home: URL) -> URL { home.appendingPathComponent(fileName) }

    // MARK: Reading

    /// Parses and checks the text of a config file. `path` is used in error messages only.
    static func parse(_ text: String, path: String) throws -> ConfigFile {
        var file = ConfigFile(path: path, entries: [:])
        var section: String?
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (offset, raw) in lines.enumerated() {
            let number = offset + 1
            func fail(_ problem: String) -> ConfigError { .line(file: path, line: number, problem: problem) }
            let line = raw.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            if line.isEmpty || line.hasPrefix("#") { continue }

            if line.hasPrefix("[") {
                guard let close = line.firstIndex(of: "]") else { throw fail("section header without ']'") }
                let rest = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
                guard rest.isEmpty || rest.hasPrefix("#") else { throw fail("unexpected text after the section header") }
                let name = line[line.index(after: line.startIndex)..<close].trimmingCharacters(in: .whitespaces)
                guard ConfigKey.sections.contains(name) else {
                    let guess = Suggestion.closest(to: name, in: ConfigKey.sections).map { " (did you mean [\($0)]?)" } ?? ""
                    throw fail("unknown section [\(name)]\(guess); sections: \(ConfigKey.sections.joined(separator: ", "))")
                }
                section = name
                continue
            }

            guard let eq = line.firstIndex(of: "=") else {
                throw fail("expected 'key = value', a [section] header or a # comment")
            }
            let name = line[..<eq].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw fail("missing key name before '='") }
            guard let section else {
                let owner = ConfigKey.all.first { $0.name == name }.map { " (it belongs under [\($0.section)])" } ?? ""
                throw fail("key '\(name)' is outside any [section]\(owner)")
            }
            guard let key = ConfigKey.named(section: section, name: name) else {
                let names = ConfigKey.all.filter { $0.section == section }.map(\.name)
                let guess = Suggestion.closest(to: name, in: names).map { " (did you mean '\($0)'?)" } ?? ""
                throw fail("unknown key '\(name)' in [\(section)]\(guess)")
            }
            let value: String
            do {
                value = try Self.value(from: String(line[line.index(after: eq)...]))
            } catch let problem as ValueSyntaxError {
                throw fail("\(key.path): \(problem.message)")
            }
            if let earlier = file.entries[key.path] {
                throw fail("\(key.path) is already set on line \(earlier.line)")
            }
            if let problem = Self.problem(key: key, value: value) { throw fail("\(key.path): \(problem)") }
            file.entries[key.path] = Entry(path: key.path, value: value, line: number)
        }
        return file
    }

    /// Reads `HOME/zbsync.conf`; nil when there is none.
    static func load(home: URL) throws -> ConfigFile? {
        let url = url(home: home)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ConfigError.unreadable(path: url.path, reason: "it is a directory, not a file")
        }
        let data: Data
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            throw ConfigError.unreadable(path: url.path, reason: "permission denied (check the file's owner and mode)")
        }
        do { data = try Data(contentsOf: url) } catch {
            throw ConfigError.unreadable(path: url.path, reason: (error as NSError).localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError.unreadable(path: url.path, reason: "not UTF-8 text")
        }
        return try parse(text, path: url.path)
    }

    /// Defaults, then the file (if any), then `ZBSYNC_<SECTION>_<KEY>` variables. Empty variables are
    /// ignored. Throws ``ConfigError`` naming the line or the variable.
    static func resolve(file: ConfigFile?, fileURL: URL, environment: [String: String]) throws -> Configuration {
        var values: [String: String] = [:]
        for key in ConfigKey.all {
            var value = key.defaultValue
            if let entry = file?.entries[key.path] { value = entry.value }
            if let env = environment[key.environmentVariable]?.trimmingCharacters(in: .whitespaces), !env.isEmpty {
                if let problem = problem(key: key, value: env) {
                    throw ConfigError.environment(variable: key.environmentVariable, problem: problem)
                }
                value = env
            }
            if let value, !(value.isEmpty && key.defaultValue == nil) { values[key.path] = value }
        }
        return Configuration(file: fileURL, values: values)
    }

    /// The configuration of a home folder. Throws ``ConfigError/missingFile(path:)`` when it has none.
    static func loadConfiguration(home: URL, environment: [String: String]) throws -> Configuration {
        guard let file = try load(home: home) else { throw ConfigError.missingFile(path: url(home: home).path) }
        return try resolve(file: file, fileURL: url(home: home), environment: environment)
    }

    /// Why `value` is not acceptable for `key`, or nil. Empty text is acceptable for string keys and for
    /// keys without a default (meaning unset).
    static func problem(key: ConfigKey, value: String) -> String? {
        if value.isEmpty {
            if key.type == .string || key.defaultValue == nil { return nil }
            return "needs \(key.type.expectation); remove the line to use the default \(key.defaultValue!)"
        }
        if let problem = key.type.problem(with: value) { return problem }
        if key.path == "orders.statuses", let list = ConfigValueType.parseIntList(value) {
            let never = list.filter { [0, 1, 6].contains($0) }
            if !never.isEmpty {
                return "statuses \(never.map(String.init).joined(separator: ", ")) are never invoiced (0 Incomplete, 1 Pending, 6 Declined)"
            }
        }
        return nil
    }

    private struct ValueSyntaxError: Error { var message: String }

    /// The value part after `=`: unquoted text up to a ` #` comment, or a `"quoted"` string.
    private static func value(from text: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("\"") else {
            var chars = Array(trimmed)
            for i in chars.indices where chars[i] == "#" && i > 0 && (chars[i - 1] == " " || chars[i - 1] == "\t") {
                chars = Array(chars[..<i])
                break
            }
            return String(chars).trimmingCharacters(in: .whitespaces)
        }
        var out = ""
        var escaped = false
        var closed: String.Index?
        var i = trimmed.index(after: trimmed.startIndex)
        while i < trimmed.endIndex {
            let c = trimmed[i]
            if escaped {
                guard c == "\"" || c == "\\" else { throw ValueSyntaxError(message: "unknown escape '\\\(c)' in a quoted value") }
                out.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "\"" {
                closed = i
                break
            } else {
                out.append(c)
            }
            i = trimmed.index(after: i)
        }
        guard let closed else { throw ValueSyntaxError(message: "quoted value without a closing '\"'") }
        let rest = trimmed[trimmed.index(after: closed)...].trimmingCharacters(in: .whitespaces)
        guard rest.isEmpty || rest.hasPrefix("#") else { throw ValueSyntaxError(message: "unexpected text after the closing quote") }
        return out
    }

    // MARK: Writing

    /// The file `zbsync init` writes: every key commented out with its doc and default, except
    /// `sync.start`, which is set to `start`.
    static func template(start: Date) -> String {
        var out = [
            "# zbsync configuration for one connection: one BigCommerce store -> one Zoho Books organization.",
            "#",
            "# Syntax: [section] headers, key = value lines, # comments; quote values with \"...\" when needed.",
            "# Every key can be overridden by an environment variable ZBSYNC_<SECTION>_<KEY>,",
            "# for example ZBSYNC_ZOHO_REQUESTS_PER_MINUTE=50. Remove the leading # to set a key.",
            "# Credentials are not kept here: `zbsync auth` stores them encrypted in state.db.",
        ]
        for section in ConfigKey.sections {
            out.append("")
            out.append("[\(section)]")
            for key in ConfigKey.all where key.section == section {
                let shownDefault = key.defaultValue.map { $0.isEmpty ? "(empty)" : $0 } ?? key.defaultNote ?? "(unset)"
                out.append("# \(key.doc)")
                out.append("# Type: \(key.type.expectation). Default: \(shownDefault).")
                if key.path == "sync.start" {
                    out.append("\(key.name) = \(DateText.iso(start))")
                } else {
                    let shown = key.defaultValue.map(quoteIfNeeded) ?? ""
                    out.append(shown.isEmpty ? "# \(key.name) =" : "# \(key.name) = \(shown)")
                }
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// `text` with `path` set to `value`: an existing `key = …` line of that section is replaced, else a
    /// commented-out `# key = …` line is, else the line is added at the end of the section (added with
    /// the section when missing). Comments and other lines are kept as they are.
    static func setting(_ path: String, to value: String, in text: String) -> String {
        let parts = path.split(separator: ".", maxSplits: 1).map(String.init)
        precondition(parts.count == 2, "config path must be section.key")
        let (section, name) = (parts[0], parts[1])
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let newLine = "\(name) = \(quoteIfNeeded(value))"

        var current: String?
        var active: Int?
        var commented: Int?
        var sectionEnd: Int?
        for (i, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                if current == section { sectionEnd = i }
                current = line.dropFirst().split(separator: "]").first.map { $0.trimmingCharacters(in: .whitespaces) }
                continue
            }
            guard current == section else { continue }
            let body = line.hasPrefix("#") ? line.dropFirst().trimmingCharacters(in: .whitespaces) : line
            guard let eq = body.firstIndex(of: "="), body[..<eq].trimmingCharacters(in: .whitespaces) == name else { continue }
            if line.hasPrefix("#") { if commented == nil { commented = i } } else { active = i }
        }
        if current == section && sectionEnd == nil { sectionEnd = lines.count }

        if let index = active ?? commented {
            lines[index] = newLine
        } else if var end = sectionEnd {
            while end > 0 && lines[end - 1].trimmingCharacters(in: .whitespaces).isEmpty { end -= 1 }
            lines.insert(newLine, at: end)
        } else {
            lines += ["", "[\(section)]", newLine]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Quotes a value that would otherwise read differently (surrounding spaces, ` #`, a leading quote).
    static func quoteIfNeeded(_ value: String) -> String {
        let needs = value != value.trimmingCharacters(in: .whitespaces) || value.contains(" #") || value.contains("\t#")
            || value.hasPrefix("\"") || value.hasPrefix("#")
        guard needs else { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
