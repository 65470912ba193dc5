import Raft

/// The state machine each simulated node applies committed entries to.
///
/// It does not keep the entries themselves, only what identifies the applied sequence: the
/// last applied position, the digest of the applied prefix (equal to the log prefix digest,
/// see ``LogDigest``) and how many client proposals it applied. Two nodes that applied the
/// same index hold equal digests exactly when their applied sequences are equal, which is
/// what state-machine safety asks.
///
/// Its snapshot encoding is what nodes hand to `RaftNode.createSnapshot(at:data:)` and what
/// a follower restores from a received snapshot. `paddingBytes` makes snapshots larger so
/// they travel in several chunks.
public struct AppliedState: Sendable, Hashable {
    /// The last applied index.
    public internal(set) var index: LogIndex
    /// The term of the last applied entry.
    public internal(set) var term: Term
    /// The prefix digest at `index`.
    public internal(set) var digest: UInt64
    /// How many client proposals (entries carrying a proposal id) were applied.
    public internal(set) var proposalCount: UInt64

    init(index: LogIndex, term: Term, digest: UInt64, proposalCount: UInt64) {
        self.index = index
        self.term = term
        self.digest = digest
        self.proposalCount = proposalCount
    }

    static let magic: [UInt8] = Array("SIM1".utf8)
    static let headerBytes = 4 + 8 * 4

    /// Applies one committed entry (the caller checked it is the next index).
    mutating func apply(_ entry: Entry) {
        digest = LogDigest.chain(digest, entry)
        index = entry.index
        term = entry.term
        if ProposalPayload.decode(entry) != nil { proposalCount += 1 }
    }

    /// The snapshot bytes of this state, with `paddingBytes` of filler after the header.
    func encoded(paddingBytes: Int) -> [UInt8] {
        var bytes = AppliedState.magic
        bytes.reserveCapacity(AppliedState.headerBytes + paddingBytes)
        for value in [index, term, digest, proposalCount] {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        for k in 0..<paddingBytes { bytes.append(UInt8(truncatingIfNeeded: k &* 31 &+ Int(index))) }
        return bytes
    }

    /// The state a snapshot's bytes describe, or `nil` when they are not a simulator snapshot.
    static func decode(_ bytes: [UInt8]) -> AppliedState? {
        guard bytes.count >= headerBytes, Array(bytes[0..<4]) == magic else { return nil }
        func word(_ k: Int) -> UInt64 {
            var value: UInt64 = 0
            for b in 0..<8 { value |= UInt64(bytes[4 + 8 * k + b]) << (8 * UInt64(b)) }
            return value
        }
        return AppliedState(index: word(0), term: word(1), digest: word(2), proposalCount: word(3))
    }
}

/// The bytes of a client proposal: a magic tag, a unique proposal id and filler up to the
/// requested size. Unique ids let the checker see an entry applied twice or at a position
/// other than the one `propose` returned.
public enum ProposalPayload {
    static let tag: UInt32 = 0x5052_4F50  // "PROP"
    /// The smallest payload: tag and id.
    public static let minimumBytes = 12

    /// The payload of proposal `id`, `bytes` long (at least ``minimumBytes``).
    public static func encode(id: UInt64, bytes: Int) -> [UInt8] {
        var data = [UInt8]()
        data.reserveCapacity(max(bytes, minimumBytes))
        withUnsafeBytes(of: tag.littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: id.littleEndian) { data.append(contentsOf: $0) }
        while data.count < bytes { data.append(UInt8(truncatingIfNeeded: data.count &+ Int(id))) }
        return data
    }

    /// The proposal id an entry carries, if it is a client proposal.
    public static func decode(_ entry: Entry) -> UInt64? {
        guard entry.kind == .normal, entry.data.count >= minimumBytes else { return nil }
        var tagValue: UInt32 = 0
        for b in 0..<4 { tagValue |= UInt32(entry.data[b]) << (8 * UInt32(b)) }
        guard tagValue == tag else { return nil }
        var id: UInt64 = 0
        for b in 0..<8 { id |= UInt64(entry.data[4 + b]) << (8 * UInt64(b)) }
        return id
    }
}
