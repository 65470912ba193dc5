import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Raft
import Synchronization

/// The SwiftNIO TCP transport between the nodes of one cluster.
///
/// Each node keeps one outbound connection per peer and sends only on it; the connections
/// it accepts only receive. So a pair of nodes uses two connections, one per direction,
/// and no connection is ever shared or raced over (docs/transport.md, "Connections"). The
/// one exception: a node with no address for a node that dialed it (it joined, and the log
/// has not told it yet) answers on that node's connection.
///
/// ```swift
/// let transport = TCPTransport(nodeID: 1, clusterID: "prod",
///                              listen: PeerAddress(host: "127.0.0.1", port: 7080),
///                              peers: [2: PeerAddress(host: "10.0.0.2", port: 7080)])
/// try await transport.start()
/// transport.send(ready.messages)
/// for await message in transport.incoming { node.step(message) }
/// await transport.shutdown()
/// ```
public final class TCPTransport: RaftTransport {
    public let nodeID: NodeID
    public let clusterID: String
    public let options: Options
    /// Messages for this node, in arrival order per peer; holds at most
    /// `options.incomingBufferMessages` (newer arrivals are dropped and counted).
    public let incoming: AsyncStream<Message>

    let counters = TransportCounters()
    private let group: any EventLoopGroup
    private let logger: Logger
    private let listen: PeerAddress
    private let state: Mutex<State>
    /// Where arriving messages go, from accepted connections and (answers of peers that
    /// cannot dial us) from our own outbound ones.
    private let inbox: MessageInbox
    private let allocator = ByteBufferAllocator()

    private enum Phase { case idle, starting, running, shutDown }

    private struct State {
        var phase = Phase.idle
        var links: [NodeID: PeerLink] = [:]
        var server: (any Channel)?
        var boundAddress: PeerAddress?
        /// Every accepted connection, by channel identity, until it closes.
        var inbound: [ObjectIdentifier: any Channel] = [:]
        /// The current (newest) accepted connection of each peer.
        var inboundByPeer: [NodeID: ObjectIdentifier] = [:]
        /// Accepted connections that have not sent their handshake yet, with their order of
        /// arrival: when the listener is full, the oldest of them makes room (see `accept`).
        var awaitingHandshake: [ObjectIdentifier: UInt64] = [:]
        var acceptedCount: UInt64 = 0
        /// The "too many connections" and "no handshake in time" warnings, each at most once per 10 s.
        var fullNotices = NoticeThrottle()
        var handshakeTimeoutNotices = NoticeThrottle()
        /// Peers `updatePeers` removed (members that left the cluster): their connections are
        /// refused until they are peers again. Any other node presenting this cluster's id is
        /// admitted — a node that joins knows none of its peers until the log tells it. One
        /// id per removed member: as small as the number of members ever removed.
        var removed: Set<NodeID> = []
    }

    /// - Parameters:
    ///   - nodeID: this node (not 0).
    ///   - clusterID: 1...255 UTF-8 bytes; connections from another cluster are refused.
    ///   - listen: where to accept connections (port 0: any free port, see ``listenAddress``).
    ///   - peers: the other nodes' listen addresses (an entry for `nodeID` itself is ignored).
    public init(nodeID: NodeID, clusterID: String, listen: PeerAddress, peers: [NodeID: PeerAddress],
                options: Options = Options(), logger: Logger = Logger(label: "orchestrator.transport")) {
        precondition(nodeID != 0, "node id 0 means none")
        precondition((1...WireCodec.maxClusterIDBytes).contains(clusterID.utf8.count), "cluster id must be 1...255 UTF-8 bytes")
        precondition(options.sendQueueMaxMessages > 0 && options.sendQueueMaxBytes > 0 && options.incomingBufferMessages > 0
            && options.writeBatchMaxBytes > 0 && options.maxInboundConnections > 0, "transport limits must be positive")
        precondition(options.maxFrameBytes >= WireCodec.headerBytes + 64, "maxFrameBytes too small for any message")
        self.nodeID = nodeID
        self.clusterID = clusterID
        self.options = options
        self.listen = listen
        self.group = options.eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        var logger = logger
        logger[metadataKey: "node"] = "\(nodeID)"
        self.logger = logger
        let (incoming, continuation) = AsyncStream.makeStream(of: Message.self,
                                                              bufferingPolicy: .bufferingOldest(options.incomingBufferMessages))
        self.incoming = incoming
        inbox = MessageInbox(continuation: continuation, counters: counters)
        var state = State()
        let context = LinkContext(nodeID: nodeID, clusterID: clusterID, options: options, counters: counters, inbox: inbox,
                                  logger: logger)
        for (id, address) in peers where id != nodeID && id != 0 {
            state.links[id] = PeerLink(peerID: id, address: address, eventLoop: group.next(), context: context)
        }
        self.state = Mutex(state)
        // A message from a peer shows our connection to it is alive (`Options.deadPeerTimeout`).
        // Weak: the inbox lives as long as the transport and must not keep it alive.
        inbox.setOnHeard { [weak self] peer in self?.state.withLock { $0.links[peer] }?.heard() }
    }

