import Foundation
import Raft
import Synchronization

/// What other threads ask of a node's loop (``NodeLoop/post(_:)``).
enum NodeEvent: Sendable {
    case propose([UInt8], CheckedContinuation<Proposed, any Error>)
    case read(CheckedContinuation<LogIndex, any Error>)
    case membership(ConfigChange, CheckedContinuation<Proposed, any Error>)
    case transfer(NodeID, CheckedContinuation<Void, any Error>)
    case shutdown(CheckedContinuation<Void, Never>)
    /// A snapshot encoded and written off the loop (or why it failed), with the time it started.
    case snapshotWritten(Result<PreparedSnapshot, any Error>, startedNanos: UInt64)
}

/// The node's latest status, written by the loop thread, read by anyone.
final class StatusBox: Sendable {
    private let mutex: Mutex<NodeStatus>
    init(_ status: NodeStatus) { mutex = Mutex(status) }
    var value: NodeStatus { mutex.withLock { $0 } }
    func set(_ status: NodeStatus) { mutex.withLock { $0 = status } }
}
