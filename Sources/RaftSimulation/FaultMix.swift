import Raft

/// A recipe of faults for randomized runs: how the network behaves, how often partitions,
/// crashes, leadership transfers and membership changes happen, and how hard clients push.
/// Probabilities are per tick.
public struct FaultMix: Sendable {
    public var name: String
    public var network: NetworkConditions = .reliable
    /// Chance per tick of a new partition (halves, isolated leader, one-way links, bridge…).
    public var partitionChance = 0.0
    /// Chance per tick that a partition heals.
    public var healChance = 0.0
    /// Chance per tick that a node crashes (at rest or at a planned `Ready` point).
    public var crashChance = 0.0
    /// Share of crashes planned at a point inside `Ready` handling (before persist, after
    /// persist, after send) rather than between `Ready`s.
    public var plannedCrashShare = 0.5
    /// Chance per tick that a crashed node restarts.
    public var restartChance = 0.0
    /// Whether every node may be down at once (otherwise only a minority of voters).
    public var allowTotalOutage = false
    /// Local snapshot cadence in applied entries (nil: never).
    public var snapshotEveryEntries: Int? = nil
    /// Snapshot filler, to make snapshots need several chunks.
    public var snapshotPaddingBytes = 0
    /// Chance per tick of a burst of client proposals, and the burst's largest size.
    public var proposalChance = 0.5
    public var proposalBurstMax = 4
    /// Chance per tick of a ReadIndex request at a random live node.
    public var readChance = 0.1
    /// Chance per tick that the leader is asked to transfer leadership.
    public var transferChance = 0.0
    /// Chance per tick of a membership change (add learner, promote, remove voter).
    public var membershipChance = 0.0
    /// Share of seeds that run with check-quorum on (the rest with it off, so deposed
    /// leaders linger and stale reads become possible).
    public var checkQuorumShare = 1.0
    /// Share of seeds that run with pre-vote on.
    public var preVoteShare = 1.0
    /// Ticks of chaos before faults heal.
    public var chaosTicks = 250
    /// Ticks allowed after healing for the liveness check.
    public var livenessTicks = 400

    public init(name: String) { self.name = name }

    /// No faults: the baseline a correct core must sail through.
    public static var calm: FaultMix {
        var mix = FaultMix(name: "calm")
        mix.readChance = 0.2
        return mix
    }

    /// Loss, duplicates, reordering and long delays; nothing crashes.
    public static var lossyNetwork: FaultMix {
        var mix = FaultMix(name: "lossy network")
        mix.network = .unreliable
        return mix
    }

    /// Every kind of partition, healing and re-forming, on a flaky network.
    public static var partitions: FaultMix {
        var mix = FaultMix(name: "partitions")
        mix.checkQuorumShare = 0.5
        mix.preVoteShare = 0.5
        mix.network = .flaky
        mix.partitionChance = 0.05
        mix.healChance = 0.06
        mix.transferChance = 0.01
        return mix
    }

    /// Crashes at rest and inside `Ready` handling, up to every node at once.
    public static var crashes: FaultMix {
        var mix = FaultMix(name: "crashes")
        mix.checkQuorumShare = 0.5
        mix.preVoteShare = 0.5
        mix.network = .flaky
        mix.crashChance = 0.04
        mix.restartChance = 0.08
        mix.allowTotalOutage = true
        return mix
    }

    /// Frequent snapshots and compaction with lagging followers: snapshots travel in chunks.
    public static var snapshots: FaultMix {
        var mix = FaultMix(name: "snapshots")
        mix.network = .flaky
        mix.partitionChance = 0.03
        mix.healChance = 0.04
        mix.crashChance = 0.02
        mix.restartChance = 0.05
        mix.snapshotEveryEntries = 8
        mix.snapshotPaddingBytes = 300
        mix.proposalBurstMax = 8
        return mix
    }

    /// Members come and go: learners added, caught up and promoted, voters removed.
    public static var membership: FaultMix {
        var mix = FaultMix(name: "membership")
        mix.network = .flaky
        mix.crashChance = 0.01
        mix.restartChance = 0.08
        mix.partitionChance = 0.01
        mix.healChance = 0.08
        mix.membershipChance = 0.06
        mix.snapshotEveryEntries = 16
        mix.chaosTicks = 300
        return mix
    }

    /// All of the above at once.
    public static var everything: FaultMix {
        var mix = FaultMix(name: "everything")
        mix.checkQuorumShare = 0.5
        mix.preVoteShare = 0.5
        mix.network = .unreliable
        mix.partitionChance = 0.03
        mix.healChance = 0.05
        mix.crashChance = 0.02
        mix.restartChance = 0.06
        mix.allowTotalOutage = true
        mix.snapshotEveryEntries = 12
        mix.snapshotPaddingBytes = 200
        mix.transferChance = 0.01
        mix.membershipChance = 0.02
        return mix
    }
}
