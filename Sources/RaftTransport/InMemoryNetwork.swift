import Metrics
import Raft
import Synchronization

/// A network of nodes inside one process: no sockets, no disk. Each node's transport
/// delivers straight into the receiver's bounded inbox, so a send never blocks and memory
/// never grows past `inboxMaxMessages` per node — a full inbox drops and counts (unlike
/// hashicorp/raft's in-memory transport, whose unbuffered channels wedge under load). A
/// receiver that asked for direct delivery (`deliverDirectly(to:)`, as a cluster node does)
/// is handed each sender's batch on the sender's thread instead, with no task in between; it
/// must bound what it queues itself (the node loop does).
///
/// Tests cut and heal links to make partitions:
///
/// ```swift
/// let network = InMemoryNetwork()
/// let transports = (1...3).map { network.transport(for: $0) }
/// network.isolate(1)        // 1 can neither send to nor hear from 2 and 3
/// network.healAll()
/// ```
public final class InMemoryNetwork: Sendable {
    /// Messages one node's inbox holds before new arrivals are dropped.
    public let inboxMaxMessages: Int

    private let state = Mutex(State())
    let counters = TransportCounters()

    private struct State {
        var inboxes: [NodeID: AsyncStream<Message>.Continuation] = [:]
        /// Receivers that take batches directly (`InMemoryTransport.deliverDirectly(to:)`).
        var direct: [NodeID: @Sendable ([Message]) -> Void] = [:]
        /// Directed links that drop everything: (from, to).
        var cut: Set<Link> = []
    }

    private struct Link: Hashable {
        var from: NodeID
        var to: NodeID
    }

    public init(inboxMaxMessages: Int = 8192) {
        precondition(inboxMaxMessages > 0, "inboxMaxMessages must be positive")
        self.inboxMaxMessages = inboxMaxMessages
    }

    /// A transport for `node`, attached at once: it can send and receive before `start()`
    /// (which does nothing here). Call once per node; a second call replaces the first's
    /// inbox, as a restarted process would.
    public func transport(for node: NodeID) -> InMemoryTransport {
        precondition(node != 0, "node id 0 means none")
        let transport = InMemoryTransport(nodeID: node, network: self)
        attach(node, transport.continuation)
        return transport
    }

    /// Counters for the whole network.
    public var stats: TransportStats { counters.snapshot }

    /// Drops every message from `from` to `to` (one direction) until healed.
    public func cut(from: NodeID, to: NodeID) {
        state.withLock { _ = $0.cut.insert(Link(from: from, to: to)) }
    }

    /// Drops messages both ways between `a` and `b`.
    public func cut(_ a: NodeID, _ b: NodeID) {
        state.withLock {
            $0.cut.insert(Link(from: a, to: b))
            $0.cut.insert(Link(from: b, to: a))
        }
    }

    /// Restores both directions between `a` and `b`.
    public func heal(_ a: NodeID, _ b: NodeID) {
        state.withLock {
            $0.cut.remove(Link(from: a, to: b))
            $0.cut.remove(Link(from: b, to: a))
        }
    }

    /// Cuts `node` off from every other node currently attached.
    public func isolate(_ node: NodeID) {
        state.withLock { state in
            for other in state.inboxes.keys where other != node {
                state.cut.insert(Link(from: node, to: other))
                state.cut.insert(Link(from: other, to: node))
            }
        }
    }

    /// Restores every link.
    public func healAll() {
        state.withLock { $0.cut.removeAll() }
    }

    // MARK: - Used by InMemoryTransport

    func attach(_ node: NodeID, _ continuation: AsyncStream<Message>.Continuation) {
        let previous = state.withLock { state in
            state.direct[node] = nil
            return state.inboxes.updateValue(continuation, forKey: node)
        }
        previous?.finish()
    }

    /// Hands `node`'s messages to `receiver` from now on, as long as `continuation` is its inbox.
    func deliverDirectly(to node: NodeID, _ continuation: AsyncStream<Message>.Continuation,
                         _ receiver: @escaping @Sendable ([Message]) -> Void) {
        state.withLock { state in
            if let current = state.inboxes[node], current == continuation { state.direct[node] = receiver }
        }
    }

