import ClusterTLS
import Logging
import Metrics
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Raft
import Synchronization

/// What every peer link shares with its transport.
struct LinkContext: Sendable {
    let nodeID: NodeID
    let clusterID: String
    let options: TCPTransport.Options
    let counters: TransportCounters
    /// Where the answers a peer sends back on our outbound connection go.
    let inbox: MessageInbox
    let logger: Logger
}

/// FIFO of encoded frames for one peer. Bounded by the caller.
struct FrameQueue {
    private var frames: [ByteBuffer?] = []
    private var head = 0
    private(set) var bytes = 0

    var count: Int { frames.count - head }
    var isEmpty: Bool { head == frames.count }

    mutating func append(_ frame: ByteBuffer) {
        frames.append(frame)
        bytes += frame.readableBytes
    }

    mutating func popFirst() -> ByteBuffer? {
        guard head < frames.count, let frame = frames[head] else { return nil }
        frames[head] = nil  // release the bytes now
        head += 1
        bytes -= frame.readableBytes
        if head == frames.count {
            frames.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024, head * 2 >= frames.count {
            frames.removeFirst(head)
            head = 0
        }
        return frame
    }

    mutating func removeAll() -> Int {
        let dropped = count
        frames = []
        head = 0
        bytes = 0
        return dropped
    }
}

/// The outbound side of one peer: a bounded queue of encoded frames and the one TCP
/// connection that carries them, re-established with capped exponential backoff.
///
/// `send` (any thread) appends to the queue under the mutex and, if the connection can take
/// bytes, schedules one `drain` on the link's event loop. `drain` moves frames to the channel
/// while it is writable and flushes once. All connection changes happen on `eventLoop`;
/// the mutex only guards the fields both sides touch, never across I/O.
final class PeerLink: Sendable {
    let peerID: NodeID
    let eventLoop: any EventLoop
    private let context: LinkContext
    private let logger: Logger
    private let state: Mutex<State>
    /// `raft_peer_sent_failures_total{node, peer}`: messages for this peer dropped before they
    /// reached its connection (etcd's `peer_sent_failures_total`). Peer ids are bounded by
    /// the membership.
    private let sendFailures: Counter

    private enum Connection {
        /// Not started, or stopped.
        case idle
        /// TCP connect in flight.
        case connecting(generation: UInt64)
        /// Handshake written; waiting for the peer's accept (or refusal) until `timeout` fires.
        case handshaking(generation: UInt64, channel: any Channel, timeout: Scheduled<Void>)
        /// Accepted: messages flow.
        case connected(generation: UInt64, channel: any Channel, since: NIODeadline)
        case backingOff(Scheduled<Void>)
    }

    private struct State {
        var address: PeerAddress
        var queue = FrameQueue()
        var connection = Connection.idle
        var generation: UInt64 = 0
        /// Consecutive failures, for the backoff exponent.
        var failures = 0
        var refused = false
        var everConnected = false
        var drainScheduled = false
        var stopped = false
        /// Messages dropped since the queue last overflowed; logged when it empties again.
        var droppedSinceFull = 0
        /// When the oldest frame written on the connection since the peer was last heard
        /// from was written (nil: nothing written since). See `Options.deadPeerTimeout`.
        var unansweredSince: NIODeadline?
        var watchdog: RepeatedTask?
        var random: SplitMix64
    }

    init(peerID: NodeID, address: PeerAddress, eventLoop: any EventLoop, context: LinkContext) {
        self.peerID = peerID
        self.eventLoop = eventLoop
        self.context = context
        var logger = context.logger
        logger[metadataKey: "peer"] = "\(peerID)"
        self.logger = logger
        sendFailures = Counter(label: "raft_peer_sent_failures_total", dimensions: [("node", "\(context.nodeID)"), ("peer", "\(peerID)")])
        let seed = context.options.jitterSeed ^ (context.nodeID &* 0x9E37_79B9_7F4A_7C15) ^ (peerID &* 0xC2B2_AE3D_27D4_EB4F)
        state = Mutex(State(address: address, random: SplitMix64(seed: seed)))
    }

