/// The on-disk format of WAL segments, version 1 (docs/storage.md, "Segment files").
///
/// A segment is a 40-byte header followed by records, each aligned to 8 bytes:
///
/// ```
/// record: crc32c u32 | bodyLength u32 | type u8 | flags u8 | reserved u16 = 0 | body | zero padding to 8
///         the CRC covers bytes 4 ..< 12 + bodyLength (length, type, flags, reserved, body)
/// ```
///
/// The records written by one `save` form a batch: the first has flag `batchStart`, the
/// last `batchEnd` (a one-record batch has both). Recovery applies a batch only when its
/// end record is intact, which makes every save atomic.
enum WALFormat {
    static let segmentMagic: [UInt8] = Array("ORCH-WAL".utf8)
    static let formatVersion: UInt32 = 1
    static let segmentHeaderBytes = 40
    static let recordHeaderBytes = 12
    /// index u64, term u64, kind u8.
    static let entryBodyFixedBytes = 17
    static let hardStateBodyBytes = 24
    /// firstIndex, compactIndex, compactTerm, hard state (3 x u64), mode u8.
    static let segmentStartBodyBytes = 49
    static let compactionBodyBytes = 16

    static let flagBatchStart: UInt8 = 1
    static let flagBatchEnd: UInt8 = 2

    enum RecordType: UInt8 {
        /// A log entry.
        case entry = 1
        /// The hard state from this point on.
        case hardState = 2
        /// First record of every segment: where the log stands when the segment begins.
        case segmentStart = 3
        /// Entries up to `compactIndex` are discarded.
        case compaction = 4
    }

    /// How a segment continues the log.
    enum SegmentMode: UInt8 {
        /// The next entry has index `firstIndex == previous last + 1`.
        case continuation = 0
        /// The log is dropped (snapshot installed): empty, starting at `firstIndex`.
        case reset = 1
    }

    @inline(__always) static func align8(_ n: Int) -> Int { (n + 7) & ~7 }

    static func segmentFileName(seq: UInt64, firstIndex: UInt64) -> String {
        "\(hex16(seq))-\(hex16(firstIndex)).wal"
    }

    static func parseSegmentFileName(_ name: String) -> (seq: UInt64, firstIndex: UInt64)? {
        guard name.count == 37, name.hasSuffix(".wal") else { return nil }
        let parts = name.dropLast(4).split(separator: "-")
        guard parts.count == 2, let seq = parseHex16(parts[0]), let first = parseHex16(parts[1]) else { return nil }
        return (seq, first)
    }

    static func encodeSegmentHeader(seq: UInt64, firstIndex: UInt64) -> [UInt8] {
        var bytes = segmentMagic
        bytes.appendLE(formatVersion)
        bytes.appendLE(UInt32(0))
        bytes.appendLE(seq)
        bytes.appendLE(firstIndex)
        bytes.appendLE(bytes.withUnsafeBytes { CRC32C.checksum($0) })
        bytes.appendLE(UInt32(0))
        precondition(bytes.count == segmentHeaderBytes)
        return bytes
    }

    enum HeaderCheck {
        case valid(seq: UInt64, firstIndex: UInt64)
        case invalid(String)
        case unsupportedVersion(UInt32)
    }

