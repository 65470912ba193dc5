import Synchronization

/// The node's latest status, written by the loop thread, read by anyone.
final class StatusBox: Sendable {
    private let mutex: Mutex<NodeStatus>
    init(_ status: NodeStatus) { mutex = Mutex(status) }
    var value: NodeStatus { mutex.withLock { $0 } }
    func set(_ status: NodeStatus) { mutex.withLock { $0 = status } }
}
