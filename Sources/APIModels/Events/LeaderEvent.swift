import JSON

/// The data of a `leader` event of `GET /v1/events`: the answering node's view of who leads
/// changed (sent first on every connection, then on each change). Not a log entry, so it
/// carries no SSE `id`. `leader` is written as `null` while none is known.
public struct LeaderEvent: Sendable, Codable, Hashable, JSONWritable {
    /// The node that sends the stream.
    public var node: UInt64
    /// The leader's id, nil while none is known.
    public var leader: UInt64?
    /// The Raft term the view belongs to.
    public var term: UInt64

    /// A leader view.
    public init(node: UInt64, leader: UInt64?, term: UInt64) {
        self.node = node
        self.leader = leader
        self.term = term
    }

    /// Encodes every key, an absent `leader` as `null` (as `json` does).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(node, forKey: .node)
        try container.encode(leader, forKey: .leader)
        try container.encode(term, forKey: .term)
    }

    /// The view as the server writes it.
    public var json: JSONValue { .object(["node": .integer(node), "leader": .orNull(leader), "term": .integer(term)]) }
}
