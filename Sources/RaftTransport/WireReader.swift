import NIOCore
import Raft

/// Reads the fields of one frame body. Every read checks the bytes that remain first, so
/// a forged length or count fails with a ``WireError`` before anything is allocated.
struct WireReader {
    private var buffer: ByteBuffer
    /// Stream offset of `buffer`'s first byte, for error positions.
    private let baseOffset: Int
    private let startIndex: Int

    init(_ buffer: ByteBuffer, baseOffset: Int) {
        self.buffer = buffer
        self.baseOffset = baseOffset
        self.startIndex = buffer.readerIndex
    }

    var remaining: Int { buffer.readableBytes }
    var offset: Int { baseOffset + buffer.readerIndex - startIndex }

    private func need(_ bytes: Int, _ field: String) throws(WireError) {
        if remaining < bytes { throw WireError(.truncated(field: field, neededBytes: bytes, remainingBytes: remaining), at: offset) }
    }

    mutating func readU8(_ field: String) throws(WireError) -> UInt8 {
        try need(1, field)
        return buffer.readInteger(as: UInt8.self)!
    }

    mutating func readU16(_ field: String) throws(WireError) -> UInt16 {
        try need(2, field)
        return buffer.readInteger(endianness: .big, as: UInt16.self)!
    }

    mutating func readU32(_ field: String) throws(WireError) -> UInt32 {
        try need(4, field)
        return buffer.readInteger(endianness: .big, as: UInt32.self)!
    }

    mutating func readU64(_ field: String) throws(WireError) -> UInt64 {
        try need(8, field)
        return buffer.readInteger(endianness: .big, as: UInt64.self)!
    }

    mutating func readBool(_ field: String) throws(WireError) -> Bool {
        let at = offset
        switch try readU8(field) {
        case 0: return false
        case 1: return true
        case let value: throw WireError(.invalidBool(field: field, value: value), at: at)
        }
    }

    mutating func readNodeID(_ field: String) throws(WireError) -> NodeID {
        let at = offset
        let id = try readU64(field)
        if id == 0 { throw WireError(.zeroNodeID(field: field), at: at) }
        return id
    }

    /// A non-negative `Int` stored as UInt64.
    mutating func readInt(_ field: String) throws(WireError) -> Int {
        let at = offset
        let value = try readU64(field)
        guard value <= UInt64(Int.max) else { throw WireError(.valueOutOfRange(field: field, value: value), at: at) }
        return Int(value)
    }

    /// A UInt32 element count, checked against the minimum bytes its elements need.
    mutating func readCount(_ field: String, minimumBytesEach: Int) throws(WireError) -> Int {
        let at = offset
        let count = UInt64(try readU32(field))
        let minimum = count * UInt64(minimumBytesEach)  // ≤ 2^32 · small: cannot overflow
        if minimum > UInt64(remaining) {
            throw WireError(.countExceedsRemaining(field: field, count: count, minimumBytes: minimum, remainingBytes: remaining), at: at)
        }
        return Int(count)
    }

    /// UInt32 length + bytes.
    mutating func readBytes(_ field: String) throws(WireError) -> [UInt8] {
        let count = try readCount(field, minimumBytesEach: 1)
        return buffer.readBytes(length: count)!
    }

    /// UInt16 length + UTF-8.
    mutating func readText(_ field: String, maxBytes: Int, allowEmpty: Bool) throws(WireError) -> String {
        let at = offset
        let length = Int(try readU16(field))
        if length > maxBytes { throw WireError(.valueOutOfRange(field: field + ".length", value: UInt64(length)), at: at) }
        if length > remaining {
            throw WireError(.countExceedsRemaining(field: field, count: UInt64(length), minimumBytes: UInt64(length), remainingBytes: remaining), at: at)
        }
        let bytes = buffer.readBytes(length: length)!
        guard allowEmpty || !bytes.isEmpty, let text = String(validating: bytes, as: UTF8.self) else {
            throw WireError(.invalidText(field: field), at: at)
        }
        return text
    }

    /// UInt32 count + node ids: non-zero, no repeats, none of `excluding`.
    mutating func readMembers(_ field: String, excluding: Set<NodeID>) throws(WireError) -> Set<NodeID> {
        let count = try readCount(field, minimumBytesEach: 8)
        var members = Set<NodeID>(minimumCapacity: count)
        for _ in 0..<count {
            let at = offset
            let id = try readNodeID(field)
            guard !excluding.contains(id), members.insert(id).inserted else {
                throw WireError(.duplicateMember(field: field, node: id), at: at)
            }
        }
        return members
    }
}
