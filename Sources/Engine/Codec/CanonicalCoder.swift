/// A deterministic binary `Encoder`/`Decoder` pair for `Codable` values: how a
/// `WorkflowDefinition` travels inside a `registerWorkflow` command and sits in a snapshot.
///
/// The value is first built as a tree (`CanonicalNode`), then written with every keyed
/// container's members sorted by their keys' UTF-8 bytes. So the bytes depend only on the
/// value — not on `Dictionary` iteration order, the process or the platform — and the
/// encoding follows the model's own `Codable` conformance, picking up new fields without
/// changes here.
///
/// ```swift
/// let bytes = CanonicalCoder.encode(definition)
/// let copy = try CanonicalCoder.decode(WorkflowDefinition.self, from: bytes)
/// ```
public enum CanonicalCoder {
    /// The version byte leading every encoding.
    public static let formatVersion: UInt8 = 1
    /// Deepest nesting the decoder accepts; deeper input is an error, never a stack overflow.
    public static let depthMax = 200

    /// Encodes `value`. Throws only what `value`'s own `encode(to:)` throws.
    public static func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        let root = NodeBox()
        try value.encode(to: TreeEncoder(box: root, codingPath: []))
        var writer = ByteWriter(capacity: 1024)
        writer.writeByte(formatVersion)
        root.node.write(to: &writer)
        return writer.bytes
    }

    /// Decodes a `Value` from bytes written by `encode`. Malformed input throws a
    /// `DecodeError` or a `DecodingError`; it never traps.
    public static func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        var reader = ByteReader(bytes)
        let version = try reader.readByte("canonical encoding version")
        guard version == formatVersion else {
            throw DecodeError.unsupportedVersion(what: "canonical encoding", version: version, supported: formatVersion)
        }
        let node = try CanonicalNode.read(from: &reader, depth: 0)
        try reader.expectEnd("canonical encoding")
        return try Value(from: TreeDecoder(node: node, codingPath: []))
    }
}

/// The tree a value is encoded to before it is written.
indirect enum CanonicalNode: Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([CanonicalNode])
    case object([String: CanonicalNode])

    private enum Tag: UInt8 {
        case null = 0, `false`, `true`, int, uint, double, string, array, object
    }

    func write(to writer: inout ByteWriter) {
        switch self {
        case .null: writer.writeByte(Tag.null.rawValue)
        case .bool(let value): writer.writeByte(value ? Tag.true.rawValue : Tag.false.rawValue)
        case .int(let value):
            writer.writeByte(Tag.int.rawValue)
            writer.writeSigned(value)
        case .uint(let value):
            writer.writeByte(Tag.uint.rawValue)
            writer.writeVarint(value)
        case .double(let value):
            writer.writeByte(Tag.double.rawValue)
            writer.writeFixed64(value.bitPattern)
        case .string(let value):
            writer.writeByte(Tag.string.rawValue)
            writer.writeString(value)
        case .array(let values):
            writer.writeByte(Tag.array.rawValue)
            writer.writeCount(values.count)
            for value in values { value.write(to: &writer) }
        case .object(let members):
            writer.writeByte(Tag.object.rawValue)
            writer.writeCount(members.count)
            for key in members.keys.sorted(by: utf8Precedes) {
                writer.writeString(key)
                members[key]!.write(to: &writer)
            }
        }
    }

    static func read(from reader: inout ByteReader, depth: Int) throws(DecodeError) -> CanonicalNode {
        let at = reader.offset
        guard depth < CanonicalCoder.depthMax else {
            throw .invalid(what: "canonical value", offset: at, reason: "nested deeper than \(CanonicalCoder.depthMax) levels")
        }
        let tag = try reader.readByte("canonical value")
        switch Tag(rawValue: tag) {
        case .null: return .null
        case .false: return .bool(false)
        case .true: return .bool(true)
        case .int: return .int(try reader.readSigned("canonical integer"))
        case .uint: return .uint(try reader.readVarint("canonical unsigned integer"))
        case .double: return .double(Double(bitPattern: try reader.readFixed64("canonical double")))
        case .string: return .string(try reader.readString("canonical string"))
        case .array:
            let count = try reader.readCount("canonical array")
            var values: [CanonicalNode] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try read(from: &reader, depth: depth + 1)) }
            return .array(values)
        case .object:
            let count = try reader.readCount("canonical object", minBytesEach: 2)
            var members: [String: CanonicalNode] = [:]
            members.reserveCapacity(count)
            for _ in 0..<count {
                let keyAt = reader.offset
                let key = try reader.readString("canonical object key")
                let value = try read(from: &reader, depth: depth + 1)
                guard members.updateValue(value, forKey: key) == nil else {
                    throw .invalid(what: "canonical object", offset: keyAt, reason: "duplicate key '\(key)'")
                }
            }
            return .object(members)
        case nil:
            throw .unknownTag(what: "canonical value", tag: tag, offset: at)
        }
    }

    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .uint: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}

