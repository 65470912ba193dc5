import APIModels
import Engine
import JSON
import NIOCore
import Synchronization

/// The node's feed for `GET /v1/events`: one subscription to the engine's effects (and one to
/// leadership) whose events are formatted once, as Server-Sent Events text, into a bounded
/// ring that every open stream reads from. So a stream costs a cursor into the ring, not a
/// copy of the events, and a reconnecting client resumes from the ring with `Last-Event-ID`.
///
/// Started by the first stream (a node nobody watches formats nothing) and kept running
/// until `stop()`, so a client that reconnects finds what happened while it was away.
///
/// Positions in the ring are sequence numbers (`seq`), not log indexes: a `leader` event has
/// no log index. A stream whose next `seq` was overwritten (it read too slowly) is told so
/// and ended (`dropped`), so a slow client never makes the server hold more than the ring.
final class EventHub: Sendable {
    /// One formatted event in the ring.
    struct Held: Sendable {
        /// Position in the ring's sequence.
        let seq: UInt64
        /// The log index (the SSE `id`) of a `change` or `reset` event; nil for a `leader` event.
        let index: UInt64?
        /// The SSE text, ending with the blank line.
        let text: ByteBuffer
    }

    /// What a stream reads next (`read(from:limit:)`).
    enum Read: Sendable {
        /// Events from `from` on (possibly none), and the `seq` to read from next.
        case events([Held], next: UInt64)
        /// Events from `from` on were overwritten before the stream read them.
        case overwritten
    }

    /// Where a new stream starts.
    struct Start: Sendable {
        /// The first `seq` to read.
        let seq: UInt64
        /// `change` events up to this index are skipped (the client has them).
        let skipThroughIndex: UInt64
        /// A `reset` event to send first: the client's `Last-Event-ID` is older than what the
        /// ring holds.
        let reset: ByteBuffer?
        /// Wakes the stream when events arrive (or it should end: the stream finishes).
        let wakes: AsyncStream<Void>
        /// The stream's registration, for `disconnect`.
        let id: UInt64
    }

    private struct State {
        var started = false
        var stopped = false
        var slots: [Held?]
        /// The `seq` the next event gets.
        var nextSeq: UInt64 = 0
        /// Every `change` event with an index above this is in the ring or still to come.
        var completeAfterIndex: UInt64 = 0
        /// The index of the last entry the feed has seen.
        var lastIndex: UInt64 = 0
        var waiters: [UInt64: AsyncStream<Void>.Continuation] = [:]
        var nextWaiterID: UInt64 = 1
        var tasks: [Task<Void, Never>] = []
        /// The last `leader` event appended (a repeated view is not appended again).
        var lastLeader: LeaderEvent?

        /// The oldest `seq` still held.
        var oldestSeq: UInt64 { nextSeq - UInt64(min(Int(nextSeq), slots.count)) }
    }

    private let engine: ReplicatedEngine
    private let consensus: any Consensus
    private let state: Mutex<State>
    /// Most events held (`APISettings.eventRingEventsMax`).
    let capacity: Int

    init(engine: ReplicatedEngine, consensus: any Consensus, capacity: Int) {
        precondition(capacity >= 1, "the event ring needs room for an event")
        self.engine = engine
        self.consensus = consensus
        self.capacity = capacity
        state = Mutex(State(slots: Array(repeating: nil, count: capacity)))
    }

    /// How many streams are open.
    var streamCount: Int { state.withLock { $0.waiters.count } }

