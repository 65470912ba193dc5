import ClusterTLS
import NIOCore

extension TCPTransport {
    /// Limits and timings of a ``TCPTransport``. Every field has a default suited to a
    /// cluster on one LAN; docs/transport.md explains each.
    public struct Options: Sendable {
        /// Largest frame (header + body) sent or accepted. Larger outgoing messages are dropped
        /// and counted; a larger incoming frame closes its connection. Default 64 MiB.
        public var maxFrameBytes = WireCodec.defaultMaxFrameBytes
        /// Messages waiting for one peer before new ones are dropped. Default 4096.
        public var sendQueueMaxMessages = 4096
        /// Encoded bytes waiting for one peer before new messages are dropped. Default 32 MiB
        /// (32 snapshot chunks of 1 MiB).
        public var sendQueueMaxBytes = 32 << 20
        /// Bytes taken from a peer's queue per write round before writability is checked
        /// again; all rounds of one drain end in a single flush. Default 1 MiB.
        public var writeBatchMaxBytes = 1 << 20
        /// Channel write buffer watermarks: above `high` the connection stops taking frames
        /// from the queue until it drains below `low`. Defaults 256 KiB / 2 MiB.
        public var writeBufferLowWatermarkBytes = 256 << 10
        public var writeBufferHighWatermarkBytes = 2 << 20
        /// Messages buffered in `incoming` before new arrivals are dropped. Default 8192.
        public var incomingBufferMessages = 8192
        /// Outbound dial timeout: the TCP connect, and then again the wait for the peer's
        /// answer to our handshake. Default 250 ms: on a LAN both take well under a
        /// millisecond. It bounds how long a dial lives, not how often one starts (see
        /// `reconnectBackoffMax`): dials overlap while they hang.
        public var connectTimeout: Duration = .milliseconds(250)
        /// An inbound connection that has not sent its handshake by then is closed. Default 5 s.
        public var handshakeTimeout: Duration = .seconds(5)
        /// Time between dials while a peer cannot be reached: `reconnectBackoffMin` after the
        /// first, doubling per dial up to `reconnectBackoffMax`, each drawn from [delay/2, delay]
        /// by a generator seeded from `jitterSeed`, this node's id and the peer's id. A dial
        /// starts on time even while earlier ones still wait for their timeout (at most
        /// `PeerLink.dialsInFlightMax` at once), so a peer that comes back (a restart, a
        /// healed partition) is dialled within `reconnectBackoffMax`, whatever the timeouts.
        /// Defaults 50 ms and 100 ms (etcd's rafthttp dials every 100 ms): a down peer costs
        /// about ten refused connects a second.
        public var reconnectBackoffMin: Duration = .milliseconds(50)
        public var reconnectBackoffMax: Duration = .milliseconds(100)
        /// Delay before dialling again a peer that refused our handshake (wrong cluster id,
        /// not a member): a configuration problem that retrying fast will not fix. Default 2 s.
        public var reconnectAfterRefusal: Duration = .seconds(2)
        /// An outbound connection is taken for dead, closed and dialled again when something
        /// was written on it and nothing at all has arrived from that peer (on its own
        /// connection to us) for this long. A partition that drops packets leaves TCP
        /// believing the connection is up while it retransmits with growing intervals
        /// (seconds, after a few); Raft traffic answers every message a peer writes (a
        /// heartbeat, an append, a vote request), so silence means the path is gone.
        /// Default 1 s (the election timeout at the default tick); `nil` disables it.
        public var deadPeerTimeout: Duration? = .seconds(1)
        public var jitterSeed: UInt64 = 0
        /// Inbound connections open at once (including ones still in their handshake); more are
        /// closed on accept. Default 256.
        public var maxInboundConnections = 256
        /// Mutual TLS between nodes: this node's certificate and key and the cluster CA. When
        /// set, every connection in either direction is TLS 1.2 or newer with a certificate
        /// from the cluster CA required on both sides, and the peer's node id must be in its
        /// certificate (`NodeIdentity`): an accepted connection whose handshake frame claims
        /// another node id than its certificate carries is refused, and a dialed peer whose
        /// certificate does not carry the id of the node dialed is closed. Outbound, the
        /// wait for the peer's accept (`connectTimeout`) is doubled to cover the TLS
        /// handshake. `nil` (the default): plain TCP.
        public var peerTLS: PeerTLS? = nil
        /// Where the transport's channels run. `nil`: `MultiThreadedEventLoopGroup.singleton`.
        public var eventLoopGroup: (any EventLoopGroup)? = nil

        public init() {}
    }
}

extension Duration {
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
