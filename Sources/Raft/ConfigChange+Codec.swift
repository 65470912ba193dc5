/// The bytes of a `.configChange` entry: one tag byte, then the node id (8 bytes, little endian).
extension ConfigChange {
    /// Encodes this change as the data of a `.configChange` entry.
    public var encoded: [UInt8] {
        let (tag, node): (UInt8, NodeID) = switch self {
        case .addVoter(let n): (1, n)
        case .addLearner(let n): (2, n)
        case .remove(let n): (3, n)
        }
        var bytes: [UInt8] = [tag]
        bytes.reserveCapacity(9)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: node >> UInt64(shift))) }
        return bytes
    }

    /// Decodes the data of a `.configChange` entry; `nil` when the bytes are not one.
    public init?(encoded bytes: [UInt8]) {
        guard bytes.count == 9 else { return nil }
        var node: NodeID = 0
        for i in 0..<8 { node |= NodeID(bytes[1 + i]) << NodeID(8 * i) }
        guard node != 0 else { return nil }
        switch bytes[0] {
        case 1: self = .addVoter(node)
        case 2: self = .addLearner(node)
        case 3: self = .remove(node)
        default: return nil
        }
    }

    /// The node this change is about.
    public var node: NodeID {
        switch self {
        case .addVoter(let n), .addLearner(let n), .remove(let n): n
        }
    }

    /// The configuration after applying this change to `configuration`.
    public func applied(to configuration: Configuration) -> Configuration {
        var voters = configuration.voters
        var learners = configuration.learners
        switch self {
        case .addVoter(let n):
            learners.remove(n)
            voters.insert(n)
        case .addLearner(let n):
            if !voters.contains(n) { learners.insert(n) }
        case .remove(let n):
            voters.remove(n)
            learners.remove(n)
        }
        return Configuration(voters: voters, learners: learners)
    }
}
