import JSON

/// `GET /v1/cluster`, and the answer of every membership change: members, roles, leader and
/// indexes. `leader` is written as `null` when none is known.
public struct ClusterStatus: Sendable, Codable, Hashable, JSONWritable {
    /// The node that answered.
    public var node: UInt64
    /// The leader's id; nil when none is known.
    public var leader: UInt64?
    /// The answering node's current term.
    public var term: UInt64
    /// The answering node's commit index.
    public var commitIndex: UInt64
    /// The answering node's applied index.
    public var appliedIndex: UInt64
    /// Every member, by id.
    public var members: [ClusterMember]

    /// A cluster answer.
    public init(node: UInt64, leader: UInt64?, term: UInt64, commitIndex: UInt64, appliedIndex: UInt64,
                members: [ClusterMember]) {
        self.node = node
        self.leader = leader
        self.term = term
        self.commitIndex = commitIndex
        self.appliedIndex = appliedIndex
        self.members = members
    }

    enum CodingKeys: String, CodingKey {
        case node, leader, term, members
        case commitIndex = "commit_index"
        case appliedIndex = "applied_index"
    }

    /// Encodes every key, an absent `leader` as `null` (as `json` does).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(node, forKey: .node)
        try container.encode(leader, forKey: .leader)
        try container.encode(term, forKey: .term)
        try container.encode(commitIndex, forKey: .commitIndex)
        try container.encode(appliedIndex, forKey: .appliedIndex)
        try container.encode(members, forKey: .members)
    }

    /// The answer as the server writes it.
    public var json: JSONValue {
        .object(["node": .integer(node), "leader": .orNull(leader), "term": .integer(term),
                 "commit_index": .integer(commitIndex), "applied_index": .integer(appliedIndex), "members": .list(members)])
    }
}
