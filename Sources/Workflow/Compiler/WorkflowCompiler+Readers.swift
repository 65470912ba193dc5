/// A value read from the document, with where it was written.
struct Located<Value> {
    var value: Value
    var position: SourcePosition
}

/// The keys of one mapping, each with its key node (for positions) and value node.
struct Fields {
    var entries: [String: (key: YAMLNode, value: YAMLNode)] = [:]
    /// The mapping's own position, for "missing key" messages.
    var position: SourcePosition

    subscript(_ name: String) -> YAMLNode? { entries[name]?.value }
    func has(_ name: String) -> Bool { entries[name] != nil }
}

/// Typed readers over `YAMLNode`s that report what they reject.
extension WorkflowCompiler {
    /// Reads a mapping whose keys must be among `allowed`. Reports a non-mapping, non-name
    /// keys, unknown keys (with a suggestion) and missing `required` keys. Returns nil when
    /// the node is not a mapping.
    mutating func fields(of node: YAMLNode, in context: String, allowed: [String], required: [String] = []) -> Fields? {
        guard case .mapping(let pairs) = node.kind else {
            sink.error("\(context) must be a mapping, found \(node.typeDescription)", at: node.position)
            return nil
        }
        var fields = Fields(position: node.position)
        // A misspelt required key is reported once, as unknown with a suggestion, not also as missing.
        var suggested: Set<String> = []
        for pair in pairs {
            guard let key = pair.key.scalarText else {
                sink.error("keys must be names, found \(pair.key.typeDescription) in \(context)", at: pair.key.position)
                continue
            }
            if key == "<<" {
                sink.error("merge keys ('<<') are not supported in \(context); write the keys out, or alias a whole value", at: pair.key.position)
                continue
            }
            guard allowed.contains(key) else {
                let suggestion = Suggestions.closest(to: key, among: allowed)
                if let suggestion { suggested.insert(suggestion) }
                let hint = suggestion.map { " (did you mean '\($0)'?)" } ?? "; expected one of: \(allowed.joined(separator: ", "))"
                sink.error("unknown key '\(YAMLNode.clipped(key))' in \(context)\(hint)", at: pair.key.position)
                continue
            }
            fields.entries[key] = (pair.key, pair.value)
        }
        for key in required where fields.entries[key] == nil && !suggested.contains(key) {
            sink.error("\(context) is missing required key '\(key)'", at: node.position)
        }
        return fields
    }

    /// Any non-null scalar, as its text. Names and free text are read this way, so `404` or
    /// `true` written as a state name is still that name.
    mutating func text(_ node: YAMLNode, _ what: String) -> Located<String>? {
        if case .scalar(let text, _) = node.kind, node.resolvedScalar != .null {
            return Located(value: text, position: node.position)
        }
        sink.error("\(what) must be a string, found \(node.typeDescription)", at: node.position)
        return nil
    }

    /// A name (`[a-z0-9][a-z0-9_-]*`, at most 64 characters). An invalid name is reported and
    /// still returned, so references to it do not also fail.
    mutating func name(_ node: YAMLNode, kind: String) -> Located<String>? {
        guard let name = text(node, "a \(kind) name") else { return nil }
        checkName(name, kind: kind)
        return name
    }

    mutating func checkName(_ name: Located<String>, kind: String) {
        guard !Suggestions.isValidName(name.value) else { return }
        var message = "invalid \(kind) name '\(YAMLNode.clipped(name.value))': use lowercase letters, digits, '-' and '_', "
            + "starting with a letter or digit, at most \(WorkflowLimits.nameLengthMax) characters"
        if let near = Suggestions.validNameNear(name.value) { message += " (did you mean '\(near)'?)" }
        sink.error(message, at: name.position)
    }

    mutating func bool(_ node: YAMLNode, _ what: String) -> Bool? {
        if case .bool(let value) = node.resolvedScalar { return value }
        sink.error("\(what) must be true or false, found \(node.typeDescription)", at: node.position)
        return nil
    }