    /// Registers a stream that resumes after `lastEventID` (nil: only what happens from now).
    /// Starts the feed on first use. Nil once the hub is stopped.
    func connect(lastEventID: UInt64?) -> Start? {
        startIfNeeded()
        let (wakes, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        // The first read happens at once: a resumed stream has held events to send.
        continuation.yield()
        return state.withLock { state -> Start? in
            guard !state.stopped else { return nil }
            let id = state.nextWaiterID
            state.nextWaiterID += 1
            state.waiters[id] = continuation
            guard let lastEventID else {
                return Start(seq: state.nextSeq, skipThroughIndex: 0, reset: nil, wakes: wakes, id: id)
            }
            if lastEventID < state.completeAfterIndex {
                let notice = EventNotice(reason: "this node no longer holds the events after \(lastEventID) (it holds those after "
                                         + "\(state.completeAfterIndex)): refetch what you show; the stream continues after "
                                         + "\(state.lastIndex)", index: state.lastIndex)
                return Start(seq: state.nextSeq, skipThroughIndex: state.lastIndex,
                             reset: Self.format(event: "reset", id: state.lastIndex, data: notice.json), wakes: wakes, id: id)
            }
            // The first held event after `lastEventID` (the ring is in log order).
            var seq = state.nextSeq
            var probe = state.nextSeq
            while probe > state.oldestSeq {
                probe -= 1
                guard let held = state.slots[Int(probe % UInt64(capacity))] else { break }
                if let index = held.index, index <= lastEventID { break }
                seq = probe
            }
            return Start(seq: seq, skipThroughIndex: lastEventID, reset: nil, wakes: wakes, id: id)
        }
    }

    /// Wakes stream `id` (its heartbeat is due).
    func wake(_ id: UInt64) {
        _ = state.withLock { $0.waiters[id] }?.yield()
    }

    /// Ends a stream's registration.
    func disconnect(_ id: UInt64) {
        let continuation = state.withLock { $0.waiters.removeValue(forKey: id) }
        continuation?.finish()
    }

    /// Up to `limit` events from `seq` on.
    func read(from seq: UInt64, limit: Int) -> Read {
        state.withLock { state in
            if seq < state.oldestSeq { return .overwritten }
            var events: [Held] = []
            var next = seq
            while next < state.nextSeq, events.count < limit {
                if let held = state.slots[Int(next % UInt64(capacity))] { events.append(held) }
                next += 1
            }
            return .events(events, next: next)
        }
    }

    /// The index of the last entry the feed has seen.
    var lastIndex: UInt64 { state.withLock { $0.lastIndex } }

    /// Stops the feed and ends every stream (the server is stopping).
    func stop() {
        let (tasks, waiters) = state.withLock { state in
            state.stopped = true
            defer { state.tasks = []; state.waiters = [:] }
            return (state.tasks, Array(state.waiters.values))
        }
        for task in tasks { task.cancel() }
        for waiter in waiters { waiter.finish() }
    }

    // MARK: The feed

    private func startIfNeeded() {
        let start = state.withLock { state -> Bool in
            guard !state.started, !state.stopped else { return false }
            state.started = true
            return true
        }
        guard start else { return }
        let effects = Task { [weak self] in _ = await self?.followEffects() }
        let leadership = Task { [weak self, consensus] in
            for await value in consensus.leadership() {
                guard let self else { return }
                self.publishLeadership(value)
            }
        }
        state.withLock { $0.tasks += [effects, leadership] }
    }

    /// Follows the engine's effects; after falling behind (the engine's stream cut the feed
    /// off) it subscribes again and puts a `reset` in the ring, so streams refetch.
    private func followEffects() async {
        var first = true
        while !Task.isCancelled {
            // Only the index is kept of the state: holding the copy would make apply copy what it changes.
            let (after, subscription) = { () -> (UInt64, EffectSubscription) in
                let subscribed = engine.subscribe(where: Self.isShown)
                return (subscribed.state.appliedIndex, subscribed.effects)
            }()
            state.withLock { state in
                state.completeAfterIndex = after
                state.lastIndex = max(state.lastIndex, after)
            }
            if !first {
                let notice = EventNotice(reason: "this node's event feed fell behind its own log; refetch what you show",
                                         index: after)
                append(index: after, text: Self.format(event: "reset", id: after, data: notice.json))
            }
            first = false
            do {
                for try await batch in subscription {
                    let changes = batch.effects.compactMap(Self.change)
                    guard !changes.isEmpty else { continue }
                    let event = EventBatch(index: batch.index, term: batch.term, changes: changes)
                    append(index: batch.index, text: Self.format(event: "change", id: batch.index, data: event.json))
                }
                return   // the engine's stream finished: the node is stopping
            } catch {
                continue // fell behind: subscribe again
            }
        }
    }

    private func publishLeadership(_ value: Leadership) {
        let node = consensus.health().node
        let event: LeaderEvent
        switch value {
        case .leading(let term, _): event = LeaderEvent(node: node, leader: node, term: term)
        case .following(let term, let leader): event = LeaderEvent(node: node, leader: leader == 0 ? nil : leader, term: term)
        case .stopped: return
        }
        let changed = state.withLock { state in
            defer { state.lastLeader = event }
            return state.lastLeader != event
        }
        if changed { append(index: nil, text: Self.format(event: "leader", id: nil, data: event.json)) }
    }

    private func append(index: UInt64?, text: ByteBuffer) {
        let waiters = state.withLock { state -> [AsyncStream<Void>.Continuation] in
            let slot = Int(state.nextSeq % UInt64(capacity))
            // The event this one overwrites: a client that resumes before it has missed it.
            if let overwritten = state.slots[slot]?.index {
                state.completeAfterIndex = max(state.completeAfterIndex, overwritten)
            }
            state.slots[slot] = Held(seq: state.nextSeq, index: index, text: text)
            state.nextSeq += 1
            if let index { state.lastIndex = max(state.lastIndex, index) }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.yield() }
    }

    // MARK: Formatting

    /// Whether an effect is shown on the stream (timers and cron slots are not: they change
    /// nothing a dashboard shows until the transition they cause).
    /// Called under the engine's lock for every effect applied, so it only looks at the case.
    @Sendable static func isShown(_ effect: Effect) -> Bool {
        switch effect {
        case .cronFired, .timerArmed, .timerCancelled: false
        case .workflowRegistered, .instanceStarted, .instanceMoved, .instanceFinished, .instancePurged, .dispatchRecorded,
             .dispatchRetryScheduled, .dispatchFinished: true
        }
    }

    /// The wire form of an effect, nil for those not shown.
    static func change(_ effect: Effect) -> EventChange? {
        switch effect {
        case .workflowRegistered(let name, let version, _):
            EventChange(type: "workflow_registered", workflow: name, version: version)
        case .instanceStarted(let id, let workflow, let version, let state):
            EventChange(type: "instance_started", instance: id, workflow: workflow, version: version, state: state)
        case .instanceMoved(let id, let workflow, let transition, let from, let to, let revision):
            EventChange(type: "instance_moved", instance: id, workflow: workflow, transition: transition, from: from, to: to,
                        revision: revision)
        case .instanceFinished(let id, let workflow, let state):
            EventChange(type: "instance_finished", instance: id, workflow: workflow, state: state)
        case .instancePurged(let id, let workflow):
            EventChange(type: "instance_purged", instance: id, workflow: workflow)
        case .dispatchRecorded(let id, let instance, let plugin):
            EventChange(type: "dispatch_recorded", instance: instance, dispatch: id, plugin: plugin)
        case .dispatchRetryScheduled(let id, let instance, let attempt, _):
            EventChange(type: "dispatch_retry", instance: instance, dispatch: id, attempt: attempt)
        case .dispatchFinished(let id, let instance, let succeeded):
            EventChange(type: "dispatch_finished", instance: instance, dispatch: id, succeeded: succeeded)
        case .cronFired, .timerArmed, .timerCancelled:
            nil
        }
    }

    /// One SSE event: `id:` (when given), `event:`, one `data:` line (the JSON writer never
    /// writes a newline), and the blank line that ends it.
    static func format(event: String, id: UInt64?, data: JSONValue) -> ByteBuffer {
        var buffer = ByteBuffer()
        if let id { buffer.writeString("id: \(id)\n") }
        buffer.writeString("event: \(event)\ndata: ")
        buffer.writeBytes(JSONWriter.bytes(data))
        buffer.writeString("\n\n")
        return buffer
    }
}