    func detach(_ node: NodeID, _ continuation: AsyncStream<Message>.Continuation) {
        // Only if it is still ours: a newer transport for the same node may have replaced it.
        state.withLock { state in
            if let current = state.inboxes[node], current == continuation {
                state.inboxes[node] = nil
                state.direct[node] = nil
            }
        }
        continuation.finish()
    }

    func deliver(_ messages: [Message], from node: NodeID) {
        var sent = 0, sendDropped = 0, receiveDropped = 0
        /// Per peer, for `raft_peer_sent_failures_total` (peer ids are bounded by the membership).
        var failedByPeer: [NodeID: Int] = [:]
        // Direct receivers get their share in one batch each, after the lock, in send order
        // (one sender sends from one thread at a time, so its batches arrive in order).
        var batches: [(receiver: @Sendable ([Message]) -> Void, messages: [Message])] = []
        state.withLock { state in
            for message in messages {
                guard message.from == node, let inbox = state.inboxes[message.to],
                      !state.cut.contains(Link(from: node, to: message.to)) else {
                    sendDropped += 1
                    if message.from == node { failedByPeer[message.to, default: 0] += 1 }
                    continue
                }
                if let receiver = state.direct[message.to] {
                    if let slot = batches.firstIndex(where: { $0.messages[0].to == message.to }) {
                        batches[slot].messages.append(message)
                    } else {
                        batches.append((receiver, [message]))
                    }
                    sent += 1
                    continue
                }
                // Yielding under the lock keeps each sender's messages in order at every receiver.
                switch inbox.yield(message) {
                case .enqueued: sent += 1
                case .dropped: receiveDropped += 1
                case .terminated:
                    sendDropped += 1
                    failedByPeer[message.to, default: 0] += 1
                @unknown default:
                    sendDropped += 1
                    failedByPeer[message.to, default: 0] += 1
                }
            }
        }
        for batch in batches { batch.receiver(batch.messages) }
        counters.messagesSent.add(sent)
        counters.messagesReceived.add(sent + receiveDropped)
        counters.sendDropped.add(sendDropped)
        counters.receiveDropped.add(receiveDropped)
        for (peer, count) in failedByPeer {
            Counter(label: "raft_peer_sent_failures_total", dimensions: [("node", "\(node)"), ("peer", "\(peer)")])
                .increment(by: Int64(count))
        }
    }
}

/// One node's transport on an ``InMemoryNetwork``. Addresses are ignored: every node
/// attached to the network is reachable unless a link is cut.
public final class InMemoryTransport: RaftTransport {
    public let nodeID: NodeID
    public let incoming: AsyncStream<Message>
    let continuation: AsyncStream<Message>.Continuation
    private let network: InMemoryNetwork
    private let running = Atomic<Bool>(true)

    init(nodeID: NodeID, network: InMemoryNetwork) {
        self.nodeID = nodeID
        self.network = network
        (incoming, continuation) = AsyncStream.makeStream(of: Message.self, bufferingPolicy: .bufferingOldest(network.inboxMaxMessages))
    }

    /// Nothing to do: the transport was attached when ``InMemoryNetwork/transport(for:)`` made it.
    public func start() async throws {}

    /// Delivers each message to its receiver's inbox now; drops (and counts) messages to
    /// nodes not attached, across cut links, into full inboxes, or sent after `shutdown`.
    public func send(_ messages: [Message]) {
        guard running.load(ordering: .relaxed) else {
            network.counters.sendDropped.add(messages.count)
            return
        }
        network.deliver(messages, from: nodeID)
    }

    /// Ignored: the network routes by node id.
    public func updatePeers(_ peers: [NodeID: PeerAddress]) {}

    /// From now on, hands arriving messages to `receiver`, one batch per sender's send, on
    /// the sender's thread (`incoming` then stays empty). The receiver must not block.
    public func deliverDirectly(to receiver: @escaping @Sendable ([Message]) -> Void) -> Bool {
        network.deliverDirectly(to: nodeID, continuation, receiver)
        return true
    }

    /// Detaches from the network and finishes `incoming`.
    public func shutdown() async {
        running.store(false, ordering: .relaxed)
        network.detach(nodeID, continuation)
    }
}
