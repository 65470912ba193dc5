import Raft

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
