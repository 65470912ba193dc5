/// A JSON-shaped value: what instance data, hook `with` parameters, trigger `start` data and
/// error details hold, on the server and in the client alike. YAML scalars map to it by the
/// YAML 1.2 core schema.
///
/// ```swift
/// let data: JSONValue = ["priority": "high", "attempts": 3]
/// data.objectValue?["priority"]?.stringValue   // "high"
/// data.jsonText                                // {"attempts":3,"priority":"high"}
/// ```
public enum JSONValue: Sendable, Codable, Hashable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    /// Decodes any JSON value. The probes run null, Bool, Double, String, array, object: a
    /// JSON `true` stays a Bool and never becomes the number 1.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Encodes as the plain JSON value (no wrapping).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .object(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    /// The members, when this is an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The string, when this is one.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The number, when this is one.
    public var numberValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// Compact JSON text with sorted keys, as `JSONWriter` writes it: for messages, `--data`
    /// echoes and the CLI's `--json` error objects.
    public var jsonText: String { String(decoding: JSONWriter.bytes(self), as: UTF8.self) }
}

/// Literals, so data reads as JSON does: `["who": "me", "n": 3, "gone": nil]`.
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral {
    /// `"text"` is `.string("text")`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// `3` is `.number(3)`.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    /// `0.5` is `.number(0.5)`.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// `true` is `.bool(true)`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// `["a": 1]` is `.object(["a": .number(1)])`; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    /// `[1, "a"]` is `.array([.number(1), .string("a")])`.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// `nil` is `.null`.
    public init(nilLiteral: ()) { self = .null }
}
