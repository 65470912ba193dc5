import Raft
import Synchronization

/// Whether a node leads, as the work that runs only on a leader needs to know it: a node
/// leads in term T from the moment it has applied the first entry of T (its no-op), because
/// from then on its state holds every entry committed by earlier leaders.
public enum NodeLeadership: Sendable, Hashable {
    /// Leading in `term`; the term's first entry is at `sinceIndex` and has been applied.
    case leading(term: Term, sinceIndex: LogIndex)
    /// Not leading in `term`; `leader` is who leads (0: none known).
    case following(term: Term, leader: NodeID)
    /// The node has stopped.
    case stopped
}

/// The node's leadership, set by the loop, watched by anyone: each watcher gets the current
/// value, then every change (only the newest when it reads slowly).
final class LeadershipBox: Sendable {
    private let state = Mutex<(value: NodeLeadership, nextID: UInt64,
                               watchers: [UInt64: AsyncStream<NodeLeadership>.Continuation])>(
        (.following(term: 0, leader: 0), 1, [:]))

    var value: NodeLeadership { state.withLock { $0.value } }

    /// Sets the value; watchers hear of it only when it changed.
    func set(_ value: NodeLeadership) {
        let finished = state.withLock { state -> [AsyncStream<NodeLeadership>.Continuation] in
            guard state.value != value else { return [] }
            state.value = value
            for watcher in state.watchers.values { watcher.yield(value) }
            guard value == .stopped else { return [] }
            defer { state.watchers = [:] }
            return Array(state.watchers.values)
        }
        // Outside the lock: finishing runs each stream's termination handler, which takes it.
        for watcher in finished { watcher.finish() }
    }

    func watch() -> AsyncStream<NodeLeadership> {
        let (stream, continuation) = AsyncStream<NodeLeadership>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id: UInt64? = state.withLock { state in
            continuation.yield(state.value)
            guard state.value != .stopped else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.watchers[id] = continuation
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }
}