    mutating func integer(_ node: YAMLNode, _ what: String) -> Int? {
        if case .int(let value) = node.resolvedScalar, let result = Int(exactly: value) { return result }
        sink.error("\(what) must be a whole number, found \(node.typeDescription)", at: node.position)
        return nil
    }

    mutating func duration(_ node: YAMLNode, _ what: String) -> WorkflowDuration? {
        switch node.resolvedScalar {
        case .int(let value):
            sink.error("\(what) needs a unit: write '\(value)s' or '\(value)ms' (units: ms, s, m, h)", at: node.position)
            return nil
        case .string(let text):
            if let duration = WorkflowDuration(parsing: text) { return duration }
            let limit = WorkflowDuration(milliseconds: WorkflowDuration.millisecondsMax)
            if Self.looksLikeDuration(text) {
                sink.error("\(what) '\(YAMLNode.clipped(text))' must be more than zero and at most \(limit.description) (10 years)", at: node.position)
            } else {
                sink.error("\(what) '\(YAMLNode.clipped(text))' is not a duration: write a number and a unit "
                    + "(ms, s, m, h, d), largest unit first, such as '500ms', '30s' or '1h30m'", at: node.position)
            }
            return nil
        default:
            sink.error("\(what) must be a duration such as '30s' or '1h30m', found \(node.typeDescription)", at: node.position)
            return nil
        }
    }

    /// Text that is well-formed as a duration but out of range (zero, too long).
    private static func looksLikeDuration(_ text: String) -> Bool {
        guard !text.isEmpty, text.first!.isNumber else { return false }
        var digits = false
        var rest = Substring(text)
        while let first = rest.first {
            if first.isASCII, first.isNumber { digits = true; rest = rest.dropFirst(); continue }
            guard digits else { return false }
            if rest.hasPrefix("ms") { rest = rest.dropFirst(2) } else if "dhms".contains(first) { rest = rest.dropFirst() } else { return false }
            digits = false
        }
        return !digits
    }

    /// A mapping of names to JSON values (instance data, hook `with`, trigger `start`).
    /// `null` counts as an empty mapping.
    mutating func object(_ node: YAMLNode, _ what: String) -> [String: JSONValue]? {
        if node.resolvedScalar == .null { return [:] }
        guard case .mapping = node.kind else {
            sink.error("\(what) must be a mapping of names to values, found \(node.typeDescription)", at: node.position)
            return nil
        }
        guard case .object(let members)? = json(node) else { return nil }
        return members
    }

    /// Converts any node to a JSON value, reporting what JSON cannot hold (`.inf`, `.nan`,
    /// non-scalar keys). Recursion is bounded by `WorkflowLimits.nestingDepthMax`.
    mutating func json(_ node: YAMLNode) -> JSONValue? {
        switch node.kind {
        case .scalar:
            switch node.resolvedScalar! {
            case .null: return .null
            case .bool(let value): return .bool(value)
            case .int(let value): return .number(Double(value))
            case .double(let value):
                guard value.isFinite else {
                    sink.error("\(value.isNaN ? ".nan" : "infinity") is not a JSON number; quote it if you mean the text", at: node.position)
                    return nil
                }
                return .number(value)
            case .string(let text): return .string(text)
            }
        case .sequence(let items):
            var values: [JSONValue] = []
            var failed = false
            for item in items {
                if let value = json(item) { values.append(value) } else { failed = true }
            }
            return failed ? nil : .array(values)
        case .mapping(let pairs):
            var members: [String: JSONValue] = [:]
            var failed = false
            for pair in pairs {
                guard let key = pair.key.scalarText else {
                    sink.error("keys must be names, found \(pair.key.typeDescription)", at: pair.key.position)
                    failed = true
                    continue
                }
                if let value = json(pair.value) { members[key] = value } else { failed = true }
            }
            return failed ? nil : .object(members)
        }
    }
}
