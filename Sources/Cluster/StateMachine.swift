import Raft

/// The application replicated by a ``ClusterNode``. Every node applies the same
/// committed commands in the same order; `apply` must be deterministic.
///
/// The node calls these methods from its own loop thread, one at a time, so an
/// implementation needs no locking against itself — but it is `Sendable` because other
/// tasks (an HTTP API, say) may read it concurrently.
public protocol ReplicatedStateMachine: AnyObject, Sendable {
    /// Applies one committed command, proposed in `term`, and returns its result: handed as
    /// it is (a value, never re-encoded) to the proposer waiting on this node, if any.
    func apply(index: LogIndex, term: Term, command: [UInt8]) -> any Sendable
    /// Encodes the whole state as of the last applied command.
    func snapshot() -> [UInt8]
    /// Replaces the whole state with a snapshot's.
    func restore(from snapshot: [UInt8]) throws
    /// A snapshot in two steps: this call (on the loop thread) captures the state as of
    /// the last applied command and must be quick — an immutable copy-on-write copy, say;
    /// the returned function encodes it and runs on another thread while the loop keeps
    /// applying. The default encodes at once with `snapshot()`.
    func snapshotSource() -> @Sendable () -> [UInt8]
}

extension ReplicatedStateMachine {
    public func snapshotSource() -> @Sendable () -> [UInt8] {
        let bytes = snapshot()
        return { bytes }
    }
}
