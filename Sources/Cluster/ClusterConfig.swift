import Raft

/// Settings of one node's runtime. Durations are in milliseconds; every one has a default.
public struct ClusterConfig: Sendable {
    public var nodeID: NodeID
    /// Wall-clock length of one Raft tick.
    public var tickMillis: Int = 100
    /// Election timeout in ticks (randomised up to twice this). With 100 ms ticks: 1–2 s.
    public var electionTicks: Int = 10
    /// Heartbeat interval in ticks.
    public var heartbeatTicks: Int = 1
    /// Take a snapshot after this many entries were applied since the last one.
    public var snapshotEveryEntries: Int = 100_000
    /// Entries kept below a snapshot so slightly lagging followers catch up from the log.
    public var snapshotTrailingEntries: Int = 1_000
    /// How long a proposal or read waits before failing with ``ClusterError/timedOut``.
    public var requestTimeoutMillis: Int = 5_000
    /// Seed for the election jitter (mixed with the node id).
    public var randomSeed: UInt64 = 0
    /// Most uncommitted bytes the leader accepts; beyond it proposals fail with `.busy`.
    public var maxUncommittedBytes: Int = 64 << 20
    /// Largest command one proposal may carry (below the log's 16 MiB entry limit, so an
    /// oversized command is refused with `.tooLarge` and never reaches the disk).
    public var commandBytesMax: Int = 8 << 20
    /// Most entry bytes in flight to one follower (``RaftConfig/maxInflightBytes``): paces
    /// a lagging follower's catch-up by its acknowledgements. `Int.max` lifts the bound.
    public var maxInflightBytes: Int = RaftConfig(id: 1).maxInflightBytes
    /// Whether a leader writes its log on a thread of its own while the node loop goes on
    /// (``RaftNode/persisted(through:term:)``); nil: when the persistence has a disk
    /// (``RaftPersistence/hasDisk``). Followers always write before they acknowledge.
    public var leaderWritesInBackground: Bool? = nil
    /// How long a leader holds a proposal that arrives while earlier ones are still in
    /// flight, so that everything arriving meanwhile shares one append round (one message
    /// to each follower, one fsync on every node): less CPU per proposal at a steady rate,
    /// up to this much more latency. A proposal that finds nothing in flight is never held,
    /// so a lone client waits no longer; 32 held proposals leave at once. 0 (the default)
    /// turns it off. PostgreSQL's `commit_delay` with `commit_siblings = 1`, Kafka's
    /// `linger.ms` with `batch.size`; docs/performance.md, "A batch delay".
    public var proposalBatchDelayMicros: Int = 0

    public init(nodeID: NodeID) {
        self.nodeID = nodeID
    }

    var raftConfig: RaftConfig {
        var config = RaftConfig(id: nodeID)
        config.electionTicks = electionTicks
        config.heartbeatTicks = heartbeatTicks
        config.randomSeed = randomSeed
        config.maxUncommittedBytes = maxUncommittedBytes
        config.maxInflightBytes = maxInflightBytes
        return config
    }
}
