import JSON

/// One member in `GET /v1/cluster`. `match_index` and `live` are the leader's view, written
/// as `null` when the answering node is not the leader (a follower forwards the request to
/// the leader, so they are `null` only when no leader could be asked).
public struct ClusterMember: Sendable, Codable, Hashable, JSONWritable {
    /// The member's node id.
    public var id: UInt64
    /// Raft (peer) address, `host:port`.
    public var raft: String
    /// HTTP API address, `host:port`.
    public var api: String
    /// `voter` or `learner`.
    public var role: String
    /// True for the current leader.
    public var isLeader: Bool
    /// The highest log index known replicated on this member (the leader's view); nil when
    /// the answering node is not the leader.
    public var matchIndex: UInt64?
    /// The leader heard from this member within the last election timeout (the leader itself
    /// always is): what the strict reconfiguration check counts as live. Nil when the
    /// answering node is not the leader.
    public var live: Bool?

    /// A member line.
    public init(id: UInt64, raft: String, api: String, role: String, isLeader: Bool, matchIndex: UInt64?, live: Bool? = nil) {
        self.id = id
        self.raft = raft
        self.api = api
        self.role = role
        self.isLeader = isLeader
        self.matchIndex = matchIndex
        self.live = live
    }

    enum CodingKeys: String, CodingKey {
        case id, raft, api, role
        case isLeader = "is_leader"
        case matchIndex = "match_index"
        case live
    }

    /// Decodes a member; `live` may be absent (answers of servers that predate it).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UInt64.self, forKey: .id)
        raft = try container.decode(String.self, forKey: .raft)
        api = try container.decode(String.self, forKey: .api)
        role = try container.decode(String.self, forKey: .role)
        isLeader = try container.decode(Bool.self, forKey: .isLeader)
        matchIndex = try container.decodeIfPresent(UInt64.self, forKey: .matchIndex)
        live = try container.decodeIfPresent(Bool.self, forKey: .live)
    }

    /// Encodes every key, an absent `match_index` as `null` (as `json` does).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(raft, forKey: .raft)
        try container.encode(api, forKey: .api)
        try container.encode(role, forKey: .role)
        try container.encode(isLeader, forKey: .isLeader)
        try container.encode(matchIndex, forKey: .matchIndex)
        try container.encode(live, forKey: .live)
    }

    /// The member as the server writes it.
    public var json: JSONValue {
        .object(["id": .integer(id), "raft": .string(raft), "api": .string(api), "role": .string(role),
                 "is_leader": .bool(isLeader), "match_index": .orNull(matchIndex),
                 "live": live.map(JSONValue.bool) ?? .null])
    }
}