    // MARK: - Any thread

    /// Counts `count` messages for this peer that were dropped unsent.
    func countDropped(_ count: Int) {
        guard count > 0 else { return }
        context.counters.sendDropped.add(count)
        sendFailures.increment(by: Int64(count))
    }

    /// Queues frames in order; returns how many were dropped because the queue is full.
    /// Never blocks beyond the mutex.
    func enqueue(_ frames: [ByteBuffer]) -> Int {
        let options = context.options
        let (dropped, schedule, startedDropping) = state.withLock { state -> (Int, Bool, Bool) in
            if state.stopped { return (frames.count, false, false) }
            var dropped = 0
            for frame in frames {
                if state.queue.count >= options.sendQueueMaxMessages
                    || state.queue.bytes + frame.readableBytes > options.sendQueueMaxBytes {
                    dropped += 1
                } else {
                    state.queue.append(frame)
                }
            }
            let startedDropping = dropped > 0 && state.droppedSinceFull == 0
            state.droppedSinceFull += dropped
            return (dropped, Self.claimDrain(&state), startedDropping)
        }
        if schedule {
            // On the link's own event loop (a node loop sharing it) write now, so the frames
            // leave before whatever the caller does next (an fsync, say).
            if eventLoop.inEventLoop { drain() } else { eventLoop.execute { self.drain() } }
        }
        if startedDropping {
            logger.warning("send queue full (\(options.sendQueueMaxMessages) messages or \(options.sendQueueMaxBytes) bytes): dropping messages to this peer")
        }
        if dropped > 0 { sendFailures.increment(by: Int64(dropped)) }
        return dropped
    }

    /// Sets `drainScheduled` if a drain would make progress now and none is pending.
    private static func claimDrain(_ state: inout State) -> Bool {
        guard !state.drainScheduled, !state.queue.isEmpty,
              case .connected(_, let channel, _) = state.connection, channel.isWritable else { return false }
        state.drainScheduled = true
        return true
    }

    /// Schedules a drain (after the channel became writable again).
    func scheduleDrain() {
        if state.withLock({ Self.claimDrain(&$0) }) { eventLoop.execute { self.drain() } }
    }

    /// Points the link at a new address: the current connection (if any) is closed and the
    /// next attempt dials the new address.
    func updateAddress(_ address: PeerAddress) {
        let change = state.withLock { state -> (channel: (any Channel)?, connectNow: Bool)? in
            guard state.address != address else { return nil }
            state.address = address
            state.failures = 0
            switch state.connection {
            case .connected(_, let channel, _), .handshaking(_, let channel, _):
                return (channel, false)  // its closing reconnects, to the new address
            case .connecting:
                // The attempt in flight dials the old address: orphan it (its result no longer
                // matches the state and is closed) and dial again.
                state.connection = .idle
                return (nil, true)
            case .idle, .backingOff:
                return (nil, false)  // the next attempt uses the new address
            }
        }
        guard let change else { return }
        logger.info("peer address changed to \(address)")
        change.channel?.close(promise: nil)
        if change.connectNow { eventLoop.execute { self.connect() } }
    }

    /// Starts connecting. Call once.
    func start() {
        eventLoop.execute {
            self.connect()
            self.startWatchdog()
        }
    }

    /// A message from this peer arrived (on its connection to us): the path works.
    func heard() {
        state.withLock { $0.unansweredSince = nil }
    }

    private func startWatchdog() {
        guard let timeout = context.options.deadPeerTimeout?.timeAmount else { return }
        let period = TimeAmount.nanoseconds(max(timeout.nanoseconds / 4, 5_000_000))
        let task = eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in self.checkAlive(timeout: timeout) }
        let cancel = state.withLock { state -> Bool in
            if state.stopped { return true }
            state.watchdog = task
            return false
        }
        if cancel { task.cancel() }
    }

