import APIModels
import Synchronization

/// A one-node `Consensus` with no log: each proposal is stamped with the clock, given the next
/// index and applied at once (term 1). For tests of the API and leader services without Raft,
/// and for tools. It always leads, from index 0.
///
/// ```swift
/// let engine = ReplicatedEngine()
/// let consensus = LocalConsensus(engine: engine, clock: ManualClock(nowMillis: 1_700_000_000_000))
/// let committed = try await consensus.propose(.registerWorkflow(RegisterWorkflow(definition: definition)))
/// ```
public final class LocalConsensus: Consensus {
    /// The term every proposal is applied in.
    public static let term: UInt64 = 1
    /// The engine proposals are applied to.
    public let engine: ReplicatedEngine
    private let clock: any WallClock
    private let nextIndex: Mutex<UInt64>

    /// A consensus over `engine`, stamping commands with `clock`.
    public init(engine: ReplicatedEngine, clock: any WallClock) {
        self.engine = engine
        self.clock = clock
        self.nextIndex = Mutex(engine.appliedIndex + 1)
    }

    public func propose(_ command: Command, fencedOn term: UInt64?) async throws(ConsensusError) -> Committed {
        if let term, term != Self.term { throw .deposed(term: term, currentTerm: Self.term) }
        let stamped = command.stamped(atMillis: clock.nowMillis)
        // Index assignment and apply under one lock: entries apply in index order.
        return nextIndex.withLock { next in
            let index = next
            next += 1
            return Committed(index: index, outcome: engine.apply(index: index, term: Self.term, command: stamped).outcome)
        }
    }

    public func readBarrier() async throws(ConsensusError) {}

    public func health() -> NodeHealth {
        let applied = engine.appliedIndex
        return NodeHealth(node: 1, role: "leader", leader: 1, leaderAPI: nil, term: Self.term, commitIndex: applied,
                          appliedIndex: applied)
    }

    /// Always answers: there is no loop to get stuck.
    public func liveness(timeoutMillis: Int) async -> Liveness { .responding }

    /// Always nil: there is no storage to fail.
    public var storageFailure: String? { nil }

    public func clusterInfo() -> ClusterStatus {
        let applied = engine.appliedIndex
        return ClusterStatus(node: 1, leader: 1, term: Self.term, commitIndex: applied, appliedIndex: applied,
                             members: [ClusterMember(id: 1, raft: "", api: "", role: "voter", isLeader: true, matchIndex: applied,
                                                           live: true)])
    }

    public func leadership() -> AsyncStream<Leadership> {
        let (stream, continuation) = AsyncStream<Leadership>.makeStream(bufferingPolicy: .bufferingNewest(1))
        continuation.yield(.leading(term: Self.term, sinceIndex: 0))
        return stream
    }

    public func addMember(id: UInt64, raft: String, api: String, learner: Bool) async throws {
        throw MembershipError.conflict(reason: "a local (one-node, in-memory) consensus has no membership to change")
    }

    public func promoteMember(id: UInt64) async throws { throw MembershipError.unknownMember(id: id) }

    public func removeMember(id: UInt64) async throws {
        throw MembershipError.conflict(reason: "a local (one-node, in-memory) consensus has no membership to change")
    }

    public func transferLeadership(to id: UInt64) async throws {
        throw MembershipError.conflict(reason: "a local (one-node, in-memory) consensus has no other node to lead")
    }
}
