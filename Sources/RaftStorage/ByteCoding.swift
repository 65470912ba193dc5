// Little-endian fixed-width integers in byte buffers: the only encoding the WAL and the
// snapshot files use.

extension Array where Element == UInt8 {
    @inline(__always) mutating func appendLE(_ value: UInt64) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    @inline(__always) mutating func appendLE(_ value: UInt32) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    @inline(__always) mutating func appendLE(_ value: UInt16) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    @inline(__always) mutating func storeLE(_ value: UInt32, at offset: Int) {
        withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self) }
    }
}

extension UnsafeRawBufferPointer {
    @inline(__always) func le64(_ offset: Int) -> UInt64 {
        UInt64(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always) func le32(_ offset: Int) -> UInt32 {
        UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always) func le16(_ offset: Int) -> UInt16 {
        UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// True when every byte in `range` is zero.
    func isZero(_ range: Range<Int>) -> Bool {
        var i = range.lowerBound
        while i < range.upperBound && (i & 7) != 0 {
            if self[i] != 0 { return false }
            i += 1
        }
        while i + 8 <= range.upperBound {
            if loadUnaligned(fromByteOffset: i, as: UInt64.self) != 0 { return false }
            i += 8
        }
        while i < range.upperBound {
            if self[i] != 0 { return false }
            i += 1
        }
        return true
    }
}

/// Zero-padded lower-case hexadecimal, 16 digits: file names sort in numeric order.
func hex16(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}

func parseHex16(_ text: Substring) -> UInt64? {
    guard text.count == 16 else { return nil }
    return UInt64(text, radix: 16)
}
