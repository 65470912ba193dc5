import ClusterTLS
import Logging
import NIOCore
import NIOSSL
import Raft

/// Handler of an accepted connection: expects a handshake first, then only messages from
/// that peer to this node. Anything else — bad bytes, a second handshake, a message with
/// the wrong sender or receiver — closes the connection with a logged reason. (The
/// transport may write its answers back on the connection when it has no address for the
/// peer: `TCPTransport.send`.)
final class InboundConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        case awaitingHandshake(Scheduled<Void>?)
        case established(peer: NodeID)
        case closing
    }

    private let transport: TCPTransport
    private var decoder: FrameDecoder
    private var phase = Phase.awaitingHandshake(nil)
    private var logger: Logger
    /// Messages decoded since the last delivery: handed over once per read burst
    /// (`channelReadComplete`), so a burst costs one hand-off, not one per message.
    private var arrived: [Message] = []

    init(transport: TCPTransport, logger: Logger) {
        self.transport = transport
        self.decoder = FrameDecoder(maxFrameBytes: transport.options.maxFrameBytes)
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        if let remote = context.channel.remoteAddress { logger[metadataKey: "remote"] = "\(remote)" }
        let channel = context.channel
        let timeout = transport.options.handshakeTimeout
        let transport = self.transport
        let remote = context.channel.remoteAddress.map { "\($0)" } ?? "?"
        let scheduled = context.eventLoop.scheduleTask(in: timeout.timeAmount) {
            transport.handshakeTimedOut(remote: remote)
            channel.close(promise: nil)
        }
        phase = .awaitingHandshake(scheduled)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .closing = phase { return }
        decoder.append(unwrapInboundIn(data))
        do {
            while let frame = try decoder.next() {
                guard handle(frame, context: context) else { return }
            }
        } catch {
            transport.counters.decodeErrors.add(1)
            close(context, "bad bytes: \(error)")
        }
    }

    /// Returns false once the connection is being closed.
    private func handle(_ frame: WireFrame, context: ChannelHandlerContext) -> Bool {
        switch (phase, frame) {
        case (.awaitingHandshake(let timeout), .handshake(let handshake)):
            timeout?.cancel()
            if let reason = certificateMismatch(handshake, context: context) ?? transport.admit(handshake, channel: context.channel) {
                transport.counters.inboundRefused.add(1)
                logger.warning("refusing inbound connection from node \(handshake.from) of cluster '\(handshake.clusterID)': \(reason)")
                phase = .closing
                var buffer = context.channel.allocator.buffer(capacity: 64 + reason.utf8.count)
                WireCodec.encode(.refuse(reason: reason), into: &buffer)
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
                return false
            }
            logger[metadataKey: "peer"] = "\(handshake.from)"
            logger.info("accepted inbound connection")
            phase = .established(peer: handshake.from)
            var accept = context.channel.allocator.buffer(capacity: WireCodec.headerBytes + 8)
            WireCodec.encode(.accept(node: transport.nodeID), into: &accept)
            context.writeAndFlush(wrapOutboundOut(accept), promise: nil)
            return true
        case (.established(let peer), .message(let message)):
            guard message.from == peer, message.to == transport.nodeID else {
                transport.counters.decodeErrors.add(1)
                close(context, "message from \(message.from) to \(message.to) on the connection of node \(peer) to node \(transport.nodeID)")
                return false
            }
            arrived.append(message)
            return true
        case (.awaitingHandshake, _):
            transport.counters.decodeErrors.add(1)
            close(context, "first frame is not a handshake")
            return false
        case (.established, _):
            transport.counters.decodeErrors.add(1)
            close(context, "unexpected \(frame.frameType) frame after the handshake")
            return false
        case (.closing, _):
            return false
        }
    }

    /// With mutual TLS: why the node id the handshake claims is not the one in the peer's
    /// certificate (logged here, naming both), or nil when it is (or without TLS).
    private func certificateMismatch(_ handshake: Handshake, context: ChannelHandlerContext) -> String? {
        guard transport.options.peerTLS != nil else { return nil }
        // Application bytes arrive only after the TLS handshake, so the certificate is known.
        let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate()
        let certified = certificate.map(NodeIdentity.nodeIDs(in:)) ?? []
        guard !certified.contains(handshake.from) else { return nil }
        transport.counters.tlsRefused.add(1)
        logger.warning("refusing inbound connection: it claims to be node \(handshake.from), but its TLS certificate is for \(NodeIdentity.describe(certified))")
        return "node \(handshake.from) presented a certificate for \(NodeIdentity.describe(certified)) (each node needs its own certificate, with the SAN \(NodeIdentity.uri(for: handshake.from)))"
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        deliverArrived()
        context.fireChannelReadComplete()
    }

    private func deliverArrived() {
        guard !arrived.isEmpty else { return }
        let batch = arrived
        arrived.removeAll(keepingCapacity: true)
        transport.deliver(batch)
    }

    private func close(_ context: ChannelHandlerContext, _ reason: String) {
        // Messages decoded before the bad bytes are sound: deliver them.
        deliverArrived()
        logger.warning("closing inbound connection: \(reason)")
        if case .awaitingHandshake(let timeout) = phase { timeout?.cancel() }
        phase = .closing
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deliverArrived()
        if case .awaitingHandshake(let timeout) = phase { timeout?.cancel() }
        phase = .closing
        transport.inboundClosed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let problem = TLSProblem(error) {
            transport.counters.tlsRefused.add(1)
            if case .awaitingHandshake(let timeout) = phase { timeout?.cancel() }
            logger.warning("refusing inbound connection: TLS handshake failed: \(problem)")
        } else {
            logger.debug("inbound connection error: \(error)")
        }
        context.close(promise: nil)
    }
}
