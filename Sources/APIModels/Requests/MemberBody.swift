import JSON

/// The body of `POST /v1/cluster/members`: `{id, raft, api, learner?}`.
public struct MemberBody: Sendable, Codable, Hashable, JSONWritable {
    /// The new member's node id.
    public var id: UInt64
    /// Its Raft (peer) address, `host:port`.
    public var raft: String
    /// Its HTTP API address, `host:port`.
    public var api: String
    /// True to add a non-voting learner; absent means false.
    public var learner: Bool?

    /// A request to add a member.
    public init(id: UInt64, raft: String, api: String, learner: Bool? = nil) {
        self.id = id
        self.raft = raft
        self.api = api
        self.learner = learner
    }

    /// The body as the client sends it.
    public var json: JSONValue {
        var members: [String: JSONValue] = ["id": .integer(id), "raft": .string(raft), "api": .string(api)]
        if let learner { members["learner"] = .bool(learner) }
        return .object(members)
    }
}
