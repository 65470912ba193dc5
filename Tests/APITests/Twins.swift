import API
import APIModels
import Engine
import Synchronization
import Workflow

/// A one-node `Consensus` that applies each proposal straight to a `ReplicatedEngine` (the
/// real engine, so outcomes are real) and stamps it with a manual clock, over an in-memory
/// membership list that takes admin changes the way a cluster would. Switches make it behave
/// as a follower without a leader, lose a proposal's outcome after applying it (as a leader
/// change in flight would), or fail with any `ConsensusError`.
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
        /// Proposals throw `error` without applying anything; reads still work.
        case failProposals(ConsensusError)
        /// Read barriers throw `error`; proposals still work.
        case failReads(ConsensusError)
    }

    struct Members: Sendable {
        var leader: UInt64?
        var leaderAPI: String?
        var members: [ClusterMember]
    }

    /// What the probes see beyond leadership: the node loop's answer, a storage failure, and
    /// how far the applied index trails the commit index.
    struct Vitals: Sendable {
        var liveness: Liveness = .responding
        var storageFailure: String?
        var applyLagEntries: UInt64 = 0
    }

    let engine: ReplicatedEngine
    let node: UInt64
    let clock: ManualClock
    private let state: Mutex<(nextIndex: UInt64, behaviour: Behaviour, stamps: [Int64], members: Members)>
    private let vitals = Mutex(Vitals())

    init(engine: ReplicatedEngine, behaviour: Behaviour = .lead, node: UInt64 = 1, leader: UInt64? = 1,
         leaderAPI: String? = nil, clock: ManualClock = ManualClock(nowMillis: 1_800_000_000_123)) {
        self.engine = engine
        self.node = node
        self.clock = clock
        let members = Members(leader: leader, leaderAPI: leaderAPI, members: [
            ClusterMember(id: 1, raft: "127.0.0.1:7080", api: "127.0.0.1:8080", role: "voter", isLeader: false, matchIndex: 0, live: true),
            ClusterMember(id: 2, raft: "127.0.0.1:7081", api: "127.0.0.1:8081", role: "voter", isLeader: false, matchIndex: 0, live: true),
            ClusterMember(id: 3, raft: "127.0.0.1:7082", api: "127.0.0.1:8082", role: "voter", isLeader: false, matchIndex: 0, live: true),
        ])
        state = Mutex((engine.appliedIndex + 1, behaviour, [], members))
    }

    func set(_ behaviour: Behaviour) { state.withLock { $0.behaviour = behaviour } }

    /// Changes what the probes see.
    func setVitals(_ change: @Sendable (inout Vitals) -> Void) { vitals.withLock { change(&$0) } }

    /// Sets the leader this node knows (nil: none), as an election or a partition would.
    func setLeader(_ leader: UInt64?) { state.withLock { $0.members.leader = leader } }

    /// The `proposedAtMillis` of every command applied, in order.
    var stamps: [Int64] { state.withLock { $0.stamps } }

    var members: [ClusterMember] { state.withLock { $0.members.members } }

    /// Makes member `id` silent, as a node the leader has not heard from lately: it is then
    /// not live for the membership checks.
    func markDown(_ id: UInt64) {
        state.withLock { state in
            for i in state.members.members.indices where state.members.members[i].id == id { state.members.members[i].live = false }
        }
    }

    func propose(_ command: Command, fencedOn term: UInt64?) async throws(ConsensusError) -> Committed {
        try apply(command)
    }

    /// How many proposals came with a completion (the HTTP fast path) rather than from a task.
    var completionProposals: Int { completions.load(ordering: .relaxed) }
    private let completions = Atomic(0)

    /// Answers at once, on the caller's thread (the connection's event loop, for the fast path).
    func propose(_ command: Command, completion: @escaping @Sendable (Result<Committed, ConsensusError>) -> Void) {
        completions.add(1, ordering: .relaxed)
        do throws(ConsensusError) {
            completion(.success(try apply(command)))
        } catch {
            completion(.failure(error))
        }
    }

    private func apply(_ command: Command) throws(ConsensusError) -> Committed {
        let now = clock.nowMillis
        return try state.withLock { (state) throws(ConsensusError) -> Committed in
            switch state.behaviour {
            case .follow: throw ConsensusError.notLeader(leaderHint: state.members.leaderAPI)
            case .failProposals(let error): throw error
            default: break
            }
            let stamped = command.stamped(atMillis: now)
            state.stamps.append(now)
            let index = state.nextIndex
            state.nextIndex += 1
            let outcome = engine.apply(index: index, term: 7, bytes: stamped.encoded()).outcome
            if case .loseOutcomes(let count) = state.behaviour {
                state.behaviour = count > 1 ? .loseOutcomes(count: count - 1) : .lead
                throw ConsensusError.outcomeUnknown(reason: "leader lost while the entry was in flight")
            }
            return Committed(index: index, outcome: outcome)
        }
    }

    func readBarrier() async throws(ConsensusError) {
        switch state.withLock({ $0.behaviour }) {
        case .follow: throw ConsensusError.noLeader
        case .failReads(let error): throw error
        default: return
        }
    }

    func health() -> NodeHealth {
        let members = state.withLock { $0.members }
        let lag = vitals.withLock { $0.applyLagEntries }
        return NodeHealth(node: node, role: members.leader == node ? "leader" : "follower", leader: members.leader,
                          leaderAPI: members.leaderAPI, term: 7, commitIndex: engine.appliedIndex + lag,
                          appliedIndex: engine.appliedIndex)
    }

    func liveness(timeoutMillis: Int) async -> Liveness { vitals.withLock { $0.liveness } }

    var storageFailure: String? { vitals.withLock { $0.storageFailure } }

    func clusterInfo() -> ClusterStatus {
        let members = state.withLock { $0.members }
        let list = members.members.map { member in
            var member = member
            member.isLeader = member.id == members.leader
            return member
        }
        return ClusterStatus(node: node, leader: members.leader, term: 7, commitIndex: engine.appliedIndex,
                             appliedIndex: engine.appliedIndex, members: list)
    }

    func leadership() -> AsyncStream<Leadership> {
        let (stream, continuation) = AsyncStream<Leadership>.makeStream()
        let members = state.withLock { $0.members }
        continuation.yield(members.leader == node ? .leading(term: 7, sinceIndex: 0) : .following(term: 7, leader: members.leader ?? 0))
        return stream
    }

    private func admin(_ change: (inout Members) throws -> Void) throws {
        try state.withLock { state in
            if case .follow = state.behaviour { throw ConsensusError.noLeader }
            guard state.members.leader == node else { throw ConsensusError.notLeader(leaderHint: state.members.leaderAPI) }
            try change(&state.members)
        }
    }

    func addMember(id: UInt64, raft: String, api: String, learner: Bool) async throws {
        try admin { members in
            guard !members.members.contains(where: { $0.id == id }) else {
                throw MembershipError.conflict(reason: "node \(id) is already a member")
            }
            members.members.append(ClusterMember(id: id, raft: raft, api: api, role: learner ? "learner" : "voter",
                                                 isLeader: false, matchIndex: 0, live: true))
        }
    }

    func promoteMember(id: UInt64) async throws {
        try admin { members in
            guard let position = members.members.firstIndex(where: { $0.id == id }) else { throw MembershipError.unknownMember(id: id) }
            guard members.members[position].role == "learner" else {
                throw MembershipError.conflict(reason: "node \(id) is already a voter")
            }
            // The cluster's rule, for the API's mapping: a silent learner is not in sync.
            guard members.members[position].live == true else {
                throw MembershipError.learnerNotReady(id: id, match: members.members[position].matchIndex ?? 0,
                                                      leaderIndex: engine.appliedIndex, lagMax: 1_000, live: false,
                                                      reason: "learner \(id) is not in sync with the leader")
            }
            members.members[position].role = "voter"
        }
    }

    func removeMember(id: UInt64) async throws {
        try admin { members in
            guard let position = members.members.firstIndex(where: { $0.id == id }) else { throw MembershipError.unknownMember(id: id) }
            // The strict reconfiguration rule: the live voters left must be a quorum of them.
            let after = members.members.filter { $0.role == "voter" && $0.id != id }
            let live = after.filter { $0.live == true }.map(\.id)
            guard live.count >= after.count / 2 + 1 else {
                throw MembershipError.wouldLoseQuorum(votersAfter: after.map(\.id).sorted(), live: live.sorted(),
                                                      quorum: after.count / 2 + 1, reason: "removing node \(id) would lose quorum")
            }
            members.members.remove(at: position)
        }
    }

    func transferLeadership(to id: UInt64) async throws {
        try admin { members in
            guard let member = members.members.first(where: { $0.id == id }) else { throw MembershipError.unknownMember(id: id) }
            guard member.role != "learner" else { throw MembershipError.conflict(reason: "node \(id) is a learner") }
            members.leader = id
        }
    }
}
