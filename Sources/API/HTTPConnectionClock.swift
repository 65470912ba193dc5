/// Which of the listener's timeouts applies to one HTTP/1.1 connection, and when it runs
/// out: a pure state machine fed with what the connection did and when (nanoseconds of a
/// monotonic clock). The channel handlers (`HTTPConnectionWatchers.swift`) feed it and
/// close the connection when `nextDeadline` has passed.
///
/// A connection is always in one of three phases:
/// - **waiting for a head**: no request in progress. On a new connection the head deadline
///   runs from the moment it opened. On a kept-alive connection the idle timeout runs from
///   the last response until the first byte of the next request, and the head deadline from
///   that byte (Go's `IdleTimeout` then `ReadHeaderTimeout`): a head timeout shorter than
///   the idle timeout still leaves an idle connection open, and a trickled head is still cut
///   off at its deadline.
/// - **reading a body**: from the head to the end of the request. Bytes must keep
///   arriving; the stall clock stops while the server is not asking for more (its handler
///   is busy and the body waits in the buffers), and restarts when it asks again.
/// - **responding**: the request was read; the server answers. No timeout here: the
///   handler's own limits apply (a forwarded write's, say).
///
/// Whatever the phase, while the connection's send buffers are full (the client does not
/// read what it is sent) the write timeout runs; bytes taken end it.
struct HTTPConnectionClock {
    enum Timeout: String, Sendable, CaseIterable {
        case head, body, idle, write
    }

    /// Whose turn it is on the connection, and since when: what the listener looks at to
    /// choose a connection to close when it is full (`HTTPConnectionLimiter`).
    enum Turn: Equatable, Sendable {
        /// No request in progress: waiting for (the rest of) a head since then.
        case waitingForHead(sinceNanos: UInt64)
        /// Reading the body of a request whose head arrived then, as fast as the client sends it.
        case readingBody(sinceNanos: UInt64)
        /// The server's turn: it answers (or holds the body back while its handler is busy).
        case answering
    }

    private let headNanos: UInt64
    private let bodyNanos: UInt64
    private let idleNanos: UInt64
    private let writeNanos: UInt64

    /// Request heads read whose response has not ended yet (more than one when pipelined).
    private(set) var requestsOpen = 0
    /// A head was read and its request's end not yet.
    private(set) var readingRequest = false
    /// Since when the next head is due (`headNanos` later); nil: no byte of it yet.
    private var headStartNanos: UInt64?
    /// When the connection last started waiting for a request: opened, or its last response ended.
    private(set) var waitingSinceNanos: UInt64
    /// When the head of the request being read arrived.
    private var headReadNanos: UInt64 = 0
    /// The last sign of life of the body being read (a byte, or the server asking for more).
    private var bodyProgressNanos: UInt64 = 0
    /// Whether the server asked for more bytes and has not had them yet.
    private var serverReading = true
    /// Since when the send buffers are full (the client not reading); nil: they are not.
    private var writeStalledSinceNanos: UInt64?

    init(limits: HTTPListenerLimits, openedAtNanos now: UInt64) {
        headNanos = UInt64(limits.requestHeadTimeoutMillis) * 1_000_000
        bodyNanos = UInt64(limits.bodyReadTimeoutMillis) * 1_000_000
        idleNanos = UInt64(limits.idleTimeoutMillis) * 1_000_000
        writeNanos = UInt64(limits.responseWriteTimeoutMillis) * 1_000_000
        headStartNanos = now
        waitingSinceNanos = now
    }

    /// Whose turn it is. A body counts as the client's turn while the server reads it; a
    /// pipelined request behind one being answered is the server's turn.
    var turn: Turn {
        if requestsOpen == 0, !readingRequest { return .waitingForHead(sinceNanos: waitingSinceNanos) }
        if readingRequest, requestsOpen == 1, serverReading { return .readingBody(sinceNanos: headReadNanos) }
        return .answering
    }

    /// The timeout that runs out first and when; nil while the server answers and the client
    /// takes what it is sent.
    var nextDeadline: (timeout: Timeout, atNanos: UInt64)? {
        let phase = phaseDeadline
        guard let stalled = writeStalledSinceNanos else { return phase }
        let write = (timeout: Timeout.write, atNanos: stalled &+ writeNanos)
        guard let phase, phase.atNanos < write.atNanos else { return write }
        return phase
    }

    private var phaseDeadline: (timeout: Timeout, atNanos: UInt64)? {
        if readingRequest {
            return serverReading ? (.body, bodyProgressNanos &+ bodyNanos) : nil
        }
        guard requestsOpen == 0 else { return nil }
        if let headStartNanos { return (.head, headStartNanos &+ headNanos) }
        return (.idle, waitingSinceNanos &+ idleNanos)
    }

    /// Bytes came in from the client (before the HTTP decoder saw them).
    mutating func bytesArrived(atNanos now: UInt64) {
        if readingRequest {
            bodyProgressNanos = now
        } else if headStartNanos == nil {
            // The first byte of the next request. (Bytes that came in the same read as the
            // end of the previous body are not seen as such: that head gets the idle timeout.)
            headStartNanos = now
        }
    }

    mutating func headRead(atNanos now: UInt64) {
        requestsOpen += 1
        readingRequest = true
        headStartNanos = nil
        headReadNanos = now
        bodyProgressNanos = now
    }

    mutating func bodyRead(atNanos now: UInt64) {
        bodyProgressNanos = now
    }

    mutating func endRead() {
        readingRequest = false
    }

    /// The server wrote the end of a response.
    mutating func responseEnded(atNanos now: UInt64) {
        requestsOpen = max(requestsOpen - 1, 0)
        guard requestsOpen == 0 else { return }
        waitingSinceNanos = now
        // A pipelined head already begun: its deadline runs from now, not from while the
        // server was still busy with the previous request.
        if headStartNanos != nil { headStartNanos = now }
    }

    /// The server asked for more bytes.
    mutating func readRequested(atNanos now: UInt64) {
        if !serverReading, readingRequest { bodyProgressNanos = now }
        serverReading = true
    }

    /// A read from the socket completed; until the server asks again, it is not reading.
    mutating func readCompleted() {
        serverReading = false
    }

    /// The connection's send buffers filled up (`writable` false: the client is not reading
    /// fast enough) or drained again.
    mutating func writabilityChanged(writable: Bool, atNanos now: UInt64) {
        if writable {
            writeStalledSinceNanos = nil
        } else if writeStalledSinceNanos == nil {
            writeStalledSinceNanos = now
        }
    }
}