    /// Closes the connection if it was written to and the peer stayed silent for `timeout`:
    /// a partition that drops packets leaves it 'connected' while TCP retransmits ever more
    /// slowly, so that the peer would hear us only seconds after the network is back.
    private func checkAlive(timeout: TimeAmount) {
        eventLoop.preconditionInEventLoop()
        let dead = state.withLock { state -> (any Channel)? in
            guard case .connected(_, let channel, _) = state.connection, let since = state.unansweredSince,
                  NIODeadline.now() - since >= timeout else { return nil }
            state.unansweredSince = nil
            return channel
        }
        guard let dead else { return }
        context.counters.deadConnections.add(1)
        logger.warning("closing outbound connection: nothing heard from the peer for \(timeout.nanoseconds / 1_000_000) ms after writing to it")
        dead.close(promise: nil)  // channelInactive schedules the reconnect
    }

    /// Stops for good: drops the queue, cancels a pending reconnect, closes the connection.
    /// The returned future completes when the channel is closed.
    func stop() -> EventLoopFuture<Void> {
        let (channel, scheduled, dropped) = state.withLock { state -> ((any Channel)?, Scheduled<Void>?, Int) in
            state.stopped = true
            state.watchdog?.cancel()
            state.watchdog = nil
            let dropped = state.queue.removeAll()
            defer { state.connection = .idle }
            switch state.connection {
            case .connected(_, let channel, _): return (channel, nil, dropped)
            case .handshaking(_, let channel, let timeout): return (channel, timeout, dropped)
            case .backingOff(let scheduled): return (nil, scheduled, dropped)
            case .idle, .connecting: return (nil, nil, dropped)
            }
        }
        countDropped(dropped)
        scheduled?.cancel()
        guard let channel else { return eventLoop.makeSucceededVoidFuture() }
        return channel.close().recover { _ in }
    }

    // MARK: - On the event loop

