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
    /// A snapshot encoded and written off the loop (or why it failed), with the time it started.
    case snapshotWritten(Result<PreparedSnapshot, any Error>, startedNanos: UInt64)
}

/// The node loop's mailbox: any thread posts, the loop thread takes everything at once
/// (which is what batches proposals into one `Ready` and one fsync).
final class Inbox: @unchecked Sendable {
    // Safety: `events` and `closed` are only read or written while holding `condition`.
    private let condition = NSCondition()
    private var events: [NodeEvent] = []
    private var closed = false
    private var queuedMessages = 0
    private var droppedMessages = 0

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

    /// Queues arrived Raft messages. Beyond `messagesMax` queued messages (a loop stalled
    /// on its disk) further ones are dropped and counted: Raft tolerates loss, and memory
    /// stays bounded.
    func post(messages: [Message]) {
        condition.lock()
        defer { condition.unlock() }
        guard !closed, !messages.isEmpty else { return }
        let room = max(0, Self.messagesMax - queuedMessages)
        let taken = min(room, messages.count)
        droppedMessages += messages.count - taken
        guard taken > 0 else { return }
        let wasEmpty = events.isEmpty
        for message in messages.prefix(taken) { events.append(.message(message)) }
        queuedMessages += taken
        if wasEmpty { condition.signal() }
    }

    /// How many queued messages the inbox holds at most.
    static let messagesMax = 65_536

    /// Messages dropped because the inbox was full, since the start.
    var dropped: Int {
        condition.lock()
        defer { condition.unlock() }
        return droppedMessages
    }

    /// Waits until an event arrives or `deadline` passes, then takes every queued event.
    func take(waitingUntil deadline: Date) -> [NodeEvent] {
        condition.lock()
        defer { condition.unlock() }
        if events.isEmpty { _ = condition.wait(until: deadline) }
        let taken = events
        events = []
        queuedMessages = 0
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
