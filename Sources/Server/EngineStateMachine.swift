import Cluster
import Engine
import Raft

/// The engine as the cluster's replicated state machine: committed command bytes in, the
/// engine's `Applied` value out (handed as it is to the proposer on this node), effects
/// published on the engine's effect stream, transitions counted.
final class EngineStateMachine: ReplicatedStateMachine {
    let engine: ReplicatedEngine
    /// Counts the transitions each entry applied or refused (`orchestrator_transitions_total`).
    let metrics: EngineMetrics

    init(engine: ReplicatedEngine, metrics: EngineMetrics) {
        self.engine = engine
        self.metrics = metrics
    }

    func apply(index: LogIndex, term: Term, command: [UInt8]) -> any Sendable {
        let applied = engine.apply(index: index, term: term, bytes: command)
        metrics.count(applied)
        return applied
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