    private func connect() {
        eventLoop.preconditionInEventLoop()
        let attempt = state.withLock { state -> (UInt64, PeerAddress)? in
            guard !state.stopped else { return nil }
            switch state.connection {
            case .idle, .backingOff: break
            case .connecting, .handshaking, .connected: return nil
            }
            state.generation += 1
            state.connection = .connecting(generation: state.generation)
            return (state.generation, state.address)
        }
        guard let (generation, address) = attempt else { return }
        let options = context.options
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(options.connectTimeout.timeAmount)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: .init(low: options.writeBufferLowWatermarkBytes, high: options.writeBufferHighWatermarkBytes))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = options.peerTLS {
                        // No host name check: the node id in the certificate is the identity
                        // (checked by OutboundConnectionHandler once the handshake completes).
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls.clientContext, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(OutboundConnectionHandler(link: self, generation: generation, maxFrameBytes: options.maxFrameBytes,
                                                                                             tls: options.peerTLS != nil, logger: logger))
                }
            }
        let future: EventLoopFuture<any Channel>
        if let ip = try? SocketAddress(ipAddress: address.host, port: address.port) {
            future = bootstrap.connect(to: ip)  // no resolver for literal addresses
        } else {
            future = bootstrap.connect(host: address.host, port: address.port)
        }
        future.whenComplete { result in
            switch result {
            case .success(let channel): self.tcpConnected(channel, generation: generation, address: address)
            case .failure(let error): self.connectFailed(generation: generation, address: address, error: error)
            }
        }
    }

    /// TCP is up: send the handshake and wait for the peer's answer. Messages are written only
    /// after it accepts, so a refused connection loses none (they stay queued).
    private func tcpConnected(_ channel: any Channel, generation: UInt64, address: PeerAddress) {
        eventLoop.preconditionInEventLoop()
        // The peer answers a handshake at once; waiting longer than a dial gains nothing.
        let timeoutAmount = handshakeWait
        let current = state.withLock { state -> Bool in
            guard !state.stopped, case .connecting(generation) = state.connection else { return false }
            let timeout = eventLoop.scheduleTask(in: timeoutAmount.timeAmount) { self.handshakeTimedOut(generation: generation) }
            state.connection = .handshaking(generation: generation, channel: channel, timeout: timeout)
            return true
        }
        guard current else {
            channel.close(promise: nil)
            return
        }
        var handshake = channel.allocator.buffer(capacity: 64)
        WireCodec.encode(.handshake(Handshake(clusterID: context.clusterID, from: context.nodeID, to: peerID)), into: &handshake)
        channel.writeAndFlush(handshake, promise: nil)
        logger.debug("TCP connection to \(address) up: handshake sent")
    }

    /// The peer accepted the handshake on the connection of `generation`. Returns false if
    /// that is a protocol error (then the caller closes the connection).
    func accepted(generation: UInt64, by node: NodeID) -> Bool {
        eventLoop.preconditionInEventLoop()
        guard node == peerID else {
            logger.warning("closing outbound connection: accepted by node \(node), expected node \(peerID)")
            return false
        }
        let accepted = state.withLock { state -> (reconnect: Bool, address: PeerAddress)? in
            guard case .handshaking(generation, let channel, let timeout) = state.connection else { return nil }
            timeout.cancel()
            state.connection = .connected(generation: generation, channel: channel, since: .now())
            state.refused = false
            state.unansweredSince = nil
            defer { state.everConnected = true }
            return (state.everConnected, state.address)
        }
        guard let accepted else { return false }
        context.counters.connectionsEstablished.add(1)
        if accepted.reconnect { context.counters.reconnects.add(1) }
        logger.info("connected to peer at \(accepted.address)")
        drain()
        return true
    }

    private func handshakeTimedOut(generation: UInt64) {
        let found = state.withLock { state -> (channel: any Channel, failures: Int)? in
            guard case .handshaking(generation, let channel, _) = state.connection else { return nil }
            return (channel, state.failures)
        }
        guard let (channel, failures) = found else { return }
        // The first in a row at warning, the redials of a partition (several a second) at debug.
        logger.log(level: failures == 0 ? .warning : .debug,
                   "closing outbound connection: no answer to the handshake within \(handshakeWait)")
        channel.close(promise: nil)  // channelInactive schedules the reconnect
    }

    /// How long a dialed connection may take to be accepted: `connectTimeout` (or
    /// `handshakeTimeout` if shorter), twice that with TLS, whose handshake comes first.
    private var handshakeWait: Duration {
        let wait = min(context.options.handshakeTimeout, context.options.connectTimeout)
        return context.options.peerTLS == nil ? wait : wait * 2
    }

    /// The TLS handshake of the connection of `generation` completed, but the peer's
    /// certificate carries `certified` node ids, not this link's peer: a wrong address or a
    /// certificate issued for another node. Logged; the link backs off as after a refusal.
    func wrongPeerCertificate(generation: UInt64, certified: [UInt64]) {
        eventLoop.preconditionInEventLoop()
        context.counters.tlsRefused.add(1)
        let address = state.withLock { state -> PeerAddress in
            if case .handshaking(generation, _, _) = state.connection { state.refused = true }
            return state.address
        }
        logger.warning("closing outbound connection: the peer at \(address) presented a TLS certificate for \(NodeIdentity.describe(certified)), not node \(peerID) (a wrong address, or a certificate issued for another node)")
    }

    /// The TLS handshake (or the TLS session) of the connection of `generation` failed.
    /// Logged at warning; the link backs off as after a refusal (a configuration problem).
    func tlsFailed(generation: UInt64, problem: TLSProblem) {
        eventLoop.preconditionInEventLoop()
        context.counters.tlsRefused.add(1)
        let address = state.withLock { state -> PeerAddress in
            switch state.connection {
            case .handshaking(generation, _, _), .connected(generation, _, _): state.refused = true
            default: break
            }
            return state.address
        }
        logger.warning("closing outbound connection to the peer at \(address): TLS failed: \(problem)")
    }

    private func connectFailed(generation: UInt64, address: PeerAddress, error: any Error) {
        context.counters.connectFailures.add(1)
        // The peer is unreachable: what is queued for it will be stale by the time it is back
        // (Raft re-sends what a returning follower needs, from where it really is), so drop it
        // rather than replay minutes of old appends into a restarted node.
        let stale = state.withLock { $0.queue.removeAll() }
        countDropped(stale)
        guard let (delay, failures) = scheduleReconnect(generation: generation) else { return }
        // The first failure in a row at info, the retries at debug: a peer that is down stays quiet.
        logger.log(level: failures == 1 ? .info : .debug,
                   "cannot connect to peer at \(address): \(error); retrying in \(delay.nanoseconds / 1_000_000) ms")
    }

    /// The outbound connection of `generation` closed.
    func connectionClosed(generation: UInt64) {
        eventLoop.preconditionInEventLoop()
        if let (delay, _) = scheduleReconnect(generation: generation) {
            logger.info("connection to peer lost: reconnecting in \(delay.nanoseconds / 1_000_000) ms")
        }
    }

    /// The peer sent a refusal on our connection: back off the longest delay before trying again.
    func refused() {
        context.counters.refusedByPeer.add(1)
        state.withLock { $0.refused = true }
    }

    /// Returns the delay and the failures in a row, or nil if `generation` is no longer the current attempt.
    private func scheduleReconnect(generation: UInt64) -> (TimeAmount, Int)? {
        let options = context.options
        return state.withLock { state -> (TimeAmount, Int)? in
            guard !state.stopped else { return nil }
            switch state.connection {
            case .connecting(generation):
                state.failures += 1
            case .handshaking(generation, _, let timeout):
                timeout.cancel()
                state.failures += 1
            case .connected(generation, _, let since):
                // A connection that lived longer than the longest backoff counts as healthy.
                let healthy = NIODeadline.now() - since >= options.reconnectBackoffMax.timeAmount
                state.failures = healthy ? 0 : state.failures + 1
            default:
                return nil
            }
            if state.refused { state.failures = max(state.failures, 64) }
            var delay = Self.backoff(failures: state.failures, options: options, random: &state.random)
            if state.refused { delay = max(delay, options.reconnectAfterRefusal.timeAmount) }
            state.drainScheduled = false
            state.connection = .backingOff(eventLoop.scheduleTask(in: delay) { self.connect() })
            return (delay, state.failures)
        }
    }

    /// Capped exponential backoff with "equal jitter": a delay in [d/2, d], d = min · 2^(failures-1) ≤ max.
    static func backoff(failures: Int, options: TCPTransport.Options, random: inout SplitMix64) -> TimeAmount {
        let minNanos = max(1, options.reconnectBackoffMin.timeAmount.nanoseconds)
        let maxNanos = max(minNanos, options.reconnectBackoffMax.timeAmount.nanoseconds)
        let exponent = min(max(failures - 1, 0), 32)
        let ceiling = minNanos > maxNanos >> exponent ? maxNanos : minNanos << exponent
        let half = ceiling / 2
        return .nanoseconds(half + Int64(random.next() % UInt64(ceiling - half + 1)))
    }

    /// Moves queued frames to the channel while it is writable, then flushes once.
    func drain(flushAlways: Bool = false) {
        eventLoop.preconditionInEventLoop()
        let batchMaxBytes = context.options.writeBatchMaxBytes
        var target: (any Channel)?
        var messages = 0
        var bytes = 0
        var recoveredAfterDropping = 0
        while true {
            let batch = state.withLock { state -> [ByteBuffer] in
                guard case .connected(_, let channel, _) = state.connection, channel.isWritable else {
                    state.drainScheduled = false
                    return []
                }
                target = channel
                var batch: [ByteBuffer] = []
                var batchBytes = 0
                while batchBytes < batchMaxBytes, let frame = state.queue.popFirst() {
                    batchBytes += frame.readableBytes
                    batch.append(frame)
                }
                if batch.isEmpty {
                    state.drainScheduled = false
                } else if state.unansweredSince == nil {
                    state.unansweredSince = .now()
                }
                if state.queue.isEmpty, state.droppedSinceFull > 0 {
                    recoveredAfterDropping = state.droppedSinceFull
                    state.droppedSinceFull = 0
                }
                return batch
            }
            guard let channel = target, !batch.isEmpty else { break }
            for frame in batch {
                bytes += frame.readableBytes
                channel.write(frame, promise: nil)
            }
            messages += batch.count
        }
        if messages > 0 || flushAlways { target?.flush() }
        context.counters.messagesSent.add(messages)
        context.counters.bytesSent.add(bytes)
        if recoveredAfterDropping > 0 {
            logger.warning("send queue drained after dropping \(recoveredAfterDropping) messages to this peer")
        }
    }

    /// Queue length, for tests.
    var queuedMessages: Int { state.withLock { $0.queue.count } }

    /// This node's id (the `to` of every message the peer may send back).
    var nodeID: NodeID { context.nodeID }

    /// Hands messages the peer sent back on our connection to the transport.
    func deliver(_ messages: [Message]) {
        context.inbox.deliver(messages)
    }
}

