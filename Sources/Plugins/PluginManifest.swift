import Workflow
import Yams

/// The keys of one `plugin.yaml`, checked but not yet resolved against the file system.
///
/// ```yaml
/// command: [python3, post.py]   # required: argv, never a shell string
/// timeout: 30s                  # optional: per attempt, unless the hook sets its own
/// env: [HTTPS_PROXY]            # optional: variables passed through besides PATH, HOME, LANG
/// concurrency: 2                # optional: at most 2 runs at once (default 4)
/// description: POST the event to a loopback URL
/// ```
///
/// Unknown keys are errors, as in workflow files; every problem carries its line and column.
struct PluginManifest {
    /// The argv as written; `command[0]` is resolved by discovery.
    var command: [String]
    /// Where `command[0]` is written, for errors found while resolving it.
    var programPosition: (line: Int, column: Int)
    var timeout: WorkflowDuration?
    var environmentAllowList: [String]
    var concurrency: Int
    var description: String?

    /// Every key a manifest may have.
    static let keys = ["command", "concurrency", "description", "env", "timeout"]

    /// Parses `text`, naming `file` in diagnostics. Returns a manifest only when there is no error.
    static func parse(_ text: String, file: String) -> (manifest: PluginManifest?, diagnostics: [Diagnostic]) {
        var reader = Reader(file: file)
        let manifest = reader.read(text)
        return (reader.diagnostics.contains(where: \.isError) ? nil : manifest, reader.diagnostics)
    }

    /// Walks the composed document, collecting every problem rather than stopping at the first.
    private struct Reader {
        let file: String
        var diagnostics: [Diagnostic] = []

        init(file: String) { self.file = file }

        mutating func error(_ message: String, line: Int, column: Int) {
            diagnostics.append(Diagnostic(file: file, line: line, column: column, severity: .error, message: message))
        }

