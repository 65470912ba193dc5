import Synchronization

/// Counters a transport keeps since it was created. Read them with `stats`; each field
/// only grows. Cheap enough to read on every metrics scrape.
public struct TransportStats: Sendable, Hashable, CustomStringConvertible {
    /// Messages handed to a connection (TCP: written to the socket's channel; in memory: delivered to an inbox).
    public var messagesSent = 0
    /// Encoded frame bytes handed to connections (TCP only).
    public var bytesSent = 0
    /// Messages received and passed to `incoming` (or dropped there: see `receiveDropped`).
    public var messagesReceived = 0
    /// Messages dropped on the sending side: a full per-peer queue, an unknown or removed
    /// peer, a frame over `maxFrameBytes`, a cut link (in memory), or shutdown.
    public var sendDropped = 0
    /// Messages dropped because `incoming` was full (or an in-memory inbox was full).
    public var receiveDropped = 0
    /// Outbound connections established (handshake accepted by the peer).
    public var connectionsEstablished = 0
    /// Outbound connections established after the first one to the same peer.
    public var reconnects = 0
    /// Outbound connection attempts that failed.
    public var connectFailures = 0
    /// Inbound connections closed because their bytes did not decode or broke the protocol.
    public var decodeErrors = 0
    /// Inbound connections this node refused (wrong cluster, unknown node, handshake timeout, too many connections).
    public var inboundRefused = 0
    /// Times a peer refused one of our outbound connections.
    public var refusedByPeer = 0
    /// Outbound connections closed as dead: written to, and nothing heard from the peer
    /// for `deadPeerTimeout` (see ``TCPTransport/Options``).
    public var deadConnections = 0
    /// Connections (either direction) closed for TLS: a failed TLS handshake (a certificate
    /// not from the cluster CA, a peer that does not speak TLS), or a peer certificate whose
    /// node id is not the one the peer claims (inbound) or the one dialed (outbound).
    public var tlsRefused = 0

    public init() {}

    public var description: String {
        "sent=\(messagesSent) bytesSent=\(bytesSent) received=\(messagesReceived) sendDropped=\(sendDropped) "
            + "receiveDropped=\(receiveDropped) connections=\(connectionsEstablished) reconnects=\(reconnects) "
            + "connectFailures=\(connectFailures) decodeErrors=\(decodeErrors) inboundRefused=\(inboundRefused) refusedByPeer=\(refusedByPeer) deadConnections=\(deadConnections) tlsRefused=\(tlsRefused)"
    }
}

/// The live counters behind ``TransportStats``: relaxed atomics, updated from any thread.
final class TransportCounters: Sendable {
    let messagesSent = Atomic<Int>(0)
    let bytesSent = Atomic<Int>(0)
    let messagesReceived = Atomic<Int>(0)
    let sendDropped = Atomic<Int>(0)
    let receiveDropped = Atomic<Int>(0)
    let connectionsEstablished = Atomic<Int>(0)
    let reconnects = Atomic<Int>(0)
    let connectFailures = Atomic<Int>(0)
    let decodeErrors = Atomic<Int>(0)
    let inboundRefused = Atomic<Int>(0)
    let refusedByPeer = Atomic<Int>(0)
    let deadConnections = Atomic<Int>(0)
    let tlsRefused = Atomic<Int>(0)

    init() {}

    var snapshot: TransportStats {
        var stats = TransportStats()
        stats.messagesSent = messagesSent.load(ordering: .relaxed)
        stats.bytesSent = bytesSent.load(ordering: .relaxed)
        stats.messagesReceived = messagesReceived.load(ordering: .relaxed)
        stats.sendDropped = sendDropped.load(ordering: .relaxed)
        stats.receiveDropped = receiveDropped.load(ordering: .relaxed)
        stats.connectionsEstablished = connectionsEstablished.load(ordering: .relaxed)
        stats.reconnects = reconnects.load(ordering: .relaxed)
        stats.connectFailures = connectFailures.load(ordering: .relaxed)
        stats.decodeErrors = decodeErrors.load(ordering: .relaxed)
        stats.inboundRefused = inboundRefused.load(ordering: .relaxed)
        stats.refusedByPeer = refusedByPeer.load(ordering: .relaxed)
        stats.deadConnections = deadConnections.load(ordering: .relaxed)
        stats.tlsRefused = tlsRefused.load(ordering: .relaxed)
        return stats
    }
}

extension Atomic where Value == Int {
    func add(_ amount: Int) { wrappingAdd(amount, ordering: .relaxed) }
}
