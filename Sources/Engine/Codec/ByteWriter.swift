/// Appends the primitives of the engine's binary encodings (commands, outcomes, snapshots)
/// to a byte buffer.
///
/// Unsigned integers are LEB128 varints, signed ones zigzag varints, strings and byte
/// blobs a varint length followed by the bytes. The output depends only on the values
/// written, never on the platform or the process, so two replicas produce identical bytes.
struct ByteWriter {
    private(set) var bytes: [UInt8]

    init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func writeByte(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func writeBool(_ value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func writeCount(_ value: Int) {
        precondition(value >= 0, "negative count")
        writeVarint(UInt64(value))
    }

    mutating func writeSigned(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func writeFixed64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    mutating func writeString(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            writeCount(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func writeOptionalString(_ value: String?) {
        if let value {
            bytes.append(1)
            writeString(value)
        } else {
            bytes.append(0)
        }
    }

    mutating func writeBlob(_ value: [UInt8]) {
        writeCount(value.count)
        bytes.append(contentsOf: value)
    }

    mutating func writeStrings(_ values: [String]) {
        writeCount(values.count)
        for value in values { writeString(value) }
    }
}
