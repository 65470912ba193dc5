import API
import Engine
import Synchronization
import Workflow

/// A one-node `Consensus` that applies each proposal straight to a `ReplicatedEngine` (the
/// real engine, so outcomes are real), with switches to behave as a follower without a leader
/// or to lose a proposal's outcome after applying it, as a leader change in flight would.
final class TwinConsensus: Consensus {
    /// What the next proposals do.
    enum Behaviour: Sendable {
        /// Apply and answer (a healthy leader).
        case lead
        /// Not the leader: propose throws `notLeader`, read barriers throw `noLeader`.
        case follow
        /// Apply the proposal, then throw `outcomeUnknown` (the entry committed but the answer
        /// was lost), `count` times; then lead again.
        case loseOutcomes(count: Int)
    }

    let engine: ReplicatedEngine
    private let clock: @Sendable () -> Int64
    private let state: Mutex<(nextIndex: UInt64, behaviour: Behaviour, stamps: [Int64])>

    init(engine: ReplicatedEngine, behaviour: Behaviour = .lead, clock: @escaping @Sendable () -> Int64 = { 1_800_000_000_000 }) {
        self.engine = engine
        self.clock = clock
        state = Mutex((engine.appliedIndex + 1, behaviour, []))
    }

    func set(_ behaviour: Behaviour) { state.withLock { $0.behaviour = behaviour } }

    /// The `proposedAtMillis` of every command proposed, in order.
    var stamps: [Int64] { state.withLock { $0.stamps } }

    func propose(_ command: Command) async throws -> (outcome: Outcome, index: UInt64) {
        try state.withLock { state in
            if case .follow = state.behaviour { throw ConsensusError.notLeader(leaderHint: nil) }
            state.stamps.append(command.proposedAtMillis)
            let index = state.nextIndex
            state.nextIndex += 1
            let outcome = engine.apply(index: index, bytes: command.encoded())
            if case .loseOutcomes(let count) = state.behaviour {
                state.behaviour = count > 1 ? .loseOutcomes(count: count - 1) : .lead
                throw ConsensusError.outcomeUnknown(reason: "leader lost while the entry was in flight")
            }
            return (outcome, index)
        }
    }

    func readBarrier() async throws {
        if case .follow = state.withLock({ $0.behaviour }) { throw ConsensusError.noLeader }
    }

    var isLeader: Bool {
        if case .follow = state.withLock({ $0.behaviour }) { return false }
        return true
    }
}

/// A `ClusterGateway` over an in-memory membership list that applies admin changes the way
/// a cluster would (one voter set, learners promoted, unknown ids refused).
final class TwinGateway: ClusterGateway {
    struct Members: Sendable {
        var leader: UInt64?
        var leaderAPI: String?
        var members: [MemberInfo]
    }

    let node: UInt64
    private let engine: ReplicatedEngine
    private let state: Mutex<Members>

    init(node: UInt64 = 1, engine: ReplicatedEngine, leader: UInt64? = 1, leaderAPI: String? = nil) {
        self.node = node
        self.engine = engine
        state = Mutex(Members(leader: leader, leaderAPI: leaderAPI, members: [
            MemberInfo(id: 1, raft: "127.0.0.1:7080", api: "127.0.0.1:8080", isLearner: false, matchIndex: 0),
            MemberInfo(id: 2, raft: "127.0.0.1:7081", api: "127.0.0.1:8081", isLearner: false, matchIndex: 0),
            MemberInfo(id: 3, raft: "127.0.0.1:7082", api: "127.0.0.1:8082", isLearner: false, matchIndex: 0),
        ]))
    }

    func setLeader(_ leader: UInt64?, api: String?) {
        state.withLock {
            $0.leader = leader
            $0.leaderAPI = api
        }
    }

    var members: [MemberInfo] { state.withLock { $0.members } }

    func health() async -> HealthInfo {
        let members = state.withLock { $0 }
        return HealthInfo(node: node, role: members.leader == node ? "leader" : "follower", leader: members.leader,
                          leaderAPI: members.leaderAPI, term: 7, commitIndex: engine.appliedIndex, appliedIndex: engine.appliedIndex)
    }

    func clusterInfo() async -> ClusterInfo {
        let members = state.withLock { $0 }
        return ClusterInfo(node: node, leader: members.leader, term: 7, commitIndex: engine.appliedIndex,
                           appliedIndex: engine.appliedIndex, members: members.members)
    }

    func leaderAPIAddress() async -> String? { state.withLock { $0.leaderAPI } }

    func addMember(id: UInt64, raft: String, api: String, learner: Bool) async throws {
        try state.withLock { state in
            guard state.leader == node else { throw ConsensusError.notLeader(leaderHint: state.leaderAPI) }
            guard !state.members.contains(where: { $0.id == id }) else {
                throw ClusterAdminError.conflict(reason: "node \(id) is already a member")
            }
            state.members.append(MemberInfo(id: id, raft: raft, api: api, isLearner: learner))
        }
    }

    func promoteMember(id: UInt64) async throws {
        try state.withLock { state in
            guard state.leader == node else { throw ConsensusError.notLeader(leaderHint: state.leaderAPI) }
            guard let position = state.members.firstIndex(where: { $0.id == id }) else { throw ClusterAdminError.unknownMember(id: id) }
            guard state.members[position].isLearner else { throw ClusterAdminError.conflict(reason: "node \(id) is already a voter") }
            state.members[position].isLearner = false
        }
    }

    func removeMember(id: UInt64) async throws {
        try state.withLock { state in
            guard state.leader == node else { throw ConsensusError.notLeader(leaderHint: state.leaderAPI) }
            guard let position = state.members.firstIndex(where: { $0.id == id }) else { throw ClusterAdminError.unknownMember(id: id) }
            state.members.remove(at: position)
        }
    }

    func transferLeadership(to id: UInt64) async throws {
        try state.withLock { state in
            guard state.leader == node else { throw ConsensusError.notLeader(leaderHint: state.leaderAPI) }
            guard let member = state.members.first(where: { $0.id == id }) else { throw ClusterAdminError.unknownMember(id: id) }
            guard !member.isLearner else { throw ClusterAdminError.conflict(reason: "node \(id) is a learner") }
            state.leader = id
        }
    }
}
