/// One member in `GET /v1/cluster`.
public struct MemberInfo: Sendable, Hashable {
    public var id: UInt64
    /// Raft address, `host:port`.
    public var raft: String
    /// HTTP API address, `host:port`.
    public var api: String
    /// True for a non-voting learner.
    public var isLearner: Bool
    /// The leader's replication progress for this member; nil when this node is not the leader.
    public var matchIndex: UInt64?

    public init(id: UInt64, raft: String, api: String, isLearner: Bool, matchIndex: UInt64? = nil) {
        self.id = id
        self.raft = raft
        self.api = api
        self.isLearner = isLearner
        self.matchIndex = matchIndex
    }
}

/// `GET /v1/cluster`.
public struct ClusterInfo: Sendable, Hashable {
    /// The node answering.
    public var node: UInt64
    public var leader: UInt64?
    public var term: UInt64
    public var commitIndex: UInt64
    public var appliedIndex: UInt64
    public var members: [MemberInfo]

    public init(node: UInt64, leader: UInt64?, term: UInt64, commitIndex: UInt64, appliedIndex: UInt64,
                members: [MemberInfo]) {
        self.node = node
        self.leader = leader
        self.term = term
        self.commitIndex = commitIndex
        self.appliedIndex = appliedIndex
        self.members = members
    }
}
