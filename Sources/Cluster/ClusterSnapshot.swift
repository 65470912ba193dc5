import Raft

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
