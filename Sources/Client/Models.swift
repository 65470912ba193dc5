// The JSON shapes of the orchestrator HTTP API (docs/api.md), as the client decodes them.
// Field names follow the wire (snake_case) through CodingKeys.

/// `GET /v1/health`: one node's view of itself.
public struct NodeHealth: Sendable, Codable, Hashable {
    /// This node's id.
    public var node: UInt64
    /// `leader`, `follower`, `candidate`, `pre_candidate` or `learner`.
    public var role: String
    /// The leader's id as this node knows it; nil when there is none.
    public var leader: UInt64?
    /// The leader's HTTP API address (`host:port`), when known.
    public var leaderAPI: String?
    public var term: UInt64
    public var commitIndex: UInt64
    public var appliedIndex: UInt64

    enum CodingKeys: String, CodingKey {
        case node, role, leader, term
        case leaderAPI = "leader_api"
        case commitIndex = "commit_index"
        case appliedIndex = "applied_index"
    }
}

/// One member in `GET /v1/cluster`.
public struct ClusterMember: Sendable, Codable, Hashable {
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

    enum CodingKeys: String, CodingKey {
        case id, raft, api, role
        case isLeader = "is_leader"
        case matchIndex = "match_index"
    }
}

/// `GET /v1/cluster`: members, roles, leader and indexes.
public struct ClusterStatus: Sendable, Codable, Hashable {
    /// The node that answered.
    public var node: UInt64
    public var leader: UInt64?
    public var term: UInt64
    public var commitIndex: UInt64
    public var appliedIndex: UInt64
    public var members: [ClusterMember]

    enum CodingKeys: String, CodingKey {
        case node, leader, term, members
        case commitIndex = "commit_index"
        case appliedIndex = "applied_index"
    }
}

/// One registered version of a workflow.
public struct WorkflowVersionInfo: Sendable, Codable, Hashable {
    public var version: Int
    /// SHA-256 of the definition's canonical form.
    public var hash: String
    /// The log index that registered it.
    public var index: UInt64
    /// When it was registered (RFC 3339, leader clock).
    public var registeredAt: String

    enum CodingKeys: String, CodingKey {
        case version, hash, index
        case registeredAt = "registered_at"
    }
}

/// A state of a workflow definition.
public struct WorkflowStateInfo: Sendable, Codable, Hashable {
    public var name: String
    public var final: Bool
}

/// A transition of a workflow definition. `from` lists the states it leaves (`*` for any
/// non-final state).
public struct WorkflowTransitionInfo: Sendable, Codable, Hashable {
    public var name: String
    public var from: [String]
    public var to: String
}

/// `GET /v1/workflows/{name}` and the entries of `GET /v1/workflows`.
public struct WorkflowInfo: Sendable, Codable, Hashable {
    public var name: String
    public var description: String
    /// The latest version: what new instances start with.
    public var version: Int
    public var hash: String
    public var initial: String
    public var states: [WorkflowStateInfo]
    public var transitions: [WorkflowTransitionInfo]
    /// Every version, oldest first.
    public var versions: [WorkflowVersionInfo]
}

/// `GET /v1/workflows`.
public struct WorkflowList: Sendable, Codable, Hashable {
    public var workflows: [WorkflowInfo]
}

/// `PUT /v1/workflows/{name}`: the version registered (or the unchanged latest one).
public struct WorkflowApplied: Sendable, Codable, Hashable {
    public var name: String
    public var version: Int
    public var hash: String
    /// False when the definition equals the latest version and nothing changed.
    public var created: Bool
    /// The log index of the registration.
    public var index: UInt64
}

/// `POST /v1/instances` → 201.
public struct InstanceStarted: Sendable, Codable, Hashable {
    public var id: String
    public var workflow: String
    public var version: Int
    public var state: String
    public var index: UInt64
}

/// `POST /v1/instances/{id}/transitions` → 200.
public struct TransitionApplied: Sendable, Codable, Hashable {
    public var id: String
    /// The transition taken.
    public var transition: String
    public var from: String
    public var to: String
    /// The state after the move (`to`).
    public var state: String
    public var revision: UInt64
    public var index: UInt64
}

/// `GET /v1/instances/{id}`.
public struct InstanceInfo: Sendable, Codable, Hashable {
    public var id: String
    public var workflow: String
    public var version: Int
    public var state: String
    public var data: [String: JSONValue]
    public var revision: UInt64
    /// True when `state` is final.
    public var final: Bool
    public var createdAt: String
    public var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case id, workflow, version, state, data, revision, final
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// `GET /v1/instances`: one page.
public struct InstanceList: Sendable, Codable, Hashable {
    public var instances: [InstanceInfo]
    /// Pass as `cursor` for the next page; nil at the end.
    public var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case instances
        case nextCursor = "next_cursor"
    }
}

/// One entry of `GET /v1/instances/{id}/history`.
public struct HistoryRecord: Sendable, Codable, Hashable {
    /// `start`, `transition`, later `hook_run`, `cron_fire`, …
    public var type: String
    public var index: UInt64
    public var requestID: String?
    public var from: String?
    public var to: String?
    public var transition: String?
    public var revision: UInt64?
    /// RFC 3339 time (leader clock).
    public var at: String

    enum CodingKeys: String, CodingKey {
        case type, index, from, to, transition, revision, at
        case requestID = "request_id"
    }
}

/// `GET /v1/instances/{id}/history`.
public struct InstanceHistory: Sendable, Codable, Hashable {
    public var id: String
    /// Entries in log order.
    public var entries: [HistoryRecord]
    /// How many older entries the server no longer keeps.
    public var dropped: UInt64
}

/// The body of every error response: `{"error": {"code", "message", "details"}}`.
public struct ErrorEnvelope: Sendable, Codable, Hashable {
    public struct Body: Sendable, Codable, Hashable {
        public var code: String
        public var message: String
        public var details: [String: JSONValue]?
    }
    public var error: Body
}
