import Cluster
import Engine
import Raft

/// The engine as the cluster's replicated state machine: committed command bytes in,
/// encoded outcome bytes out (handed back to the proposer).
final class EngineStateMachine: ReplicatedStateMachine {
    let engine: ReplicatedEngine

    init(engine: ReplicatedEngine) {
        self.engine = engine
    }

    func apply(index: LogIndex, command: [UInt8]) -> [UInt8] {
        engine.apply(index: index, bytes: command).encoded()
    }

    func snapshot() -> [UInt8] {
        engine.snapshot().bytes
    }

    /// An O(1) copy-on-write copy of the engine state, encoded later off the node loop.
    func snapshotSource() -> @Sendable () -> [UInt8] {
        let copy = engine.current()
        return { copy.snapshot() }
    }

    func restore(from snapshot: [UInt8]) throws {
        try engine.restore(snapshot)
    }
}

/// The engine's view of consensus (`Engine.Consensus`) implemented with a ``ClusterNode``.
final class ClusterConsensus: Consensus {
    let node: ClusterNode
    private let now: @Sendable () -> Int64

    init(node: ClusterNode, now: @escaping @Sendable () -> Int64) {
        self.node = node
        self.now = now
    }

    func propose(_ command: Command) async throws -> (outcome: Outcome, index: UInt64) {
        // The proposing node is the leader (followers forward over HTTP), so this is the
        // leader's clock: apply never reads one.
        let bytes = command.stamped(atMillis: now()).encoded()
        let proposed: Proposed
        do {
            proposed = try await node.propose(bytes)
        } catch let error as ClusterError {
            throw consensusError(error)
        }
        do {
            return (try Outcome.decode(proposed.result), proposed.index)
        } catch {
            throw ConsensusError.outcomeUnknown(reason: "the outcome at index \(proposed.index) did not decode: \(error)")
        }
    }

    func readBarrier() async throws {
        do {
            _ = try await node.readIndex()
        } catch let error as ClusterError {
            throw consensusError(error)
        }
    }

    var isLeader: Bool {
        get async { node.status.role == .leader }
    }

    private func consensusError(_ error: ClusterError) -> ConsensusError {
        switch error {
        case .notLeader(let leader):
            guard leader != 0 else { return .noLeader }
            return .notLeader(leaderHint: node.status.addresses[leader]?.api)
        case .dropped:
            // A leader change replaced the entry: definitely not applied, safe to retry.
            return .noLeader
        case .timedOut:
            return .outcomeUnknown(reason: "no commit within the request timeout")
        case .shuttingDown:
            return .shuttingDown
        case .rejected:
            // The leader refused to append it (a transfer in progress, too much
            // uncommitted data): not applied, and worth retrying shortly.
            return .noLeader
        case .storageFailed(let why):
            return .outcomeUnknown(reason: "storage failed: \(why)")
        }
    }
}
