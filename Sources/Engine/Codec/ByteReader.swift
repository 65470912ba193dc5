/// Reads what `ByteWriter` wrote, checking every length against the bytes that remain so
/// that garbage input gives a `DecodeError` and never a trap or a huge allocation.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset: Int
    private let end: Int

    init(_ bytes: [UInt8], offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    var remaining: Int { end - offset }
    var isAtEnd: Bool { offset >= end }

    mutating func readByte(_ what: @autoclosure () -> String) throws(DecodeError) -> UInt8 {
        guard offset < end else { throw .truncated(what: what(), offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readBool(_ what: @autoclosure () -> String) throws(DecodeError) -> Bool {
        let at = offset
        switch try readByte(what()) {
        case 0: return false
        case 1: return true
        case let other: throw .invalid(what: what(), offset: at, reason: "expected 0 or 1, found \(other)")
        }
    }

    mutating func readVarint(_ what: @autoclosure () -> String) throws(DecodeError) -> UInt64 {
        let at = offset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte(what())
            if shift == 63, byte > 1 {
                throw .invalid(what: what(), offset: at, reason: "varint overflows 64 bits")
            }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw .invalid(what: what(), offset: at, reason: "varint longer than 10 bytes") }
        }
    }

    mutating func readSigned(_ what: @autoclosure () -> String) throws(DecodeError) -> Int64 {
        let raw = try readVarint(what())
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// A count or length: at most `max`, and — since every counted item takes at least
    /// `minBytesEach` bytes — no more than the remaining input can hold.
    mutating func readCount(_ what: @autoclosure () -> String, max: Int = Int(Int32.max),
                            minBytesEach: Int = 1) throws(DecodeError) -> Int {
        let at = offset
        let raw = try readVarint(what())
        guard raw <= UInt64(max) else {
            throw .invalid(what: what(), offset: at, reason: "count \(raw) exceeds the limit \(max)")
        }
        let count = Int(raw)
        let (bytesNeeded, overflow) = count.multipliedReportingOverflow(by: Swift.max(minBytesEach, 1))
        guard !overflow, bytesNeeded <= remaining else { throw .truncated(what: what(), offset: at) }
        return count
    }

    /// A small non-negative integer (version numbers, positions) that fits an `Int`.
    mutating func readInt(_ what: @autoclosure () -> String, max: Int = Int(Int32.max)) throws(DecodeError) -> Int {
        let at = offset
        let raw = try readVarint(what())
        guard raw <= UInt64(max) else {
            throw .invalid(what: what(), offset: at, reason: "value \(raw) exceeds \(max)")
        }
        return Int(raw)
    }

    mutating func readFixed64(_ what: @autoclosure () -> String) throws(DecodeError) -> UInt64 {
        guard remaining >= 8 else { throw .truncated(what: what(), offset: offset) }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[offset + index]) << UInt64(index * 8) }
        offset += 8
        return value
    }

    mutating func readString(_ what: @autoclosure () -> String, maxBytes: Int = Int(Int32.max)) throws(DecodeError) -> String {
        let at = offset
        let count = try readCount(what(), max: maxBytes)
        let slice = bytes[offset..<(offset + count)]
        // ASCII (ids, names) needs no validation and takes the fast path; anything else is
        // validated by the standard library.
        let text: String
        if slice.allSatisfy({ $0 < 0x80 }) {
            text = String(decoding: slice, as: UTF8.self)
        } else if let validated = String(validating: slice, as: UTF8.self) {
            text = validated
        } else {
            throw .invalid(what: what(), offset: at, reason: "not valid UTF-8")
        }
        offset += count
        return text
    }

    mutating func readOptionalString(_ what: @autoclosure () -> String, maxBytes: Int = Int(Int32.max)) throws(DecodeError) -> String? {
        try readBool(what()) ? try readString(what(), maxBytes: maxBytes) : nil
    }

    mutating func readBlob(_ what: @autoclosure () -> String) throws(DecodeError) -> [UInt8] {
        let count = try readCount(what())
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func readStrings(_ what: @autoclosure () -> String, maxCount: Int = Int(Int32.max)) throws(DecodeError) -> [String] {
        let count = try readCount(what(), max: maxCount)
        var values: [String] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try readString(what())) }
        return values
    }

    /// Throws unless every byte was consumed: trailing garbage is corruption, not padding.
    func expectEnd(_ what: String) throws(DecodeError) {
        guard offset == end else {
            throw .invalid(what: what, offset: offset, reason: "\(end - offset) unexpected trailing bytes")
        }
    }
}