    /// Counters since creation.
    public var stats: TransportStats { counters.snapshot }

    /// The address actually listened on, once ``start()`` returned (useful with port 0).
    public var listenAddress: PeerAddress? { state.withLock { $0.boundAddress } }

    /// Binds the listener, then starts connecting to every peer.
    ///
    /// - Throws: ``TransportError/cannotListen(_:reason:)`` if the address cannot be bound.
    public func start() async throws {
        try state.withLock { state in
            guard state.phase == .idle else { throw TransportError.alreadyStarted }
            state.phase = .starting
        }
        let server: any Channel
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { [self] channel in accept(channel) }
                .bind(host: listen.host, port: listen.port)
                .get()
        } catch {
            state.withLock { if $0.phase == .starting { $0.phase = .idle } }
            throw TransportError.cannotListen(listen, reason: "\(error)")
        }
        let port = server.localAddress?.port ?? listen.port
        let links = state.withLock { state -> [PeerLink]? in
            guard state.phase == .starting else { return nil }
            state.phase = .running
            state.server = server
            state.boundAddress = PeerAddress(host: listen.host, port: port)
            return Array(state.links.values)
        }
        guard let links else {
            // shutdown() ran while we were binding.
            try? await server.close()
            throw TransportError.shutDown
        }
        logger.info("listening on \(listen.host):\(port)")
        for link in links { link.start() }
    }

    /// Queues messages for their peers; see ``RaftTransport/send(_:)``. A message to a node
    /// with no peer address goes back on the connection that node opened to us, if there is
    /// one (a node that joins answers the leader before the log has told it where the leader
    /// listens). Messages to nodes neither way reachable, from another node id, or larger
    /// than `options.maxFrameBytes` are dropped, counted and logged.
    public func send(_ messages: [Message]) {
        guard !messages.isEmpty else { return }
        let (links, inbound) = state.withLock { state -> ([NodeID: PeerLink], [NodeID: any Channel]) in
            guard state.phase != .shutDown else { return ([:], [:]) }
            var inbound: [NodeID: any Channel] = [:]
            for message in messages where state.links[message.to] == nil && inbound[message.to] == nil {
                if let id = state.inboundByPeer[message.to], let channel = state.inbound[id] { inbound[message.to] = channel }
            }
            return (state.links, inbound)
        }
        var framesByPeer: [NodeID: [ByteBuffer]] = [:]
        var dropped = 0
        for message in messages {
            guard message.from == nodeID, links[message.to] != nil || inbound[message.to] != nil else {
                logger.debug("dropping message from \(message.from) to unknown peer \(message.to)")
                dropped += 1
                continue
            }
            let frame = WireFrame.message(message)
            let size = WireCodec.frameBytes(of: frame)
            guard size <= options.maxFrameBytes else {
                logger.error("dropping message to \(message.to): \(size)-byte frame exceeds maxFrameBytes \(options.maxFrameBytes)")
                if let link = links[message.to] { link.countDropped(1) } else { dropped += 1 }
                continue
            }
            var buffer = allocator.buffer(capacity: size)
            WireCodec.encode(frame, into: &buffer)
            framesByPeer[message.to, default: []].append(buffer)
        }
        for (peer, frames) in framesByPeer {
            if let link = links[peer] {
                dropped += link.enqueue(frames)
            } else {
                dropped += Self.answer(frames, on: inbound[peer]!)
            }
        }
        if dropped > 0 { counters.sendDropped.add(dropped) }
    }

    /// Writes frames back on a connection a peer opened to us; returns how many were dropped.
    /// There is no queue on this path: while the channel is above its write watermark the
    /// frames are dropped (Raft resends), so it is bounded like a link's queue.
    private static func answer(_ frames: [ByteBuffer], on channel: any Channel) -> Int {
        guard channel.isWritable else { return frames.count }
        let write: @Sendable () -> Void = {
            for frame in frames { channel.write(frame, promise: nil) }
            channel.flush()
        }
        if channel.eventLoop.inEventLoop { write() } else { channel.eventLoop.execute(write) }
        return 0
    }

    /// Adds, removes or re-addresses peers. A removed peer's queue is dropped and its
    /// connection closed; a changed address closes the connection and dials the new one.
    public func updatePeers(_ peers: [NodeID: PeerAddress]) {
        let context = LinkContext(nodeID: nodeID, clusterID: clusterID, options: options, counters: counters, inbox: inbox,
                                  logger: logger)
        let (added, removed, changed, closing) = state.withLock { state -> ([PeerLink], [PeerLink], [(PeerLink, PeerAddress)], [any Channel]) in
            guard state.phase != .shutDown else { return ([], [], [], []) }
            var added: [PeerLink] = [], removed: [PeerLink] = [], changed: [(PeerLink, PeerAddress)] = []
            var closing: [any Channel] = []
            for (id, link) in state.links where peers[id] == nil {
                removed.append(link)
                state.links[id] = nil
                state.removed.insert(id)
                // Stop hearing from it too.
                if let inbound = state.inboundByPeer.removeValue(forKey: id).flatMap({ state.inbound[$0] }) { closing.append(inbound) }
            }
            for (id, address) in peers where id != nodeID && id != 0 {
                if let link = state.links[id] {
                    changed.append((link, address))
                } else {
                    let link = PeerLink(peerID: id, address: address, eventLoop: group.next(), context: context)
                    state.links[id] = link
                    state.removed.remove(id)
                    added.append(link)
                }
            }
            // Links made before start() are started by start().
            return (state.phase == .running ? added : [], removed, changed, closing)
        }
        for channel in closing { channel.close(promise: nil) }
        for link in removed {
            logger.info("peer \(link.peerID) removed")
            _ = link.stop()
        }
        for (link, address) in changed { link.updateAddress(address) }
        for link in added {
            logger.info("peer \(link.peerID) added")
            link.start()
        }
    }

    /// Closes the listener and every connection, drops queued messages and finishes
    /// `incoming`. Safe to call more than once.
    public func shutdown() async {
        let (server, links, inbound) = state.withLock { state -> ((any Channel)?, [PeerLink], [any Channel]) in
            state.phase = .shutDown
            defer {
                state.server = nil
                state.links = [:]
                state.inbound = [:]
                state.inboundByPeer = [:]
            }
            return (state.server, Array(state.links.values), Array(state.inbound.values))
        }
        try? await server?.close()
        for link in links { try? await link.stop().get() }
        for channel in inbound { try? await channel.close() }
        inbox.finish()
        if server != nil { logger.info("transport shut down") }
    }

    // MARK: - Inbound connections (called by the server channel and InboundConnectionHandler)

    /// Takes an accepted connection. When `maxInboundConnections` are open, the connection
    /// that has waited longest for its handshake is closed to make room, and the new one is
    /// refused only when every open connection is an established peer's. (Refusing the
    /// newcomer instead would let anyone who can reach the port lock a reconnecting peer out
    /// with connections that never send a handshake, one handshake timeout after another.)
    private func accept(_ channel: any Channel) -> EventLoopFuture<Void> {
        let now = NIODeadline.now().uptimeNanoseconds
        let (admitted, evicted, notice) = state.withLock { state -> (Bool, (any Channel)?, Int?) in
            guard state.phase != .shutDown else { return (false, nil, nil) }
            var evicted: (any Channel)?
            if state.inbound.count >= options.maxInboundConnections {
                guard let oldest = state.awaitingHandshake.min(by: { $0.value < $1.value })?.key else {
                    return (false, nil, state.fullNotices.occurred(atNanos: now))
                }
                state.awaitingHandshake[oldest] = nil
                evicted = state.inbound.removeValue(forKey: oldest)
            }
            let id = ObjectIdentifier(channel)
            state.inbound[id] = channel
            state.acceptedCount += 1
            state.awaitingHandshake[id] = state.acceptedCount
            return (true, evicted, evicted == nil ? nil : state.fullNotices.occurred(atNanos: now))
        }
        if let times = notice {
            logger.warning("""
                raft listener full: \(options.maxInboundConnections) inbound connections open (maxInboundConnections); \
                closing those that waited longest for a handshake to take new ones, refusing new ones when all are peers' \
                (\(times) since the last notice)
                """)
        }
        if let evicted {
            counters.inboundRefused.add(1)
            evicted.close(promise: nil)
        }
        guard admitted else {
            counters.inboundRefused.add(1)
            return channel.close()
        }
        return channel.eventLoop.makeCompletedFuture {
            if let tls = options.peerTLS {
                // Requires a client certificate from the cluster CA; the handshake frame that
                // follows is checked against the node id in it (InboundConnectionHandler).
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.serverContext))
            }
            try channel.pipeline.syncOperations.addHandler(InboundConnectionHandler(transport: self, logger: logger))
        }
    }

    /// An inbound connection sent no handshake within `handshakeTimeout` and is being
    /// closed: counted, and logged at most once per 10 s (a flood of silent connections
    /// would otherwise log a line each).
    func handshakeTimedOut(remote: String) {
        counters.inboundRefused.add(1)
        let now = NIODeadline.now().uptimeNanoseconds
        guard let times = state.withLock({ $0.handshakeTimeoutNotices.occurred(atNanos: now) }) else { return }
        logger.warning("closing inbound connection from \(remote): no handshake within \(options.handshakeTimeout) (\(times) such since the last notice)")
    }

    /// Checks a handshake; `nil` admits the connection as `handshake.from`'s current one,
    /// otherwise the reason it is refused.
    func admit(_ handshake: Handshake, channel: any Channel) -> String? {
        if handshake.clusterID != clusterID { return "cluster id mismatch: this node belongs to cluster '\(clusterID)'" }
        if handshake.to != nodeID { return "this is node \(nodeID), not node \(handshake.to) (stale peer address?)" }
        if handshake.from == nodeID { return "node \(handshake.from) is this node's own id (duplicate node id?)" }
        let (reason, replaced) = state.withLock { state -> (String?, (any Channel)?) in
            state.awaitingHandshake[ObjectIdentifier(channel)] = nil
            guard state.phase != .shutDown else { return ("node is shutting down", nil) }
            guard !state.removed.contains(handshake.from) else {
                return ("node \(handshake.from) was removed from the peers of node \(nodeID) (it is no longer a member)", nil)
            }
            let id = ObjectIdentifier(channel)
            // Newest wins: a restarted peer may reconnect before its old connection is seen to die.
            let old = state.inboundByPeer.updateValue(id, forKey: handshake.from).flatMap { $0 == id ? nil : state.inbound[$0] }
            return (nil, old)
        }
        if let replaced {
            logger.info("node \(handshake.from) connected again: closing its previous inbound connection")
            replaced.close(promise: nil)
        }
        return reason
    }

    func inboundClosed(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { state in
            state.inbound[id] = nil
            state.awaitingHandshake[id] = nil
            if let peer = state.inboundByPeer.first(where: { $0.value == id })?.key { state.inboundByPeer[peer] = nil }
        }
    }

    /// Hands arriving messages to the direct receiver, or queues them on `incoming`.
    public func deliverDirectly(to receiver: @escaping @Sendable ([Message]) -> Void) -> Bool {
        inbox.setReceiver(MessageReceiver(receive: receiver))
        return true
    }

    func deliver(_ messages: [Message]) {
        inbox.deliver(messages)
    }

    /// Inbound connections open now, handshaken or not (tests and diagnostics).
    var inboundConnectionCount: Int {
        state.withLock { $0.inbound.count }
    }

    /// Messages waiting in the queue for `peer` (tests and diagnostics).
    func queuedMessages(for peer: NodeID) -> Int {
        state.withLock { $0.links[peer] }?.queuedMessages ?? 0
    }

    /// Dials to `peer` in flight (tests and diagnostics).
    func dialsInFlight(to peer: NodeID) -> Int {
        state.withLock { $0.links[peer] }?.dialsInFlight ?? 0
    }
}

