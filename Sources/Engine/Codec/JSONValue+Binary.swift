import Workflow

/// The engine's binary form of `JSONValue`: one tag byte, then the payload.
///
/// | tag | value |
/// |---|---|
/// | 0 | null |
/// | 1 / 2 | false / true |
/// | 3 | number: IEEE 754 binary64 bits, 8 bytes little-endian (finite only) |
/// | 4 | string: varint length, UTF-8 |
/// | 5 | array: varint count, values |
/// | 6 | object: varint count, then (key string, value) pairs sorted by the keys' UTF-8 bytes |
///
/// Object members are written in sorted order, so equal values give equal bytes on every
/// replica whatever the order of a `Dictionary`. Decoding rejects duplicate keys, non-finite
/// numbers and nesting deeper than `EngineLimits.jsonDecodeDepthMax` (apply enforces the
/// stricter `EngineLimits.jsonDepthMax` as a rule, with a typed rejection).
extension JSONValue {
    private enum Tag: UInt8 {
        case null = 0, `false`, `true`, number, string, array, object
    }

    func write(to writer: inout ByteWriter) {
        switch self {
        case .null: writer.writeByte(Tag.null.rawValue)
        case .bool(let value): writer.writeByte(value ? Tag.true.rawValue : Tag.false.rawValue)
        case .number(let value):
            writer.writeByte(Tag.number.rawValue)
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
            JSONValue.writeMembers(members, to: &writer)
        }
    }

    static func writeMembers(_ members: [String: JSONValue], to writer: inout ByteWriter) {
        writer.writeCount(members.count)
        for key in members.keys.sorted(by: utf8Precedes) {
            writer.writeString(key)
            members[key]!.write(to: &writer)
        }
    }

    static func read(from reader: inout ByteReader, depth: Int = 0) throws(DecodeError) -> JSONValue {
        let at = reader.offset
        guard depth < EngineLimits.jsonDecodeDepthMax else {
            throw .invalid(what: "JSON value", offset: at, reason: "nested deeper than \(EngineLimits.jsonDecodeDepthMax) levels")
        }
        let tag = try reader.readByte("JSON value")
        switch Tag(rawValue: tag) {
        case .null: return .null
        case .false: return .bool(false)
        case .true: return .bool(true)
        case .number:
            let value = Double(bitPattern: try reader.readFixed64("JSON number"))
            guard value.isFinite else {
                throw .invalid(what: "JSON number", offset: at, reason: "not a finite number")
            }
            return .number(value)
        case .string: return .string(try reader.readString("JSON string"))
        case .array:
            let count = try reader.readCount("JSON array")
            var values: [JSONValue] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try read(from: &reader, depth: depth + 1)) }
            return .array(values)
        case .object:
            return .object(try readMembers(from: &reader, depth: depth + 1))
        case nil:
            throw .unknownTag(what: "JSON value", tag: tag, offset: at)
        }
    }

    static func readMembers(from reader: inout ByteReader, depth: Int = 1) throws(DecodeError) -> [String: JSONValue] {
        let count = try reader.readCount("JSON object", minBytesEach: 2)
        var members: [String: JSONValue] = [:]
        members.reserveCapacity(count)
        for _ in 0..<count {
            let at = reader.offset
            let key = try reader.readString("JSON object key")
            let value = try read(from: &reader, depth: depth)
            guard members.updateValue(value, forKey: key) == nil else {
                throw .invalid(what: "JSON object", offset: at, reason: "duplicate key '\(key)'")
            }
        }
        return members
    }
}

/// Orders strings by their UTF-8 bytes: the one order every encoding here uses, since it is
/// the same on every platform and needs no Unicode tables.
func utf8Precedes(_ lhs: String, _ rhs: String) -> Bool {
    lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
}

func varintByteCount(_ value: Int) -> Int {
    var rest = UInt64(value)
    var count = 1
    while rest >= 0x80 {
        rest >>= 7
        count += 1
    }
    return count
}
