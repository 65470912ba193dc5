import JSON

/// `GET /v1/health`: one node's view of itself. `leader` and `leader_api` are written as
/// `null` when unknown.
public struct NodeHealth: Sendable, Codable, Hashable, JSONWritable {
    /// This node's id.
    public var node: UInt64
    /// `leader`, `follower`, `candidate`, `pre_candidate` or `learner`.
    public var role: String
    /// The leader's id as this node knows it; nil when there is none.
    public var leader: UInt64?
    /// The leader's HTTP API address (`host:port`), when known.
    public var leaderAPI: String?
    /// This node's current Raft term.
    public var term: UInt64
    /// The highest log index this node knows committed.
    public var commitIndex: UInt64
    /// The highest log index this node has applied to its engine.
    public var appliedIndex: UInt64

    /// A health answer.
    public init(node: UInt64, role: String, leader: UInt64?, leaderAPI: String?, term: UInt64, commitIndex: UInt64,
                appliedIndex: UInt64) {
        self.node = node
        self.role = role
        self.leader = leader
        self.leaderAPI = leaderAPI
        self.term = term
        self.commitIndex = commitIndex
        self.appliedIndex = appliedIndex
    }

    enum CodingKeys: String, CodingKey {
        case node, role, leader, term
        case leaderAPI = "leader_api"
        case commitIndex = "commit_index"
        case appliedIndex = "applied_index"
    }

    /// Encodes every key, absent values as `null` (as `json` does).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(node, forKey: .node)
        try container.encode(role, forKey: .role)
        try container.encode(leader, forKey: .leader)
        try container.encode(leaderAPI, forKey: .leaderAPI)
        try container.encode(term, forKey: .term)
        try container.encode(commitIndex, forKey: .commitIndex)
        try container.encode(appliedIndex, forKey: .appliedIndex)
    }

    /// The answer as the server writes it.
    public var json: JSONValue {
        .object(["node": .integer(node), "role": .string(role), "leader": .orNull(leader), "leader_api": .orNull(leaderAPI),
                 "term": .integer(term), "commit_index": .integer(commitIndex), "applied_index": .integer(appliedIndex)])
    }
}
