import Raft
import RaftTransport

/// Little-endian writer for the cluster's own records (envelopes, snapshots).
struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { for s in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }
    mutating func u64(_ v: UInt64) { for s in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        u32(UInt32(utf8.count))
        bytes.append(contentsOf: utf8)
    }
    mutating func address(_ a: MemberAddress) {
        string(a.raft.host)
        u32(UInt32(a.raft.port))
        string(a.api)
    }
}

/// Reads what `ByteWriter` wrote; every read returns nil on short input.
struct ByteReader {
    let bytes: [UInt8]
    var offset: Int
    init(_ bytes: [UInt8], from offset: Int) {
        self.bytes = bytes
        self.offset = offset
    }
    var isAtEnd: Bool { offset == bytes.count }
    mutating func u8() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }
    mutating func u32() -> UInt32? {
        guard bytes.count - offset >= 4 else { return nil }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[offset + i]) << UInt32(8 * i) }
        offset += 4
        return v
    }
    mutating func u64() -> UInt64? {
        guard bytes.count - offset >= 8 else { return nil }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[offset + i]) << UInt64(8 * i) }
        offset += 8
        return v
    }
    mutating func string() -> String? {
        guard let n = u32(), Int(n) <= bytes.count - offset else { return nil }
        defer { offset += Int(n) }
        return String(decoding: bytes[offset..<offset + Int(n)], as: UTF8.self)
    }
    mutating func address() -> MemberAddress? {
        guard let host = string(), let port = u32(), let api = string() else { return nil }
        return MemberAddress(raft: PeerAddress(host: host, port: Int(port)), api: api)
    }
}
