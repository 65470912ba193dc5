import APIModels
import Engine
import Synchronization
import XCTest

/// A one-node `Consensus` over a real engine whose leadership the test sets: proposals are
/// applied at once (stamped with a manual clock) while it leads, and a proposal fenced on a
/// term it no longer leads in is refused before it reaches the engine, as `ClusterConsensus`
/// does.
final class LeaderTwin: Consensus {
    let engine: ReplicatedEngine
    let clock: ManualClock
    private let state = Mutex<(leadership: Leadership, nextIndex: UInt64, proposals: [Command],
                               watchers: [AsyncStream<Leadership>.Continuation])>((.following(term: 0, leader: 0), 1, [], []))

    init(engine: ReplicatedEngine = ReplicatedEngine(), clock: ManualClock = ManualClock(nowMillis: 1_800_000_000_000)) {
        self.engine = engine
        self.clock = clock
    }

    /// Every command that reached the engine, in order.
    var proposals: [Command] { state.withLock { $0.proposals } }

    /// Changes leadership and tells every watcher.
    func set(_ leadership: Leadership) {
        let watchers = state.withLock { state in
            state.leadership = leadership
            return state.watchers
        }
        for watcher in watchers { watcher.yield(leadership) }
    }

    func propose(_ command: Command, fencedOn term: UInt64?) async throws(ConsensusError) -> Committed {
        let now = clock.nowMillis
        return try state.withLock { (state) throws(ConsensusError) -> Committed in
            guard let leading = state.leadership.leadingTerm else { throw .notLeader(leaderHint: nil) }
            if let term, term != leading { throw .deposed(term: term, currentTerm: leading) }
            state.proposals.append(command)
            let index = state.nextIndex
            state.nextIndex += 1
            return Committed(index: index, outcome: engine.apply(index: index, term: leading, command: command.stamped(atMillis: now)).outcome)
        }
    }

    func readBarrier() async throws(ConsensusError) {}

    func health() -> NodeHealth {
        let leading = state.withLock { $0.leadership.leadingTerm }
        return NodeHealth(node: 1, role: leading == nil ? "follower" : "leader", leader: leading == nil ? nil : 1,
                          leaderAPI: nil, term: leading ?? 0, commitIndex: engine.appliedIndex, appliedIndex: engine.appliedIndex)
    }

    func liveness(timeoutMillis: Int) async -> Liveness { .responding }

    var storageFailure: String? { nil }

    func clusterInfo() -> ClusterStatus {
        let health = health()
        return ClusterStatus(node: 1, leader: health.leader, term: health.term, commitIndex: health.commitIndex,
                           appliedIndex: health.appliedIndex, members: [])
    }

    func leadership() -> AsyncStream<Leadership> {
        let (stream, continuation) = AsyncStream<Leadership>.makeStream(bufferingPolicy: .bufferingNewest(1))
        state.withLock { state in
            continuation.yield(state.leadership)
            state.watchers.append(continuation)
        }
        return stream
    }

    func addMember(id: UInt64, raft: String, api: String, learner: Bool) async throws {}
    func promoteMember(id: UInt64) async throws {}
    func removeMember(id: UInt64) async throws {}
    func transferLeadership(to id: UInt64) async throws {}
}

/// Polls `condition` every 5 ms for up to `seconds`.
func eventually(_ seconds: Double = 5, _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1_000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

/// Fails the test unless `condition` becomes true within `seconds`.
func assertEventually(_ seconds: Double = 5, _ condition: () -> Bool, file: StaticString = #filePath,
                      line: UInt = #line) async throws {
    let met = try await eventually(seconds, condition)
    XCTAssertTrue(met, "condition not met within \(seconds) s", file: file, line: line)
}
