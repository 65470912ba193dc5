import APIModels
import Cluster
import Engine
import Raft
import RaftTransport

/// `Engine.Consensus` implemented with a ``ClusterNode``: the one place where the upper
/// layers meet the Raft cluster. It stamps each command with this node's clock as it proposes
/// (only a leader appends, so it is the leader's time), hands back the engine's own `Applied`
/// value, and turns every `ClusterError` into the `ConsensusError` that keeps its meaning.
final class ClusterConsensus: Consensus {
    let node: ClusterNode
    let clock: any WallClock
    /// The scheme of a new member's API address given as `host:port` (`https` when this
    /// cluster serves its API over TLS).
    let apiScheme: String

    init(node: ClusterNode, clock: any WallClock, apiScheme: String = "http") {
        self.node = node
        self.clock = clock
        self.apiScheme = apiScheme
    }

    func propose(_ command: Command, fencedOn term: UInt64?) async throws(ConsensusError) -> Committed {
        let bytes = command.stamped(atMillis: clock.nowMillis).encoded()
        let proposed: Proposed
        do {
            proposed = try await node.propose(bytes, fencedOn: term)
        } catch {
            throw proposalError(error)
        }
        return try committed(proposed).get()
    }

    /// No task in between: the node loop calls `completion` as it applies the entry.
    func propose(_ command: Command, completion: @escaping @Sendable (Result<Committed, ConsensusError>) -> Void) {
        let bytes = command.stamped(atMillis: clock.nowMillis).encoded()
        node.propose(bytes, fencedOn: nil) { [self] result in
            switch result {
            case .success(let proposed): completion(committed(proposed))
            case .failure(let error): completion(.failure(proposalError(error)))
            }
        }
    }

    /// The engine's answer in what the loop handed back.
    private func committed(_ proposed: Proposed) -> Result<Committed, ConsensusError> {
        guard let applied = proposed.result as? Applied else {
            // The entry at this index was applied, but not by the engine: cannot happen for a
            // command envelope; reported as unknown rather than trapping.
            return .failure(.outcomeUnknown(reason: "index \(proposed.index) was applied without an engine outcome"))
        }
        return .success(Committed(index: proposed.index, outcome: applied.outcome))
    }

    func readBarrier() async throws(ConsensusError) {
        do {
            _ = try await node.readIndex()
        } catch ClusterError.timedOut {
            throw .readUnavailable(reason: "no quorum confirmed the read point in time")
        } catch ClusterError.notLeader {
            throw .noLeader
        } catch ClusterError.shuttingDown, ClusterError.interrupted {
            throw .shuttingDown
        } catch {
            throw .readUnavailable(reason: "\(error)")
        }
    }

    /// A proposal's failure, by what it means for the command.
    private func proposalError(_ error: any Error) -> ConsensusError {
        guard let error = error as? ClusterError else { return .outcomeUnknown(reason: "\(error)") }
        switch error {
        case .notLeader(let leader):
            guard leader != 0 else { return .noLeader }
            return .notLeader(leaderHint: node.status.addresses[leader]?.api)
        case .busy(let why): return .busy(reason: why, retryAfterMillis: 1_000)
        case .deposed(let term, let current): return .deposed(term: term, currentTerm: current)
        case .dropped: return .leaderChanged
        case .tooLarge(let bytes, let max): return .commandTooLarge(bytes: bytes, max: max)
        case .shuttingDown: return .shuttingDown
        // The leader refused to append it: not applied. (Membership refusals do not come here.)
        case .rejected(let why): return .busy(reason: why, retryAfterMillis: 1_000)
        case .learnerNotReady(let lag): return .busy(reason: lag.description, retryAfterMillis: 1_000)
        case .wouldLoseQuorum(let shortfall): return .busy(reason: shortfall.description, retryAfterMillis: 1_000)
        case .timedOut: return .outcomeUnknown(reason: "no commit within the request timeout")
        case .interrupted(let why): return .outcomeUnknown(reason: why)
        case .storageFailed(let why): return .outcomeUnknown(reason: "storage failed: \(why)")
        }
    }

    // MARK: Node and cluster facts

    private static func roleName(_ status: NodeStatus) -> String {
        if status.configuration.learners.contains(status.id) { return "learner" }
        switch status.role {
        case .leader: return "leader"
        case .follower: return "follower"
        case .candidate: return "candidate"
        case .preCandidate: return "pre_candidate"
        }
    }

    func health() -> NodeHealth {
        let s = node.status
        return NodeHealth(node: s.id, role: Self.roleName(s), leader: s.leader == 0 ? nil : s.leader,
                          leaderAPI: s.leader == 0 ? nil : s.addresses[s.leader]?.api, term: s.term,
                          commitIndex: s.commitIndex, appliedIndex: s.appliedIndex)
    }

    func liveness(timeoutMillis: Int) async -> Liveness {
        do {
            _ = try await node.liveStatus(timeoutMillis: timeoutMillis)
            return .responding
        } catch ClusterError.timedOut {
            return .unresponsive(timeoutMillis: timeoutMillis)
        } catch ClusterError.storageFailed(let why) {
            return .stopped(reason: "storage failed: \(why)")
        } catch {
            return .stopped(reason: "\(error)")
        }
    }

    var storageFailure: String? { node.status.storageFailure }

