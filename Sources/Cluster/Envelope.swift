import Raft
import RaftTransport

/// A member's addresses: where its Raft transport and its HTTP API listen.
public struct MemberAddress: Sendable, Hashable {
    public var raft: PeerAddress
    public var api: String

    public init(raft: PeerAddress, api: String) {
        self.raft = raft
        self.api = api
    }
}

/// The data of a normal log entry as the cluster writes it: one tag byte, then the body.
/// The leader's empty entry (no data) is neither.
enum Envelope: Equatable {
    /// A command for the replicated state machine.
    case command([UInt8])
    /// A member's addresses, replicated so every node can reach a member added later.
    case address(NodeID, MemberAddress)

    static let commandTag: UInt8 = 1
    static let addressTag: UInt8 = 2

    var encoded: [UInt8] {
        switch self {
        case .command(let body):
            var bytes = [Envelope.commandTag]
            bytes.reserveCapacity(body.count + 1)
            bytes.append(contentsOf: body)
            return bytes
        case .address(let node, let address):
            var writer = ByteWriter()
            writer.u8(Envelope.addressTag)
            writer.u64(node)
            writer.address(address)
            return writer.bytes
        }
    }

    init?(_ data: [UInt8]) {
        guard let tag = data.first else { return nil }
        switch tag {
        case Envelope.commandTag:
            self = .command(Array(data[1...]))
        case Envelope.addressTag:
            var reader = ByteReader(data, from: 1)
            guard let node = reader.u64(), let address = reader.address(), reader.isAtEnd else { return nil }
            self = .address(node, address)
        default:
            return nil
        }
    }
}

/// A cluster snapshot: the address book, then the state machine's snapshot.
struct ClusterSnapshot: Equatable {
    static let version: UInt8 = 1
    var addresses: [NodeID: MemberAddress]
    var application: [UInt8]

    var encoded: [UInt8] {
        var writer = ByteWriter()
        writer.u8(ClusterSnapshot.version)
        writer.u32(UInt32(addresses.count))
        for node in addresses.keys.sorted() {
            writer.u64(node)
            writer.address(addresses[node]!)
        }
        writer.bytes.append(contentsOf: application)
        return writer.bytes
    }

    init(addresses: [NodeID: MemberAddress], application: [UInt8]) {
        self.addresses = addresses
        self.application = application
    }

    /// Decodes a snapshot; empty data is the empty snapshot of a new cluster.
    init?(_ data: [UInt8]) {
        guard !data.isEmpty else {
            self.init(addresses: [:], application: [])
            return
        }
        var reader = ByteReader(data, from: 0)
        guard reader.u8() == ClusterSnapshot.version, let count = reader.u32(), count <= 1 << 16 else { return nil }
        var addresses: [NodeID: MemberAddress] = [:]
        for _ in 0..<count {
            guard let node = reader.u64(), let address = reader.address() else { return nil }
            addresses[node] = address
        }
        self.init(addresses: addresses, application: Array(data[reader.offset...]))
    }
}

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