    static func decodeSegmentHeader(_ buffer: UnsafeRawBufferPointer) -> HeaderCheck {
        guard buffer.count >= segmentHeaderBytes else { return .invalid("file is \(buffer.count) bytes, shorter than the header") }
        guard buffer.isZero(0..<segmentHeaderBytes) == false else { return .invalid("header is all zeros") }
        guard Array(buffer[0..<8]) == segmentMagic else { return .invalid("bad magic (not an orchestrator WAL segment)") }
        guard buffer.le32(32) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[0..<32])) else {
            return .invalid("header checksum mismatch")
        }
        let version = buffer.le32(8)
        guard version == formatVersion else { return .unsupportedVersion(version) }
        return .valid(seq: buffer.le64(16), firstIndex: buffer.le64(24))
    }

    /// Outcome of looking at the bytes at one offset.
    enum RecordCheck {
        /// An intact record: its type, flags, where its body is, and its total size.
        case valid(type: RecordType, flags: UInt8, body: Range<Int>, totalBytes: Int)
        /// Nothing written here: the record header is all zeros.
        case zero
        /// Not an intact record.
        case invalid(String)
    }

    /// Checks the record at `offset`; `end` is where the file's bytes end.
    @inline(__always)
    static func checkRecord(_ buffer: UnsafeRawBufferPointer, at offset: Int, end: Int, bodyBytesMax: Int) -> RecordCheck {
        guard end - offset >= recordHeaderBytes else {
            return buffer.isZero(offset..<end) ? .zero : .invalid("partial record header")
        }
        let length = Int(buffer.le32(offset + 4))
        let typeByte = buffer[offset + 8]
        let flags = buffer[offset + 9]
        if typeByte == 0 && length == 0 && buffer.le32(offset) == 0 && buffer.le16(offset + 10) == 0 && flags == 0 {
            return .zero
        }
        guard let type = RecordType(rawValue: typeByte) else { return .invalid("unknown record type \(typeByte)") }
        guard flags & ~(flagBatchStart | flagBatchEnd) == 0, buffer.le16(offset + 10) == 0 else {
            return .invalid("bad flags")
        }
        guard length <= bodyBytesMax else { return .invalid("record length \(length) exceeds the limit \(bodyBytesMax)") }
        let total = align8(recordHeaderBytes + length)
        guard total <= end - offset else { return .invalid("record of \(total) bytes runs past the end of the file") }
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[(offset + 4)..<(offset + recordHeaderBytes + length)]))
        guard crc == buffer.le32(offset) else { return .invalid("checksum mismatch") }
        let bodyStart = offset + recordHeaderBytes
        let expected: Int? = switch type {
        case .entry: nil
        case .hardState: hardStateBodyBytes
        case .segmentStart: segmentStartBodyBytes
        case .compaction: compactionBodyBytes
        }
        if let expected, length != expected { return .invalid("\(type) record body of \(length) bytes, expected \(expected)") }
        if type == .entry && length < entryBodyFixedBytes { return .invalid("entry record body of \(length) bytes is too short") }
        return .valid(type: type, flags: flags, body: bodyStart..<(bodyStart + length), totalBytes: total)
    }
}

/// Encodes the records of one `save` (one batch) into a reusable buffer.
struct BatchEncoder {
    private(set) var bytes: [UInt8] = []
    private(set) var recordStarts: [Int] = []

