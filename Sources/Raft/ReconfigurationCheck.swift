/// What the leader measured when it refused to promote a learner
/// (``ProposalError/learnerNotReady(_:)``).
///
/// A learner is ready when the leader heard from it within the last election timeout and
/// its match index is at most ``RaftConfig/promotionLagEntriesMax`` below the leader's last
/// index. A learner that is not would be a voter the quorum waits for (or cannot count on):
/// promoting a dead or far-behind learner in a three-voter cluster leaves four voters, one of
/// them useless, and a cluster that tolerated one failure tolerates none.
public struct LearnerLag: Sendable, Hashable, CustomStringConvertible {
    /// The learner.
    public var learner: NodeID
    /// The highest index the leader knows the learner has (0: nothing acknowledged).
    public var match: LogIndex
    /// The leader's last log index when it checked.
    public var leaderLastIndex: LogIndex
    /// The largest distance accepted (``RaftConfig/promotionLagEntriesMax``).
    public var lagEntriesMax: LogIndex
    /// The leader heard from the learner within the last election timeout.
    public var isLive: Bool

    public init(learner: NodeID, match: LogIndex, leaderLastIndex: LogIndex, lagEntriesMax: LogIndex, isLive: Bool) {
        self.learner = learner
        self.match = match
        self.leaderLastIndex = leaderLastIndex
        self.lagEntriesMax = lagEntriesMax
        self.isLive = isLive
    }

    /// Entries the learner lacks.
    public var lagEntries: LogIndex { leaderLastIndex > match ? leaderLastIndex - match : 0 }

    /// Whether the learner may be promoted.
    public var isReady: Bool { isLive && lagEntries <= lagEntriesMax }

    public var description: String {
        let silent = isLive ? "" : ", and the leader has not heard from it within the last election timeout"
        return "learner \(learner) is not in sync with the leader: its match index is \(match), the leader's last index is "
            + "\(leaderLastIndex) (\(lagEntries) behind; at most \(lagEntriesMax) allowed)\(silent)"
    }
}

/// What the leader counted when it refused a membership change under the strict
/// reconfiguration check (``ProposalError/wouldLoseQuorum(_:)``, ``RaftConfig/strictReconfigCheck``).
///
/// A voter is live when it is the leader or the leader heard from it within the last
/// election timeout. The change is refused when the live voters of the configuration it
/// would produce are fewer than that configuration's quorum: once committed, such a change
/// leaves a cluster that cannot commit anything (not even the change that would undo it)
/// until enough of the silent voters come back.
public struct QuorumShortfall: Sendable, Hashable, CustomStringConvertible {
    /// The refused change.
    public var change: ConfigChange
    /// The voters the change would produce.
    public var votersAfter: Set<NodeID>
    /// Those of `votersAfter` that are live.
    public var liveVoters: Set<NodeID>
    /// The quorum of `votersAfter`.
    public var quorum: Int

    public init(change: ConfigChange, votersAfter: Set<NodeID>, liveVoters: Set<NodeID>, quorum: Int) {
        self.change = change
        self.votersAfter = votersAfter
        self.liveVoters = liveVoters
        self.quorum = quorum
    }

    public var description: String {
        let live = liveVoters.isEmpty ? "none" : liveVoters.sorted().map(String.init).joined(separator: ", ")
        let after = votersAfter.sorted().map(String.init).joined(separator: ", ")
        return "\(change.summary) would leave \(liveVoters.count) live voter(s) (\(live)) of the \(quorum) that a quorum "
            + "of the new voters {\(after)} needs; live means heard from by the leader within the last election timeout"
    }
}

extension ConfigChange {
    /// The change in words: "making node 4 a voter", "adding learner 4", "removing node 2".
    public var summary: String {
        switch self {
        case .addVoter(let n): "making node \(n) a voter"
        case .addLearner(let n): "adding learner \(n)"
        case .remove(let n): "removing node \(n)"
        }
    }
}