        mutating func error(_ message: String, at node: Node) {
            error(message, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
        }

        mutating func read(_ text: String) -> PluginManifest? {
            let root: Node
            do {
                guard let composed = try Yams.compose(yaml: text) else {
                    error("the manifest is empty; it needs at least a command, e.g. command: [./run]", line: 1, column: 1)
                    return nil
                }
                root = composed
            } catch let yamlError as YamlError {
                syntaxError(yamlError)
                return nil
            } catch {
                self.error("cannot read the manifest: \(error)", line: 1, column: 1)
                return nil
            }
            guard let mapping = root.mapping else {
                error("a plugin manifest is a mapping of keys (command, timeout, env, concurrency, description), found \(kind(root))", at: root)
                return nil
            }

            var values: [String: Node] = [:]
            for (key, value) in mapping {
                guard let name = key.scalar?.string else {
                    error("a manifest key must be a plain name, found \(kind(key))", at: key)
                    continue
                }
                guard Self.keysSet.contains(name) else {
                    let near = Suggestions.closest(to: name, among: PluginManifest.keys).map { " (did you mean '\($0)'?)" } ?? ""
                    error("unknown key '\(clipped(name))' in a plugin manifest\(near); the keys are \(PluginManifest.keys.joined(separator: ", "))",
                          at: key)
                    continue
                }
                values[name] = value
            }

            let command = values["command"].flatMap { readCommand($0) }
            if values["command"] == nil {
                error("the manifest has no command; add one, e.g. command: [./run] (argv as a list, run in this directory)",
                      line: root.mark?.line ?? 1, column: root.mark?.column ?? 1)
            }
            let timeout = values["timeout"].flatMap { readTimeout($0) }
            let environment = values["env"].flatMap { readEnvironment($0) } ?? []
            let concurrency = values["concurrency"].flatMap { readConcurrency($0) } ?? Plugin.concurrencyDefault
            let description = values["description"].flatMap { readDescription($0) }
            guard let command else { return nil }
            return PluginManifest(command: command.argv, programPosition: command.position, timeout: timeout,
                                  environmentAllowList: environment, concurrency: concurrency, description: description)
        }

        static let keysSet = Set(PluginManifest.keys)

        mutating func syntaxError(_ yamlError: YamlError) {
            switch yamlError {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
                 .composer(let context, let problem, let mark, _):
                // The same shape as workflow files: "problem (context at line:column)".
                let detail = context.map { " (\($0.text) at \($0.mark.line):\($0.mark.column))" } ?? ""
                error("YAML syntax error: \(problem)\(detail)", line: mark.line, column: mark.column)
            case .duplicatedKeysInMapping(let duplicates, let context):
                error("duplicate key '\(duplicates.first ?? "")' in the manifest; each key may appear once",
                      line: context.mark.line, column: context.mark.column)
            case .reader(let problem, _, _, _):
                error("YAML syntax error: \(problem)", line: 1, column: 1)
            default:
                error("cannot read the manifest: \(yamlError)", line: 1, column: 1)
            }
        }

        mutating func readCommand(_ node: Node) -> (argv: [String], position: (line: Int, column: Int))? {
            guard let items = node.sequence else {
                let hint = node.scalar.map { " such as [\(clipped($0.string))] — a string would need a shell to split it, and plugins never run one" } ?? ""
                error("command must be a list of strings (the argv)\(hint), found \(kind(node))", at: node)
                return nil
            }
            guard let first = items.first else {
                error("command is empty; name the program to run, e.g. command: [./run]", at: node)
                return nil
            }
            var argv: [String] = []
            var ok = true
            for (index, item) in items.enumerated() {
                guard let scalar = item.scalar, item.null == nil else {
                    error("command entry \(index + 1) must be a string, found \(kind(item))", at: item)
                    ok = false
                    continue
                }
                if scalar.string.utf8.contains(0) {
                    error("command entry \(index + 1) contains a NUL character", at: item)
                    ok = false
                    continue
                }
                argv.append(scalar.string)
            }
            if let program = argv.first, program.isEmpty {
                error("command[0] is empty; name the program to run", at: first)
                ok = false
            }
            guard ok else { return nil }
            let position: (line: Int, column: Int) = (first.mark?.line ?? 1, first.mark?.column ?? 1)
            return (argv, position)
        }

        mutating func readTimeout(_ node: Node) -> WorkflowDuration? {
            guard let text = node.scalar?.string, let duration = WorkflowDuration(parsing: text) else {
                error("timeout must be a duration such as 500ms, 30s, 5m, 1h or 1h30m, found \(kind(node))", at: node)
                return nil
            }
            return duration
        }

        mutating func readEnvironment(_ node: Node) -> [String]? {
            guard let items = node.sequence else {
                error("env must be a list of variable names, e.g. env: [HTTPS_PROXY], found \(kind(node))", at: node)
                return nil
            }
            var names: [String] = []
            for item in items {
                guard let name = item.scalar?.string, Self.isVariableName(name) else {
                    error("env entries are variable names (letters, digits and '_', not starting with a digit), found \(kind(item))",
                          at: item)
                    continue
                }
                if name.hasPrefix("ORCH_") {
                    error("env cannot pass '\(name)': ORCH_* variables are set by the orchestrator for each run", at: item)
                    continue
                }
                if !names.contains(name) { names.append(name) }
            }
            return names
        }

        mutating func readConcurrency(_ node: Node) -> Int? {
            guard let text = node.scalar?.string, let value = Int(text), value >= 1, value <= Plugin.concurrencyMax else {
                error("concurrency must be a whole number from 1 to \(Plugin.concurrencyMax), found \(kind(node))", at: node)
                return nil
            }
            return value
        }

        mutating func readDescription(_ node: Node) -> String? {
            guard let scalar = node.scalar, node.null == nil else {
                error("description must be a string, found \(kind(node))", at: node)
                return nil
            }
            return scalar.string
        }

        /// `[A-Za-z_][A-Za-z0-9_]*`: what a POSIX shell accepts as a variable name.
        static func isVariableName(_ name: String) -> Bool {
            let bytes = Array(name.utf8)
            guard let first = bytes.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
            return bytes.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
            }
        }

        /// What a user would call the node's type, for messages.
        func kind(_ node: Node) -> String {
            switch node {
            case .mapping: return "a mapping"
            case .sequence: return "a list"
            case .alias: return "an alias (aliases are not supported in a manifest)"
            case .scalar(let scalar):
                if node.null != nil { return "null" }
                return "'\(clipped(scalar.string))'"
            }
        }

        func clipped(_ text: String) -> String {
            let flat = text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\\n")
            return flat.count <= 40 ? flat : String(flat.prefix(40)) + "…"
        }
    }
}
