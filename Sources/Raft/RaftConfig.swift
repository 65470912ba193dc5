/// Settings of one Raft node. Every limit is named, documented and has a default.
public struct RaftConfig: Sendable, Hashable {
    /// This node's id (never 0).
    public var id: NodeID
    /// A follower that hears nothing from a leader for this many ticks (randomised to
    /// `[electionTicks, 2 × electionTicks)`) starts an election.
    public var electionTicks: Int = 10
    /// A leader sends heartbeats every this many ticks. Must be less than `electionTicks`.
    public var heartbeatTicks: Int = 1
    /// Run a pre-vote round before a real election, so a node that rejoins after a
    /// partition does not inflate terms and depose a healthy leader.
    public var preVote: Bool = true
    /// A leader that has not heard from a quorum within an election timeout steps down;
    /// followers that heard from a leader within the timeout ignore vote requests.
    public var checkQuorum: Bool = true
    /// Most entries in one `append` message.
    public var maxEntriesPerMessage: Int = 4096
    /// Most entry bytes in one `append` message (at least one entry is always sent).
    public var maxBytesPerMessage: Int = 1 << 20
    /// Most `append` messages in flight to one follower in the replicate state.
    public var maxInflightMessages: Int = 256
    /// Most entry bytes in flight (sent, not yet acknowledged) to one follower in the
    /// replicate state, as etcd-io/raft's `MaxInflightBytes`. A follower far behind gets its
    /// entries a budget at a time as its acknowledgements come back, so catching it up never
    /// makes the leader build (and encode, on its loop) more than this in one go, nor fill
    /// the transport's send queue. Exceeded by at most one entry (a message always carries
    /// one), and by one message per heartbeat answer while the window stays full (the
    /// heartbeat frees the oldest message, as for `maxInflightMessages`, in case it was
    /// lost). Default 4 MiB.
    public var maxInflightBytes: Int = 4 << 20
    /// Most bytes of uncommitted entries a leader accepts before refusing proposals.
    public var maxUncommittedBytes: Int = 64 << 20
    /// Most bytes of committed entries handed to the application in one `Ready`.
    public var maxCommittedBytesPerReady: Int = 16 << 20
    /// Size of one snapshot chunk on the wire.
    public var snapshotChunkBytes: Int = 1 << 20
    /// Refuse a membership change that would leave fewer live voters — the leader and the
    /// voters it heard from within the last `electionTicks` — than a quorum of the new
    /// configuration (etcd's `--strict-reconfig-check`, on by default there too). Without
    /// it, adding a voter while one is down, or removing a live voter while another is down,
    /// commits and leaves a cluster that cannot commit anything.
    public var strictReconfigCheck: Bool = true
    /// A learner is promoted only while its match index is at most this many entries below
    /// the leader's last index, and the leader heard from it within the last `electionTicks`.
    /// etcd asks for 90% of the leader's match index, a distance that grows with the log; a
    /// fixed one keeps "in sync" meaning the same at index 1,000 and at 10,000,000. 1,000 is
    /// the number of entries a node keeps below each snapshot by default
    /// (`ClusterConfig.snapshotTrailingEntries`), so a learner that close catches up from the
    /// log within a round trip or two.
    public var promotionLagEntriesMax: LogIndex = 1_000
    /// Seed of the generator behind the randomised election timeout.
    public var randomSeed: UInt64 = 0

    public init(id: NodeID) {
        precondition(id != 0, "node id 0 is reserved for 'none'")
        self.id = id
    }

    func validated() -> RaftConfig {
        precondition(heartbeatTicks > 0 && heartbeatTicks < electionTicks,
                     "heartbeatTicks (\(heartbeatTicks)) must be in 1..<electionTicks (\(electionTicks))")
        precondition(maxEntriesPerMessage > 0 && maxBytesPerMessage > 0 && maxInflightMessages > 0 && maxInflightBytes > 0)
        precondition(maxUncommittedBytes > 0 && maxCommittedBytesPerReady > 0 && snapshotChunkBytes > 0)
        return self
    }
}

/// Everything a node had made durable, from which it restarts.
///
/// A fresh cluster starts from ``bootstrap(_:)``: an empty log whose membership is the
/// initial voters. A node joining an existing cluster starts from ``empty``: it knows no
/// members and waits for the leader to send it the log or a snapshot.
public struct DurableState: Sendable, Hashable {
    public var hardState: HardState
    /// The newest durable snapshot (index 0, with no members, before the first one).
    public var snapshot: Snapshot
    /// Entries after the snapshot, contiguous from `snapshot.metadata.index + 1`.
    public var entries: [Entry]

    public init(hardState: HardState, snapshot: Snapshot, entries: [Entry]) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
    }

    /// The state of a node of a brand-new cluster whose voters are `voters`.
    ///
    /// The initial membership is written as committed `addVoter` entries of term 1, the
    /// same on every initial member, so a node added later learns it from the log (or a
    /// snapshot) like every other change.
    public static func bootstrap(_ voters: Set<NodeID>) -> DurableState {
        let entries = voters.sorted().enumerated().map { offset, voter in
            Entry(term: 1, index: LogIndex(offset + 1), kind: .configChange, data: ConfigChange.addVoter(voter).encoded)
        }
        return DurableState(
            hardState: HardState(term: entries.isEmpty ? 0 : 1, vote: 0, commit: LogIndex(entries.count)),
            snapshot: Snapshot(metadata: SnapshotMetadata(index: 0, term: 0, configuration: Configuration()), data: []),
            entries: entries
        )
    }

    /// The state of a node that will be added to an existing cluster.
    public static var empty: DurableState { bootstrap([]) }

    /// The membership this state puts into force (the snapshot's, then committed changes).
    public var configuration: Configuration {
        var result = snapshot.metadata.configuration
        for entry in entries where entry.index <= hardState.commit && entry.kind == .configChange {
            if let change = ConfigChange(encoded: entry.data) { result = change.applied(to: result) }
        }
        return result
    }
}
