/// The rules of one zone read from a TZif file (RFC 8536, versions 1–4): explicit transitions,
/// and the POSIX TZ footer for every time after the last one. Debian ships files whose
/// table may end decades before 2037 (and "slim" files end at the last rule change), so
/// the footer is not optional.
struct TZif: Sendable, Hashable {
    /// Transition instants, seconds since the epoch, ascending.
    var transitionSeconds: [Int64]
    /// The offset (seconds east of UTC) from each transition on.
    var offsetsAfter: [Int]
    /// The offset before the first transition (time type 0, RFC 8536 §3.2).
    var initialOffsetSeconds: Int
    /// The rule after the last transition; nil for version 1 files or an empty footer.
    var footer: PosixTZ?

    /// The longest TZif file read (the largest real ones are under 4 KiB).
    static let fileBytesMax = 256 * 1024

    /// A zone with one offset forever.
    init(fixedOffsetSeconds: Int) {
        transitionSeconds = []
        offsetsAfter = []
        initialOffsetSeconds = fixedOffsetSeconds
        footer = nil
    }

    /// Parses the bytes of a TZif file; the message says what is wrong.
    init(bytes: [UInt8]) throws(TZifProblem) {
        var reader = ByteReader(bytes: bytes)
        let v1 = try Self.header(&reader)
        var times = try Self.body(&reader, v1, timeBytes: 4)
        if v1.version >= 2 {
            let v2 = try Self.header(&reader)
            times = try Self.body(&reader, v2, timeBytes: 8)
            // Footer: "\n<TZ string>\n".
            guard reader.remaining > 0 else {
                transitionSeconds = times.transitions; offsetsAfter = times.offsets
                initialOffsetSeconds = times.initial; footer = nil
                return
            }
            guard try reader.byte() == 0x0A else { throw TZifProblem("footer does not start with a newline") }
            var text: [UInt8] = []
            while true {
                guard reader.remaining > 0 else { throw TZifProblem("footer does not end with a newline") }
                let b = try reader.byte()
                if b == 0x0A { break }
                text.append(b)
            }
            if text.isEmpty {
                footer = nil
            } else {
                guard let rule = PosixTZ(String(decoding: text, as: UTF8.self)) else {
                    throw TZifProblem("footer '\(String(decoding: text, as: UTF8.self))' is not a POSIX TZ string")
                }
                footer = rule
            }
        } else {
            footer = nil
        }
        transitionSeconds = times.transitions
        offsetsAfter = times.offsets
        initialOffsetSeconds = times.initial
    }

    struct Header {
        var version: Int
        var isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt: Int
    }

    static func header(_ reader: inout ByteReader) throws(TZifProblem) -> Header {
        guard try reader.bytes(4) == Array("TZif".utf8) else { throw TZifProblem("it does not start with 'TZif'") }
        let versionByte = try reader.byte()
        let version: Int
        switch versionByte {
        case 0: version = 1
        case UInt8(ascii: "2"), UInt8(ascii: "3"), UInt8(ascii: "4"): version = Int(versionByte - 48)
        default: throw TZifProblem("unknown version byte \(versionByte)")
        }
        _ = try reader.bytes(15)
        var counts: [Int] = []
        for _ in 0..<6 {
            let n = try reader.uint32()
            guard n <= 100_000 else { throw TZifProblem("a count of \(n) is implausible") }
            counts.append(Int(n))
        }
        let header = Header(version: version, isutcnt: counts[0], isstdcnt: counts[1], leapcnt: counts[2],
                            timecnt: counts[3], typecnt: counts[4], charcnt: counts[5])
        guard header.typecnt >= 1 else { throw TZifProblem("it has no local time types") }
        return header
    }

    static func body(_ reader: inout ByteReader, _ h: Header, timeBytes: Int) throws(TZifProblem)
        -> (transitions: [Int64], offsets: [Int], initial: Int) {
        var transitions: [Int64] = []
        transitions.reserveCapacity(h.timecnt)
        for _ in 0..<h.timecnt {
            transitions.append(timeBytes == 4 ? Int64(Int32(bitPattern: try reader.uint32())) : try reader.int64())
        }
        var typeIndices: [Int] = []
        for _ in 0..<h.timecnt {
            let index = Int(try reader.byte())
            guard index < h.typecnt else { throw TZifProblem("a transition names time type \(index) of \(h.typecnt)") }
            typeIndices.append(index)
        }
        var typeOffsets: [Int] = []
        for _ in 0..<h.typecnt {
            let utoff = Int(Int32(bitPattern: try reader.uint32()))
            guard utoff > -25 * 3600 && utoff < 26 * 3600 else { throw TZifProblem("a UTC offset of \(utoff)s is out of range") }
            typeOffsets.append(utoff)
            _ = try reader.bytes(2)  // isdst, desigidx
        }
        _ = try reader.bytes(h.charcnt + h.leapcnt * (timeBytes + 4) + h.isstdcnt + h.isutcnt)
        for i in transitions.indices.dropFirst() where transitions[i] <= transitions[i - 1] {
            throw TZifProblem("transition times are not ascending")
        }
        return (transitions, typeIndices.map { typeOffsets[$0] }, typeOffsets[0])
    }

    /// The period containing `seconds`.
    func period(at seconds: Int64) -> ZonePeriod {
        guard let last = transitionSeconds.last, seconds < last else {
            let lastStart = transitionSeconds.last ?? .min
            guard let footer else {
                return ZonePeriod(offsetSeconds: offsetsAfter.last ?? initialOffsetSeconds, startSeconds: lastStart, endSeconds: .max)
            }
            var period = footer.period(at: seconds)
            if period.startSeconds < lastStart { period.startSeconds = lastStart }
            return period
        }
        // The last transition at or before `seconds` (binary search).
        var low = 0
        var high = transitionSeconds.count  // transitionSeconds[high] > seconds
        while low < high {
            let mid = (low + high) / 2
            if transitionSeconds[mid] <= seconds { low = mid + 1 } else { high = mid }
        }
        let index = low - 1
        return ZonePeriod(offsetSeconds: index < 0 ? initialOffsetSeconds : offsetsAfter[index],
                          startSeconds: index < 0 ? .min : transitionSeconds[index],
                          endSeconds: transitionSeconds[index + 1])
    }
}

/// Why a TZif file could not be read.
struct TZifProblem: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Big-endian reads with bounds checks.
struct ByteReader {
    let bytes: [UInt8]
    var index = 0

    var remaining: Int { bytes.count - index }

    mutating func bytes(_ count: Int) throws(TZifProblem) -> [UInt8] {
        guard count >= 0, count <= remaining else { throw TZifProblem("it is truncated") }
        defer { index += count }
        return Array(bytes[index..<index + count])
    }

    mutating func byte() throws(TZifProblem) -> UInt8 {
        guard remaining >= 1 else { throw TZifProblem("it is truncated") }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func uint32() throws(TZifProblem) -> UInt32 {
        var n: UInt32 = 0
        for b in try bytes(4) { n = n << 8 | UInt32(b) }
        return n
    }

    mutating func int64() throws(TZifProblem) -> Int64 {
        var n: UInt64 = 0
        for b in try bytes(8) { n = n << 8 | UInt64(b) }
        return Int64(bitPattern: n)
    }
}
