import Foundation

/// A position in a definition text: 1-based line and column (columns count Unicode scalars,
/// as libyaml does).
struct SourcePosition: Hashable, Sendable {
    var line: Int
    var column: Int

    static let start = SourcePosition(line: 1, column: 1)
}

/// One node of a composed YAML document, with the position where it starts.
///
/// Scalars are kept as text with their style; typing (bool, number, null) happens in
/// `YAMLNode.resolvedScalar` so that the compiler can say "found string 'yes'" precisely.
struct YAMLNode: Sendable {
    enum Kind: Sendable {
        /// `plain` is false for quoted and block scalars and for `!!str` (they are always strings).
        case scalar(String, plain: Bool)
        case mapping([(key: YAMLNode, value: YAMLNode)])
        case sequence([YAMLNode])
    }

    var kind: Kind
    var position: SourcePosition
    /// Nodes in this subtree, counting alias expansions (bounded by `WorkflowLimits.nodeCountMax`).
    var nodeCount: Int = 1
    /// Collection levels in this subtree (bounded by `WorkflowLimits.nestingDepthMax`).
    var height: Int = 0

    /// What a user would call this node's type, for messages: "a mapping", "a list", "a string".
    var typeDescription: String {
        switch kind {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar:
            switch resolvedScalar {
            case .null: return "null"
            case .bool(let value): return "boolean \(value)"
            case .int(let value): return "number \(value)"
            case .double(let value): return "number \(value)"
            case .string(let text): return "string '\(YAMLNode.clipped(text))'"
            case .none: return "a collection"
            }
        }
    }

    /// The scalar's text when it is a scalar of any type.
    var scalarText: String? {
        if case .scalar(let text, _) = kind { return text }
        return nil
    }

    /// The scalar's value typed by the YAML 1.2 core schema (`true`/`false`, `null`/`~`/empty,
    /// integers, floats); quoted scalars are always strings. `yes`/`no`/`on`/`off` stay strings.
    var resolvedScalar: ScalarValue? {
        guard case .scalar(let text, let plain) = kind else { return nil }
        guard plain else { return .string(text) }
        return ScalarValue.resolve(plain: text)
    }

    static func clipped(_ text: String, limit: Int = 40) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: "\\n")
        return flat.count <= limit ? flat : String(flat.prefix(limit)) + "…"
    }
}

/// A plain scalar's value under the YAML 1.2 core schema.
enum ScalarValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)

    static func resolve(plain text: String) -> ScalarValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
        guard let first = text.utf8.first,
              first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
                || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
        else { return .string(text) }
        if isDecimalInteger(text) {
            if let value = Int64(text.hasPrefix("+") ? String(text.dropFirst()) : text) { return .int(value) }
            if let value = Double(text) { return .double(value) }
        }
        if text.hasPrefix("0x"), let value = Int64(text.dropFirst(2), radix: 16) { return .int(value) }
        if text.hasPrefix("0o"), let value = Int64(text.dropFirst(2), radix: 8) { return .int(value) }
        if isDecimalFloat(text), let value = Double(text) { return .double(value) }
        return .string(text)
    }

    private static func isDecimalInteger(_ text: String) -> Bool {
        var bytes = Substring(text).utf8[...]
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        return !bytes.isEmpty && bytes.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    private static func isDecimalFloat(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var index = 0
        func digits() -> Int {
            let start = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
        let integerDigits = digits()
        var fractionDigits = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            fractionDigits = digits()
        }
        guard integerDigits + fractionDigits > 0 else { return false }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
            guard digits() > 0 else { return false }
        }
        return index == bytes.count
    }
}