// MARK: - Encoding

/// A mutable slot in the tree being built; containers keep references to their children
/// because Codable lets a caller fill a nested container after creating it.
private final class NodeBox {
    enum Content {
        case empty
        case value(CanonicalNode)
        case keyed([String: NodeBox])
        case unkeyed([NodeBox])
    }

    var content: Content = .empty

    var node: CanonicalNode {
        switch content {
        case .empty: return .object([:])  // encode(to:) wrote nothing: an empty container
        case .value(let node): return node
        case .keyed(let members): return .object(members.mapValues(\.node))
        case .unkeyed(let values): return .array(values.map(\.node))
        }
    }

    func keyedChildren() -> [String: NodeBox] {
        if case .keyed(let members) = content { return members }
        return [:]
    }

    // Both take the collection out of `content` before adding to it, so the addition happens in
    // place: with `content` still holding it, every addition copied the whole collection
    // (O(n²) for a list of n, 0.7 s to encode a workflow of 10,000 triggers).
    func child(forKey key: String) -> NodeBox {
        var members = keyedChildren()
        if let existing = members[key] { return existing }
        content = .empty
        let box = NodeBox()
        members[key] = box
        content = .keyed(members)
        return box
    }

    func appendChild() -> NodeBox {
        var values: [NodeBox] = []
        if case .unkeyed(let existing) = content { values = existing }
        content = .empty
        let box = NodeBox()
        values.append(box)
        content = .unkeyed(values)
        return box
    }

    var unkeyedCount: Int {
        if case .unkeyed(let values) = content { return values.count }
        return 0
    }
}

private struct IndexKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ index: Int) { stringValue = "\(index)"; intValue = index }
    init?(stringValue: String) { self.stringValue = stringValue; intValue = Int(stringValue) }
    init?(intValue: Int) { self.init(intValue) }
}