/// Handler of an outbound connection. The peer answers the handshake with one accept or
/// refuse frame; after an accept it sends only messages from itself to this node, and only
/// while it has no address to dial us (a node that is joining); the handler delivers them
/// to the transport's inbox. It also relays writability and closure to the link.
final class OutboundConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let link: PeerLink
    private let generation: UInt64
    private var decoder: FrameDecoder
    private let logger: Logger
    private var accepted = false
    /// With TLS: false until the peer's certificate was seen to carry the dialed node's id;
    /// no accept is taken before.
    private var peerIdentityChecked: Bool
    /// Messages decoded since the last delivery (handed over once per read burst).
    private var arrived: [Message] = []

    init(link: PeerLink, generation: UInt64, maxFrameBytes: Int, tls: Bool, logger: Logger) {
        self.link = link
        self.generation = generation
        self.decoder = FrameDecoder(maxFrameBytes: maxFrameBytes)
        self.logger = logger
        self.peerIdentityChecked = !tls
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate()
            let certified = certificate.map(NodeIdentity.nodeIDs(in:)) ?? []
            guard certified.contains(link.peerID) else {
                link.wrongPeerCertificate(generation: generation, certified: certified)
                context.close(promise: nil)
                return
            }
            peerIdentityChecked = true
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        decoder.append(unwrapInboundIn(data))
        do {
            while let frame = try decoder.next() {
                switch (accepted, frame) {
                case (false, .accept(let node)) where peerIdentityChecked:
                    accepted = link.accepted(generation: generation, by: node)
                    if accepted { continue }
                case (false, .refuse(let reason)):
                    logger.error("peer refused our connection: \(reason)")
                    link.refused()
                case (true, .message(let message)) where message.from == link.peerID && message.to == link.nodeID:
                    arrived.append(message)
                    continue
                default:
                    logger.warning("closing outbound connection: peer sent an unexpected \(frame.frameType) frame")
                }
                deliverArrived()
                context.close(promise: nil)
                return
            }
        } catch {
            deliverArrived()
            logger.warning("closing outbound connection: bad bytes from peer: \(error)")
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        deliverArrived()
        context.fireChannelReadComplete()
    }

    private func deliverArrived() {
        guard !arrived.isEmpty else { return }
        let batch = arrived
        arrived.removeAll(keepingCapacity: true)
        link.deliver(batch)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { link.scheduleDrain() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deliverArrived()
        link.connectionClosed(generation: generation)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let problem = TLSProblem(error) {
            link.tlsFailed(generation: generation, problem: problem)
        } else {
            logger.debug("outbound connection error: \(error)")
        }
        context.close(promise: nil)
    }
}