    func clusterInfo() -> ClusterStatus {
        let s = node.status
        let members = s.configuration.members.sorted().map { id in
            ClusterMember(id: id, raft: s.addresses[id].map { "\($0.raft)" } ?? "", api: s.addresses[id]?.api ?? "",
                          role: s.configuration.learners.contains(id) ? "learner" : "voter", isLeader: id == s.leader,
                          matchIndex: s.progress[id]?.match, live: s.progress[id]?.isLive)
        }
        return ClusterStatus(node: s.id, leader: s.leader == 0 ? nil : s.leader, term: s.term, commitIndex: s.commitIndex,
                             appliedIndex: s.appliedIndex, members: members)
    }

    func leadership() -> AsyncStream<Leadership> {
        let watched = node.watchLeadership()
        return AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let task = Task {
                for await value in watched {
                    switch value {
                    case .leading(let term, let since): continuation.yield(.leading(term: term, sinceIndex: since))
                    case .following(let term, let leader): continuation.yield(.following(term: term, leader: leader))
                    case .stopped: continuation.yield(.stopped)
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: Membership

    func addMember(id: UInt64, raft: String, api: String, learner: Bool) async throws {
        guard id != 0 else { throw MembershipError.invalid(field: "id", reason: "must be a positive integer") }
        guard let raftAddress = PeerAddressParser.parse(raft) else {
            throw MembershipError.invalid(field: "raft", reason: "must be host:port, not '\(raft)'")
        }
        let status = node.status
        if status.configuration.voters.contains(id) || (learner && status.configuration.learners.contains(id)) {
            throw MembershipError.conflict(reason: "node \(id) is already a member")
        }
        let apiURL = api.hasPrefix("http") ? api : "\(apiScheme)://\(api)"
        try await mapping { try await self.node.addMember(id, address: MemberAddress(raft: raftAddress, api: apiURL), asLearner: learner) }
    }

    func promoteMember(id: UInt64) async throws {
        let status = node.status
        guard status.configuration.members.contains(id) else { throw MembershipError.unknownMember(id: id) }
        guard status.configuration.learners.contains(id) else { throw MembershipError.conflict(reason: "node \(id) is already a voter") }
        try await mapping { try await self.node.changeMembership(.addVoter(id)) }
    }

    func removeMember(id: UInt64) async throws {
        guard node.status.configuration.members.contains(id) else { throw MembershipError.unknownMember(id: id) }
        try await mapping { try await self.node.changeMembership(.remove(id)) }
    }

    func transferLeadership(to id: UInt64) async throws {
        let status = node.status
        guard status.configuration.members.contains(id) else { throw MembershipError.unknownMember(id: id) }
        guard status.configuration.voters.contains(id) else { throw MembershipError.conflict(reason: "node \(id) is a learner and cannot lead") }
        try await mapping { try await self.node.transferLeadership(to: id) }
    }

    /// Cluster errors of a membership operation: refusals are conflicts, the rest keep their
    /// consensus meaning.
    private func mapping(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ClusterError {
            switch error {
            case .rejected(let why): throw MembershipError.conflict(reason: why)
            case .learnerNotReady(let lag):
                throw MembershipError.learnerNotReady(id: lag.learner, match: lag.match, leaderIndex: lag.leaderLastIndex,
                                                      lagMax: lag.lagEntriesMax, live: lag.isLive,
                                                      reason: Self.explain(lag, electionTimeoutMillis: node.electionTimeoutMillis))
            case .wouldLoseQuorum(let shortfall):
                throw MembershipError.wouldLoseQuorum(votersAfter: shortfall.votersAfter.sorted(), live: shortfall.liveVoters.sorted(),
                                                      quorum: shortfall.quorum,
                                                      reason: Self.explain(shortfall, electionTimeoutMillis: node.electionTimeoutMillis))
            case .notLeader(let leader):
                throw MembershipError.conflict(reason: leader == 0 ? "no leader is known; retry" : "node \(leader) leads; send this to it")
            default: throw proposalError(error)
            }
        }
    }
}

extension ClusterConsensus {
    /// The `learner_not_ready` message: what the leader measured and what to do.
    static func explain(_ lag: LearnerLag, electionTimeoutMillis: Int) -> String {
        var text = "learner \(lag.learner) is not in sync with the leader: its match index is \(lag.match), the leader's last "
            + "index is \(lag.leaderLastIndex) (\(lag.lagEntries) behind; at most \(lag.lagEntriesMax) allowed)"
        if !lag.isLive { text += ", and the leader has not heard from it in the last election timeout (\(electionTimeoutMillis) ms)" }
        return text + "; promote it once `orchestrator cluster status` shows it LIVE with a MATCH close to the leader's"
    }

    /// The `would_lose_quorum` message: who counts as live and what would be needed.
    static func explain(_ shortfall: QuorumShortfall, electionTimeoutMillis: Int) -> String {
        let live = shortfall.liveVoters.isEmpty ? "none" : "node " + shortfall.liveVoters.sorted().map(String.init).joined(separator: ", ")
        let after = shortfall.votersAfter.sorted().map(String.init).joined(separator: ", ")
        return "\(shortfall.change.summary) would leave voters {\(after)} with \(shortfall.liveVoters.count) live (\(live)), short of their quorum "
            + "of \(shortfall.quorum); live: the leader, and voters it heard from in the last election timeout "
            + "(\(electionTimeoutMillis) ms). Bring the other voters back, or remove one that is down first"
    }
}

/// `host:port` (optionally with an `http://` prefix) as a Raft peer address.
enum PeerAddressParser {
    static func parse(_ text: String) -> PeerAddress? {
        let stripped = text.hasPrefix("http://") ? String(text.dropFirst(7)) : text
        return PeerAddress(stripped)
    }
}
