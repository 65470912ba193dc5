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
        /// Outbound connect timeout. Default 1 s.
        public var connectTimeout: Duration = .seconds(1)
        /// An inbound connection that has not sent its handshake by then is closed. Default 5 s.
        public var handshakeTimeout: Duration = .seconds(5)
        /// Reconnect delay after the first failure; doubles per failure up to `reconnectBackoffMax`.
        /// Each delay is drawn from [delay/2, delay] by a generator seeded from `jitterSeed`,
        /// this node's id and the peer's id. Defaults 50 ms and 2 s.
        public var reconnectBackoffMin: Duration = .milliseconds(50)
        public var reconnectBackoffMax: Duration = .seconds(2)
        public var jitterSeed: UInt64 = 0
        /// Inbound connections open at once (including ones still in their handshake); more are
        /// closed on accept. Default 256.
        public var maxInboundConnections = 256
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