/// The direct receiver of ``TCPTransport/deliverDirectly(to:)``.
final class MessageReceiver: Sendable {
    let receive: @Sendable ([Message]) -> Void
    init(receive: @escaping @Sendable ([Message]) -> Void) { self.receive = receive }
}

/// Where a transport's arriving messages go: the direct receiver once one is set, else the
/// `incoming` stream. Shared by the accepted connections and the peer links (which read the
/// answers of peers that cannot dial this node).
final class MessageInbox: Sendable {
    private let continuation: AsyncStream<Message>.Continuation
    private let counters: TransportCounters
    /// Set by ``TCPTransport/deliverDirectly(to:)``. (A class box: keeping the bare closure in
    /// the `Mutex` made every read wrap it in one more reabstraction thunk, so deliveries grew
    /// slower without bound.)
    private let receiver = Mutex<MessageReceiver?>(nil)
    /// Told the sender of every delivered batch (the transport notes its link heard from it).
    /// Boxed for the same reason as `receiver`: a bare closure in the `Mutex` gained one
    /// reabstraction thunk per delivery (after a day at idle a tick's heartbeat answers cost
    /// the node loop ~10 ms walking the chain).
    private let onHeard = Mutex<HeardCallback?>(nil)

    private final class HeardCallback: Sendable {
        let call: @Sendable (NodeID) -> Void
        init(_ call: @escaping @Sendable (NodeID) -> Void) { self.call = call }
    }