private struct TreeEncoder: Encoder {
    let box: NodeBox
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .keyed = box.content {} else { box.content = .keyed([:]) }
        return KeyedEncodingContainer(KeyedTreeEncoder<Key>(box: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .unkeyed = box.content {} else { box.content = .unkeyed([]) }
        return UnkeyedTreeEncoder(box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleTreeEncoder(box: box, codingPath: codingPath)
    }
}

private func encodeValue<T: Encodable>(_ value: T, into box: NodeBox, codingPath: [any CodingKey]) throws {
    try value.encode(to: TreeEncoder(box: box, codingPath: codingPath))
}

private struct KeyedTreeEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: NodeBox
    let codingPath: [any CodingKey]

    private func set(_ node: CanonicalNode, _ key: Key) { box.child(forKey: key.stringValue).content = .value(node) }

    mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(.double(value), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(.double(Double(value)), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(.int(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(.uint(UInt64(value)), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(.uint(UInt64(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(.uint(UInt64(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(.uint(UInt64(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(.uint(value), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try encodeValue(value, into: box.child(forKey: key.stringValue), codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        TreeEncoder(box: box.child(forKey: key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        TreeEncoder(box: box.child(forKey: key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        TreeEncoder(box: box.child(forKey: "super"), codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        TreeEncoder(box: box.child(forKey: key.stringValue), codingPath: codingPath + [key])
    }
}

private struct UnkeyedTreeEncoder: UnkeyedEncodingContainer {
    let box: NodeBox
    let codingPath: [any CodingKey]
    var count: Int { box.unkeyedCount }

    private func append(_ node: CanonicalNode) { box.appendChild().content = .value(node) }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(.double(value)) }
    mutating func encode(_ value: Float) throws { append(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { append(.int(value)) }
    mutating func encode(_ value: UInt) throws { append(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { append(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt16) throws { append(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt32) throws { append(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt64) throws { append(.uint(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = codingPath + [IndexKey(count)]
        try encodeValue(value, into: box.appendChild(), codingPath: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = codingPath + [IndexKey(count)]
        return TreeEncoder(box: box.appendChild(), codingPath: path).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = codingPath + [IndexKey(count)]
        return TreeEncoder(box: box.appendChild(), codingPath: path).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let path = codingPath + [IndexKey(count)]
        return TreeEncoder(box: box.appendChild(), codingPath: path)
    }
}

private struct SingleTreeEncoder: SingleValueEncodingContainer {
    let box: NodeBox
    let codingPath: [any CodingKey]

    private func set(_ node: CanonicalNode) { box.content = .value(node) }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(.double(value)) }
    mutating func encode(_ value: Float) throws { set(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { set(.int(value)) }
    mutating func encode(_ value: UInt) throws { set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt16) throws { set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt32) throws { set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt64) throws { set(.uint(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try encodeValue(value, into: box, codingPath: codingPath)
    }
}

// MARK: - Decoding

private struct TreeDecoder: Decoder {
    let node: CanonicalNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = node else {
            throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: codingPath, debugDescription: "expected an object, found \(node.kindName)"))
        }
        return KeyedDecodingContainer(KeyedTreeDecoder<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let values) = node else {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "expected a list, found \(node.kindName)"))
        }
        return UnkeyedTreeDecoder(values: values, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleTreeDecoder(node: node, codingPath: codingPath)
    }
}

/// Converts a scalar node to the requested type, or throws `typeMismatch`; integers convert
/// between widths only when the value fits, and to `Double` only when exact.
private func scalar<T>(_ node: CanonicalNode, as type: T.Type, codingPath: [any CodingKey]) throws -> T {
    func mismatch() -> DecodingError {
        DecodingError.typeMismatch(type, .init(codingPath: codingPath, debugDescription: "expected \(type), found \(node.kindName)"))
    }
    switch type {
    case is Bool.Type:
        guard case .bool(let value) = node else { throw mismatch() }
        return value as! T
    case is String.Type:
        guard case .string(let value) = node else { throw mismatch() }
        return value as! T
    case is Double.Type, is Float.Type:
        let number: Double
        switch node {
        case .double(let value): number = value
        case .int(let value) where Double(exactly: value) != nil: number = Double(value)
        case .uint(let value) where Double(exactly: value) != nil: number = Double(value)
        default: throw mismatch()
        }
        return (type == Float.self ? Float(number) as! T : number as! T)
    default:
        throw mismatch()
    }
}

private func integer<T: FixedWidthInteger>(_ node: CanonicalNode, as type: T.Type, codingPath: [any CodingKey]) throws -> T {
    let value: T?
    switch node {
    case .int(let raw): value = T(exactly: raw)
    case .uint(let raw): value = T(exactly: raw)
    case .double(let raw): value = raw.isFinite ? T(exactly: raw) : nil
    default: value = nil
    }
    guard let value else {
        throw DecodingError.typeMismatch(type, .init(codingPath: codingPath, debugDescription: "expected \(type), found \(node.kindName)"))
    }
    return value
}

private func decodeNode<T: Decodable>(_ type: T.Type, _ node: CanonicalNode, codingPath: [any CodingKey]) throws -> T {
    try T(from: TreeDecoder(node: node, codingPath: codingPath))
}

private struct KeyedTreeDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: CanonicalNode]
    let codingPath: [any CodingKey]

    var allKeys: [Key] {
        members.keys.sorted(by: utf8Precedes).compactMap { Key(stringValue: $0) }
    }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func node(_ key: Key) throws -> CanonicalNode {
        guard let node = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for '\(key.stringValue)'"))
        }
        return node
    }

    func decodeNil(forKey key: Key) throws -> Bool { try node(key) == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try scalar(node(key), as: type, codingPath: codingPath + [key]) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try scalar(node(key), as: type, codingPath: codingPath + [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try scalar(node(key), as: type, codingPath: codingPath + [key]) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try scalar(node(key), as: type, codingPath: codingPath + [key]) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(node(key), as: type, codingPath: codingPath + [key]) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(node(key), as: type, codingPath: codingPath + [key]) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(node(key), as: type, codingPath: codingPath + [key]) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(node(key), as: type, codingPath: codingPath + [key]) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(node(key), as: type, codingPath: codingPath + [key]) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(node(key), as: type, codingPath: codingPath + [key]) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(node(key), as: type, codingPath: codingPath + [key]) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(node(key), as: type, codingPath: codingPath + [key]) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(node(key), as: type, codingPath: codingPath + [key]) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(node(key), as: type, codingPath: codingPath + [key]) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeNode(type, node(key), codingPath: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try TreeDecoder(node: node(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TreeDecoder(node: node(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        TreeDecoder(node: members["super"] ?? .null, codingPath: codingPath)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        TreeDecoder(node: members[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }
}

private struct UnkeyedTreeDecoder: UnkeyedDecodingContainer {
    let values: [CanonicalNode]
    let codingPath: [any CodingKey]
    private(set) var currentIndex = 0

    init(values: [CanonicalNode], codingPath: [any CodingKey]) {
        self.values = values
        self.codingPath = codingPath
    }

    var count: Int? { values.count }
    var isAtEnd: Bool { currentIndex >= values.count }

    private mutating func next<T>(_ type: T.Type) throws -> (CanonicalNode, [any CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath, debugDescription: "list has only \(values.count) items"))
        }
        defer { currentIndex += 1 }
        return (values[currentIndex], codingPath + [IndexKey(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        if values[currentIndex] == .null {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { let (n, p) = try next(type); return try scalar(n, as: type, codingPath: p) }
    mutating func decode(_ type: String.Type) throws -> String { let (n, p) = try next(type); return try scalar(n, as: type, codingPath: p) }
    mutating func decode(_ type: Double.Type) throws -> Double { let (n, p) = try next(type); return try scalar(n, as: type, codingPath: p) }
    mutating func decode(_ type: Float.Type) throws -> Float { let (n, p) = try next(type); return try scalar(n, as: type, codingPath: p) }
    mutating func decode(_ type: Int.Type) throws -> Int { let (n, p) = try next(type); return try integer(n, as: type, codingPath: p) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { let (n, p) = try next(type); return try integer(n, as: type, codingPath: p) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { let (n, p) = try next(type); return try integer(n, as: type, codingPath: p) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { let (n, p) = try next(type); return try integer(n, as: type, codingPath: p) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { let (n, p) = try next(type); return try integer(n, as: type, codingPath: p) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { let (n, p) = try next(type); return try integer(n, as: type, codingPath: p) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { let (n, p) = try next(type); return try integer(n, as: type, codingPath: p) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { let (n, p) = try next(type); return try integer(n, as: type, codingPath: p) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { let (n, p) = try next(type); return try integer(n, as: type, codingPath: p) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { let (n, p) = try next(type); return try integer(n, as: type, codingPath: p) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (node, path) = try next(type)
        return try decodeNode(type, node, codingPath: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (node, path) = try next([String: Any].self)
        return try TreeDecoder(node: node, codingPath: path).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (node, path) = try next([Any].self)
        return try TreeDecoder(node: node, codingPath: path).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (node, path) = try next(Any.self)
        return TreeDecoder(node: node, codingPath: path)
    }
}

private struct SingleTreeDecoder: SingleValueDecodingContainer {
    let node: CanonicalNode
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { node == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try scalar(node, as: type, codingPath: codingPath) }
    func decode(_ type: String.Type) throws -> String { try scalar(node, as: type, codingPath: codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try scalar(node, as: type, codingPath: codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try scalar(node, as: type, codingPath: codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try integer(node, as: type, codingPath: codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(node, as: type, codingPath: codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(node, as: type, codingPath: codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(node, as: type, codingPath: codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(node, as: type, codingPath: codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(node, as: type, codingPath: codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(node, as: type, codingPath: codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(node, as: type, codingPath: codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(node, as: type, codingPath: codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(node, as: type, codingPath: codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decodeNode(type, node, codingPath: codingPath)
    }
}
