import Foundation
import Raft
import Synchronization

/// What other threads ask of a node's loop.
enum NodeEvent: Sendable {
    case message(Message)
    case propose([UInt8], CheckedContinuation<Proposed, any Error>)
    case read(CheckedContinuation<LogIndex, any Error>)
    case membership(ConfigChange, CheckedContinuation<Proposed, any Error>)
    case transfer(NodeID, CheckedContinuation<Void, any Error>)
    case shutdown(CheckedContinuation<Void, Never>)
}

/// The node loop's mailbox: any thread posts, the loop thread takes everything at once
/// (which is what batches proposals into one `Ready` and one fsync).
final class Inbox: @unchecked Sendable {
    // Safety: `events` and `closed` are only read or written while holding `condition`.
    private let condition = NSCondition()
    private var events: [NodeEvent] = []
    private var closed = false

    /// Queues an event; returns false once the loop has stopped.
    @discardableResult
    func post(_ event: NodeEvent) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        events.append(event)
        if events.count == 1 { condition.signal() }
        return true
    }

    func post(contentsOf batch: [NodeEvent]) {
        condition.lock()
        defer { condition.unlock() }
        guard !closed, !batch.isEmpty else { return }
        let wasEmpty = events.isEmpty
        events.append(contentsOf: batch)
        if wasEmpty { condition.signal() }
    }

    /// Waits until an event arrives or `deadline` passes, then takes every queued event.
    func take(waitingUntil deadline: Date) -> [NodeEvent] {
        condition.lock()
        defer { condition.unlock() }
        if events.isEmpty { _ = condition.wait(until: deadline) }
        let taken = events
        events = []
        return taken
    }

    /// Stops accepting events and returns what was still queued.
    func close() -> [NodeEvent] {
        condition.lock()
        defer { condition.unlock() }
        closed = true
        let rest = events
        events = []
        return rest
    }
}

/// The node's latest status, written by the loop thread, read by anyone.
final class StatusBox: Sendable {
    private let mutex: Mutex<NodeStatus>
    init(_ status: NodeStatus) { mutex = Mutex(status) }
    var value: NodeStatus { mutex.withLock { $0 } }
    func set(_ status: NodeStatus) { mutex.withLock { $0 = status } }
}
