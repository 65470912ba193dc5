/// What the API needs from the node beyond the engine and `Consensus`: facts about the node
/// and the cluster, where the leader's API is, and membership administration. `Server`
/// implements it with `Cluster`; tests with a twin.
///
/// Membership methods are called on the leader (the API forwards them there) and return when
/// the change is committed. They throw `ConsensusError` (`noLeader`, `notLeader`, `timeout`,
/// `outcomeUnknown`, …) or `ClusterAdminError` for a request that cannot be done.
///
/// ```swift
/// struct NodeGateway: ClusterGateway {
///     let node: ClusterNode
///     func leaderAPIAddress() async -> String? { await node.leaderAddresses()?.api }   // "127.0.0.1:8081"
///     …
/// }
/// ```
public protocol ClusterGateway: Sendable {
    /// This node's health; must answer without a leader and without blocking on the cluster.
    func health() async -> HealthInfo
    /// Members, roles, leader and indexes as this node knows them.
    func clusterInfo() async -> ClusterInfo
    /// The leader's HTTP API address (`host:port`, or a full `http://` URL); nil when no
    /// leader is known. Followers forward writes there.
    func leaderAPIAddress() async -> String?
    /// Adds node `id` as a voter (or a learner) with its Raft and API addresses.
    func addMember(id: UInt64, raft: String, api: String, learner: Bool) async throws
    /// Makes learner `id` a voter.
    func promoteMember(id: UInt64) async throws
    /// Removes node `id`.
    func removeMember(id: UInt64) async throws
    /// Hands leadership to voter `id`; returns when it has moved (or throws).
    func transferLeadership(to id: UInt64) async throws
}

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

/// A membership request that cannot be done. The API answers 400, 404 or 409.
public enum ClusterAdminError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No member with that id (404 `unknown_member`).
    case unknownMember(id: UInt64)
    /// The change conflicts with the membership (409 `membership_conflict`): the id is taken,
    /// another change is in progress, the node is not a learner, removing would lose quorum, …
    case conflict(reason: String)
    /// The request is malformed (400 `invalid_argument`).
    case invalid(field: String, reason: String)

    public var description: String {
        switch self {
        case .unknownMember(let id): return "no member with id \(id)"
        case .conflict(let reason): return reason
        case .invalid(let field, let reason): return "\(field): \(reason)"
        }
    }
}
