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
/// connection that carries them, dialled again while the peer cannot be reached.
///
/// `send` (any thread) appends to the queue under the mutex and, if the connection can take
/// bytes, schedules one `drain` on the link's event loop. `drain` moves frames to the channel
/// while it is writable and flushes once. All connection changes happen on `eventLoop`;
/// the mutex only guards the fields both sides touch, never across I/O.
///
/// **Dialling.** While there is no accepted connection, a new dial starts every backoff
/// delay (at most `reconnectBackoffMax`), and once the newest dial in flight is
/// `reconnectBackoffMax` old, whether it has failed yet or not: a dial into a partition that
/// drops packets hangs until its timeout, and a heal that comes meanwhile is noticed by the
/// next dial rather than after that timeout plus a backoff. At most ``dialsInFlightMax``
/// dials are in flight; the oldest makes room. The first dial the
/// peer accepts becomes the connection; older dials are closed, and so are newer ones that
/// have not sent their handshake yet. A newer dial whose handshake is out may still be
/// accepted by the peer, which keeps the newest connection from a node (newest wins,
/// `TCPTransport.admit`) and closes the older one: so, when it is accepted, the link moves to
/// it too; when it times out it is closed and the connection stays.
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

    /// Dials in flight at once, per peer. With dials `reconnectBackoffMax` apart at most and
    /// each living up to two `connectTimeout`s (connect, then the handshake's answer), the
    /// oldest one is closed to make room only when dials hang, as they do in a partition.
    static let dialsInFlightMax = 4

    /// One dial: the TCP connect, then the handshake until the peer answers it.
    private struct Dial {
        let generation: UInt64
        let startedAt: NIODeadline
        /// Set once TCP is up and the handshake was written (nil: still connecting).
        var channel: (any Channel)?
        /// Closes `channel` when the peer has not answered the handshake in time.
        var timeout: Scheduled<Void>?
    }

    /// The accepted connection messages flow on.
    private struct Connected {
        let generation: UInt64
        let channel: any Channel
        let since: NIODeadline
    }

    private struct State {
        var address: PeerAddress
        var queue = FrameQueue()
        /// The connection the peer accepted (nil: none now).
        var connected: Connected?
        /// Dials in flight, oldest first.
        var dials: [Dial] = []
        /// The next dial, scheduled while there is no connection.
        var nextDial: Scheduled<Void>?
        var generation: UInt64 = 0
        /// Dials started since the last healthy connection: the backoff exponent.
        var failures = 0
        var refused = false
        /// A failed dial was logged at info since the last connection (the rest go to debug).
        var reportedUnreachable = false
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

        func dialIndex(_ generation: UInt64) -> Int? { dials.firstIndex { $0.generation == generation } }
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
        guard !state.drainScheduled, !state.queue.isEmpty, let connected = state.connected,
              connected.channel.isWritable else { return false }
        state.drainScheduled = true
        return true
    }

    /// Schedules a drain (after the channel became writable again).
    func scheduleDrain() {
        if state.withLock({ Self.claimDrain(&$0) }) { eventLoop.execute { self.drain() } }
    }

    /// Points the link at a new address: the current connection (if any) is closed and the
    /// next dial goes to the new address.
    func updateAddress(_ address: PeerAddress) {
        eventLoop.execute { self.changeAddress(to: address) }
    }

    /// Starts dialling. Call once.
    func start() {
        eventLoop.execute {
            self.dial()
            self.startWatchdog()
        }
    }

    /// A message from this peer arrived (on its connection to us): the path works.
    func heard() {
        state.withLock { $0.unansweredSince = nil }
    }

    /// Stops for good: drops the queue, cancels the dials, closes the connection.
    /// The returned future completes when the connection's channel is closed.
    func stop() -> EventLoopFuture<Void> {
        let (channel, dials, scheduled, dropped) = state.withLock { state -> ((any Channel)?, [Dial], [Scheduled<Void>], Int) in
            state.stopped = true
            state.watchdog?.cancel()
            state.watchdog = nil
            let dropped = state.queue.removeAll()
            let scheduled = [state.nextDial].compactMap { $0 }
            defer {
                state.connected = nil
                state.dials = []
                state.nextDial = nil
            }
            return (state.connected?.channel, state.dials, scheduled, dropped)
        }
        countDropped(dropped)
        for task in scheduled { task.cancel() }
        for dial in dials {
            // A connect still in flight finds its dial gone and closes its channel.
            dial.timeout?.cancel()
            dial.channel?.close(promise: nil)
        }
        guard let channel else { return eventLoop.makeSucceededVoidFuture() }
        return channel.close().recover { _ in }
    }

    // MARK: - On the event loop

    private func changeAddress(to address: PeerAddress) {
        eventLoop.preconditionInEventLoop()
        let change = state.withLock { state -> (closing: [any Channel], dialNow: Bool)? in
            guard !state.stopped, state.address != address else { return nil }
            state.address = address
            state.failures = 0
            // Dials in flight go to the old address: drop them (a connect still in flight
            // finds its dial gone and closes its channel).
            var closing = state.dials.compactMap { dial -> (any Channel)? in
                dial.timeout?.cancel()
                return dial.channel
            }
            state.dials = []
            // The connection's closing dials again, to the new address; without one, dial now.
            if let connected = state.connected {
                closing.append(connected.channel)
                return (closing, false)
            }
            state.nextDial?.cancel()
            state.nextDial = nil
            return (closing, true)
        }
        guard let (closing, dialNow) = change else { return }
        logger.info("peer address changed to \(address)")
        for channel in closing { channel.close(promise: nil) }
        if dialNow { dial() }
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
            guard let connected = state.connected, let since = state.unansweredSince,
                  NIODeadline.now() - since >= timeout else { return nil }
            state.unansweredSince = nil
            return connected.channel
        }
        guard let dead else { return }
        context.counters.deadConnections.add(1)
        logger.warning("closing outbound connection: nothing heard from the peer for \(timeout.nanoseconds / 1_000_000) ms after writing to it")
        dead.close(promise: nil)  // channelInactive dials again
    }

    /// Starts a dial (unless connected or stopped) and schedules the next one a backoff delay
    /// later, which an accepted connection cancels. A dial still in flight is given until it
    /// is `reconnectBackoffMax` old before another starts beside it (a healthy peer that is
    /// merely slow to answer is dialled once: a second dial it accepted would replace the
    /// first, and what was written on the first would be lost). The oldest dial in flight is
    /// closed when ``dialsInFlightMax`` are.
    private func dial() {
        eventLoop.preconditionInEventLoop()
        let options = context.options
        let started = state.withLock { state -> (generation: UInt64, address: PeerAddress, evicted: (any Channel)?)? in
            state.nextDial = nil
            guard !state.stopped, state.connected == nil else { return nil }
            let now = NIODeadline.now()
            if let newest = state.dials.last, now - newest.startedAt < options.reconnectBackoffMax.timeAmount {
                let hangingAt = newest.startedAt + options.reconnectBackoffMax.timeAmount
                state.nextDial = eventLoop.scheduleTask(deadline: hangingAt) { self.dial() }
                return nil
            }
            var evicted: (any Channel)?
            if state.dials.count >= Self.dialsInFlightMax {
                let oldest = state.dials.removeFirst()
                oldest.timeout?.cancel()
                evicted = oldest.channel  // nil: its connect, when it completes, finds it gone
            }
            state.generation += 1
            state.failures += 1
            state.dials.append(Dial(generation: state.generation, startedAt: now))
            var delay = Self.backoff(failures: state.failures, options: options, random: &state.random)
            if state.refused { delay = max(delay, options.reconnectAfterRefusal.timeAmount) }
            state.nextDial = eventLoop.scheduleTask(in: delay) { self.dial() }
            return (state.generation, state.address, evicted)
        }
        guard let (generation, address, evicted) = started else { return }
        evicted?.close(promise: nil)
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
    /// after it accepts, so a refused connection loses none (they stay queued). A dial that
    /// was dropped meanwhile, or that comes up after another dial was accepted (its handshake
    /// not sent, so the peer cannot have taken it), is closed.
    private func tcpConnected(_ channel: any Channel, generation: UInt64, address: PeerAddress) {
        eventLoop.preconditionInEventLoop()
        // The peer answers a handshake at once; waiting longer than a dial gains nothing.
        let timeoutAmount = handshakeWait
        let current = state.withLock { state -> Bool in
            guard !state.stopped, let k = state.dialIndex(generation) else { return false }
            guard state.connected == nil else {
                state.dials.remove(at: k)
                return false
            }
            state.dials[k].channel = channel
            state.dials[k].timeout = eventLoop.scheduleTask(in: timeoutAmount.timeAmount) { self.handshakeTimedOut(generation: generation) }
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
    /// the connection is not to be used (then the caller closes it).
    func accepted(generation: UInt64, by node: NodeID) -> Bool {
        eventLoop.preconditionInEventLoop()
        guard node == peerID else {
            logger.warning("closing outbound connection: accepted by node \(node), expected node \(peerID)")
            return false
        }
        let accepted = state.withLock { state -> (reconnect: Bool, replaced: Bool, address: PeerAddress, closing: [any Channel])? in
            guard let k = state.dialIndex(generation), let channel = state.dials[k].channel else { return nil }
            let dial = state.dials.remove(at: k)
            dial.timeout?.cancel()
            // An older dial answered after a newer one was accepted: the peer keeps the newest.
            if let connected = state.connected, connected.generation > generation { return nil }
            var closing: [any Channel] = []
            if let previous = state.connected { closing.append(previous.channel) }
            // Older dials are not needed any more, nor newer ones still connecting (their
            // handshake is not out). Newer ones whose handshake is out stay: if the peer took
            // one, it closes this connection in its favour, and so will we when it answers.
            state.dials.removeAll { other in
                if other.generation > generation && other.channel != nil { return false }
                other.timeout?.cancel()
                if let channel = other.channel { closing.append(channel) }
                return true
            }
            state.nextDial?.cancel()
            state.nextDial = nil
            let replaced = state.connected != nil
            state.connected = Connected(generation: generation, channel: channel, since: .now())
            state.refused = false
            state.reportedUnreachable = false
            state.unansweredSince = nil
            defer { state.everConnected = true }
            return (state.everConnected, replaced, state.address, closing)
        }
        guard let accepted else { return false }
        for channel in accepted.closing { channel.close(promise: nil) }
        context.counters.connectionsEstablished.add(1)
        if accepted.reconnect { context.counters.reconnects.add(1) }
        if accepted.replaced {
            logger.debug("peer accepted a newer dial: moved to that connection")
        } else {
            logger.info("connected to peer at \(accepted.address)")
        }
        drain()
        return true
    }

    private func handshakeTimedOut(generation: UInt64) {
        eventLoop.preconditionInEventLoop()
        let found = state.withLock { state -> (channel: any Channel, report: Bool)? in
            guard let k = state.dialIndex(generation), let channel = state.dials[k].channel else { return nil }
            state.dials.remove(at: k)
            let report = state.connected == nil && !state.reportedUnreachable
            if report { state.reportedUnreachable = true }
            return (channel, report)
        }
        guard let (channel, report) = found else { return }
        // The first in a row at warning, the dials of a partition (several a second) at debug.
        logger.log(level: report ? .warning : .debug,
                   "closing outbound connection: no answer to the handshake within \(handshakeWait)")
        channel.close(promise: nil)
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
            if state.dialIndex(generation) != nil { state.refused = true }
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
            if state.dialIndex(generation) != nil || state.connected?.generation == generation { state.refused = true }
            return state.address
        }
        logger.warning("closing outbound connection to the peer at \(address): TLS failed: \(problem)")
    }

    private func connectFailed(generation: UInt64, address: PeerAddress, error: any Error) {
        eventLoop.preconditionInEventLoop()
        // The peer is unreachable: what is queued for it will be stale by the time it is back
        // (Raft re-sends what a returning follower needs, from where it really is), so drop it
        // rather than replay minutes of old appends into a restarted node.
        let outcome = state.withLock { state -> (stale: Int, report: Bool)? in
            guard let k = state.dialIndex(generation) else { return nil }
            state.dials.remove(at: k)
            guard state.connected == nil else { return (0, false) }
            let report = !state.reportedUnreachable
            state.reportedUnreachable = true
            return (state.queue.removeAll(), report)
        }
        guard let outcome else { return }
        context.counters.connectFailures.add(1)
        countDropped(outcome.stale)
        // The first failure in a row at info, the retries at debug: a peer that is down stays quiet.
        logger.log(level: outcome.report ? .info : .debug,
                   "cannot connect to peer at \(address): \(error); dialling again every \(context.options.reconnectBackoffMax.timeAmount.nanoseconds / 1_000_000) ms at most")
    }

    /// The outbound connection of `generation` closed: a dial the peer closed or refused
    /// (forgotten; the next dial is scheduled already, later after a refusal), or the
    /// connection itself (dialled again after a short delay).
    func connectionClosed(generation: UInt64) {
        eventLoop.preconditionInEventLoop()
        let options = context.options
        let lost = state.withLock { state -> TimeAmount? in
            guard !state.stopped else { return nil }
            if let k = state.dialIndex(generation) {
                state.dials.remove(at: k).timeout?.cancel()
                if state.refused && state.connected == nil {
                    state.nextDial?.cancel()
                    state.nextDial = eventLoop.scheduleTask(in: options.reconnectAfterRefusal.timeAmount) { self.dial() }
                }
                return nil
            }
            guard let connected = state.connected, connected.generation == generation else { return nil }
            state.connected = nil
            state.drainScheduled = false
            state.unansweredSince = nil
            // A connection that lived longer than the longest backoff counts as healthy.
            if NIODeadline.now() - connected.since >= options.reconnectBackoffMax.timeAmount { state.failures = 0 }
            var delay = Self.backoff(failures: state.failures, options: options, random: &state.random)
            if state.refused { delay = max(delay, options.reconnectAfterRefusal.timeAmount) }
            state.nextDial?.cancel()
            state.nextDial = eventLoop.scheduleTask(in: delay) { self.dial() }
            return delay
        }
        if let lost {
            logger.info("connection to peer lost: dialling again in \(lost.nanoseconds / 1_000_000) ms")
        }
    }

    /// The peer sent a refusal on our connection: wait `reconnectAfterRefusal` before dialling again.
    func refused() {
        context.counters.refusedByPeer.add(1)
        state.withLock { $0.refused = true }
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
                guard let connected = state.connected, connected.channel.isWritable else {
                    state.drainScheduled = false
                    return []
                }
                target = connected.channel
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

    /// Dials in flight, for tests.
    var dialsInFlight: Int { state.withLock { $0.dials.count } }

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
