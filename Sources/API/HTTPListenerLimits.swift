/// The limits of one HTTP API listener against slow, idle and too many connections
/// (docs/operations.md, "HTTP listener limits"). Each is a named field with its unit and a
/// default that no well-behaved client comes near.
///
/// ```swift
/// var limits = HTTPListenerLimits()
/// limits.requestHeadTimeoutMillis = 2_000      // serve --http-header-timeout 2s
/// let limiter = HTTPConnectionLimiter(limits: limits, node: 1, listener: "127.0.0.1:8080")
/// let app = Application(router: router, server: .limitedHTTP1(limiter), configuration: ...)
/// ```
public struct HTTPListenerLimits: Sendable, Hashable {
    /// A request head (request line and headers) must arrive whole within this long of the
    /// connection opening, or of the first byte of a later request on a kept-alive
    /// connection. A deadline, not an idle timer: a client that trickles a byte every second
    /// is cut off as surely as one that stops. Default 10 s.
    public var requestHeadTimeoutMillis: Int
    /// While a request body is read, bytes must keep arriving: this long without any closes
    /// the connection. The time the server itself is not reading (its handler is busy and
    /// the body waits) does not count. Default 30 s.
    public var bodyReadTimeoutMillis: Int
    /// A kept-alive connection with no request in progress is closed after this long without
    /// a byte of the next request. Default 60 s.
    public var idleTimeoutMillis: Int
    /// While an answer is written, the client must keep reading it: this long with the
    /// connection's send buffers full (the client takes no bytes) closes the connection
    /// (a slow-read attack otherwise holds it, and its place, for good). Default 30 s.
    public var responseWriteTimeoutMillis: Int
    /// Most connections open at once on the listener. When it is full, a new connection
    /// takes the place of the open connection that has waited longest for a request head,
    /// else of the one sending its body longest (that one is closed); only when the server
    /// owes every open connection an answer is the new one refused. Default 4,096 (lowered at
    /// start to what the open-file limit allows).
    public var connectionsMax: Int

    /// The shortest and longest timeout accepted.
    public static let timeoutMillisRange = 100...86_400_000
    /// The fewest and most connections accepted.
    public static let connectionsMaxRange = 1...1_000_000

    /// The defaults listed on each field.
    public init(requestHeadTimeoutMillis: Int = 10_000, bodyReadTimeoutMillis: Int = 30_000, idleTimeoutMillis: Int = 60_000,
                responseWriteTimeoutMillis: Int = 30_000, connectionsMax: Int = 4_096) {
        self.requestHeadTimeoutMillis = requestHeadTimeoutMillis
        self.bodyReadTimeoutMillis = bodyReadTimeoutMillis
        self.idleTimeoutMillis = idleTimeoutMillis
        self.responseWriteTimeoutMillis = responseWriteTimeoutMillis
        self.connectionsMax = connectionsMax
    }

    /// The first limit out of range, said in one line that names its flag; nil when all are fine.
    public var problem: String? {
        let timeouts = [("--http-header-timeout", requestHeadTimeoutMillis), ("--http-body-timeout", bodyReadTimeoutMillis),
                        ("--http-idle-timeout", idleTimeoutMillis), ("--http-write-timeout", responseWriteTimeoutMillis)]
        for (flag, millis) in timeouts where !Self.timeoutMillisRange.contains(millis) {
            return "\(flag) must be between 100ms and 24h, not \(millis) ms"
        }
        if !Self.connectionsMaxRange.contains(connectionsMax) {
            return "--http-max-connections must be between 1 and 1000000, not \(connectionsMax)"
        }
        return nil
    }
}