    init(continuation: AsyncStream<Message>.Continuation, counters: TransportCounters) {
        self.continuation = continuation
        self.counters = counters
    }

    func setReceiver(_ receiver: MessageReceiver) {
        self.receiver.withLock { $0 = receiver }
    }

    func setOnHeard(_ onHeard: @escaping @Sendable (NodeID) -> Void) {
        self.onHeard.withLock { $0 = HeardCallback(onHeard) }
    }

    func deliver(_ messages: [Message]) {
        guard !messages.isEmpty else { return }
        counters.messagesReceived.add(messages.count)
        // The peer hears us: our connection to it is alive (see `Options.deadPeerTimeout`).
        onHeard.withLock { $0 }?.call(messages[0].from)
        if let receiver = receiver.withLock({ $0 }) {
            receiver.receive(messages)
            return
        }
        for message in messages {
            if case .dropped = continuation.yield(message) { counters.receiveDropped.add(1) }
        }
    }

    func finish() {
        continuation.finish()
    }
}

/// Why a transport could not start.
public enum TransportError: Error, CustomStringConvertible, Sendable {
    case cannotListen(PeerAddress, reason: String)
    case alreadyStarted
    case shutDown

    public var description: String {
        switch self {
        case .cannotListen(let address, let reason): "cannot listen on \(address): \(reason)"
        case .alreadyStarted: "transport already started"
        case .shutDown: "transport was shut down"
        }
    }
}