    var isEmpty: Bool { recordStarts.isEmpty }

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        recordStarts.removeAll(keepingCapacity: true)
    }

    private mutating func beginRecord(_ type: WALFormat.RecordType) {
        recordStarts.append(bytes.count)
        bytes.appendLE(UInt32(0))  // crc, filled by finish()
        bytes.appendLE(UInt32(0))  // length, filled by endRecord()
        bytes.append(type.rawValue)
        bytes.append(0)  // flags, filled by finish()
        bytes.appendLE(UInt16(0))
    }

    private mutating func endRecord() {
        let start = recordStarts[recordStarts.count - 1]
        let length = bytes.count - start - WALFormat.recordHeaderBytes
        bytes.storeLE(UInt32(length), at: start + 4)
        let padding = WALFormat.align8(bytes.count) - bytes.count
        if padding > 0 { bytes.append(contentsOf: repeatElement(0, count: padding)) }
    }

    mutating func append(entry: StoredEntry) {
        beginRecord(.entry)
        bytes.appendLE(entry.index)
        bytes.appendLE(entry.term)
        bytes.append(entry.kind)
        bytes.append(contentsOf: entry.payload)
        endRecord()
    }

    /// Appends one entry record per entry: the fast path of `save`, sizing the buffer once
    /// and writing through one pointer instead of growing the array per field.
    mutating func append(entries: [StoredEntry]) {
        var total = 0
        for entry in entries { total += WALFormat.align8(WALFormat.recordHeaderBytes + WALFormat.entryBodyFixedBytes + entry.payload.count) }
        var offset = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: total))
        recordStarts.reserveCapacity(recordStarts.count + entries.count)
        bytes.withUnsafeMutableBytes { raw in
            for entry in entries {
                let length = WALFormat.entryBodyFixedBytes + entry.payload.count
                recordStarts.append(offset)
                raw.storeBytes(of: UInt32(length).littleEndian, toByteOffset: offset + 4, as: UInt32.self)
                raw[offset + 8] = WALFormat.RecordType.entry.rawValue
                let body = offset + WALFormat.recordHeaderBytes
                raw.storeBytes(of: entry.index.littleEndian, toByteOffset: body, as: UInt64.self)
                raw.storeBytes(of: entry.term.littleEndian, toByteOffset: body + 8, as: UInt64.self)
                raw[body + 16] = entry.kind
                if !entry.payload.isEmpty {
                    entry.payload.withUnsafeBytes { payload in
                        (raw.baseAddress! + body + WALFormat.entryBodyFixedBytes).copyMemory(from: payload.baseAddress!, byteCount: payload.count)
                    }
                }
                offset += WALFormat.align8(WALFormat.recordHeaderBytes + length)
            }
        }
    }

    mutating func append(hardState: StoredHardState) {
        beginRecord(.hardState)
        bytes.appendLE(hardState.term)
        bytes.appendLE(hardState.vote)
        bytes.appendLE(hardState.commit)
        endRecord()
    }

    mutating func appendSegmentStart(
        firstIndex: UInt64, compactIndex: UInt64, compactTerm: UInt64, hardState: StoredHardState, mode: WALFormat.SegmentMode
    ) {
        beginRecord(.segmentStart)
        bytes.appendLE(firstIndex)
        bytes.appendLE(compactIndex)
        bytes.appendLE(compactTerm)
        bytes.appendLE(hardState.term)
        bytes.appendLE(hardState.vote)
        bytes.appendLE(hardState.commit)
        bytes.append(mode.rawValue)
        endRecord()
    }

    mutating func appendCompaction(index: UInt64, term: UInt64) {
        beginRecord(.compaction)
        bytes.appendLE(index)
        bytes.appendLE(term)
        endRecord()
    }

    /// Marks the batch boundaries and computes every record's checksum. Records appended
    /// since the last `finish()` (or `reset()`) form one batch.
    mutating func finish(batchFrom firstRecord: Int = 0) {
        precondition(recordStarts.count > firstRecord, "empty batch")
        bytes[recordStarts[firstRecord] + 9] |= WALFormat.flagBatchStart
        bytes[recordStarts[recordStarts.count - 1] + 9] |= WALFormat.flagBatchEnd
        bytes.withUnsafeMutableBytes { raw in
            for i in firstRecord..<recordStarts.count {
                let start = recordStarts[i]
                let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4, as: UInt32.self)))
                let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[(start + 4)..<(start + WALFormat.recordHeaderBytes + length)]))
                raw.storeBytes(of: crc.littleEndian, toByteOffset: start, as: UInt32.self)
            }
        }
    }

    var recordCount: Int { recordStarts.count }

    /// Appends bytes that are not a record (a segment header) before the first record.
    mutating func appendRaw(_ raw: [UInt8]) {
        precondition(WALFormat.align8(raw.count) == raw.count)
        bytes.append(contentsOf: raw)
    }
}

/// Decoded record bodies.
extension UnsafeRawBufferPointer {
    func decodeHardState(at offset: Int) -> StoredHardState {
        StoredHardState(term: le64(offset), vote: le64(offset + 8), commit: le64(offset + 16))
    }
}
