/// `GET /v1/health`: `{node, role, leader, leader_api, term, commit_index, applied_index}`.
public struct HealthInfo: Sendable, Hashable {
    /// This node's id.
    public var node: UInt64
    /// `leader`, `follower`, `candidate`, `pre_candidate` or `learner`.
    public var role: String
    /// The leader's id; nil when none is known.
    public var leader: UInt64?
    /// The leader's API address, when known.
    public var leaderAPI: String?
    public var term: UInt64
    public var commitIndex: UInt64
    public var appliedIndex: UInt64

    public init(node: UInt64, role: String, leader: UInt64?, leaderAPI: String? = nil, term: UInt64,
                commitIndex: UInt64, appliedIndex: UInt64) {
        self.node = node
        self.role = role
        self.leader = leader
        self.leaderAPI = leaderAPI
        self.term = term
        self.commitIndex = commitIndex
        self.appliedIndex = appliedIndex
    }
}
