#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Metrics
import NIOCore
import Synchronization

/// The connections of one HTTP listener: how many are open, which of them wait for a
/// request head and since when, and what happens when the listener is full. One per
/// listener, shared by all its connections (on every event loop); the per-connection
/// timeouts live in `HTTPConnectionWatchers.swift`.
///
/// **When full.** A new connection takes the place of the open connection that has waited
/// longest for a request head (a connection that sent half a head and stopped, or a
/// kept-alive one idle the longest), which is closed. With none waiting for a head, the
/// connection that has been sending its request body the longest goes (a slow-body attack
/// fills the listener with those). The new one is refused (closed at once) only when the
/// server owes every open connection an answer. Refusing newcomers instead —
/// not accepting, as Hummingbird's `MaximumAvailableConnections` does — would hand the
/// listener to whoever filled it first: a flood of half-open connections would lock every
/// normal client out until the head timeout. Evicting the longest waiter keeps the node
/// serving: a client that sends its request at once is always the youngest waiter, and an
/// attacker must open connections faster than normal clients send a head to shut them out.
///
/// Reaching the limit is logged at warning, at most once per `capNoticeIntervalNanos`,
/// with the number of connections evicted and refused since the previous notice; every
/// eviction and refusal is counted in the metrics.
public final class HTTPConnectionLimiter: Sendable {
    /// The limits as configured.
    public let limits: HTTPListenerLimits
    /// `limits.connectionsMax`, lowered when the process's open-file limit could not hold
    /// that many connections besides the node's own files (then accepting would fail first,
    /// and the listener would stop taking anyone rather than evict).
    public let connectionsMax: Int
    /// What the listener is called in log lines (its address).
    let listener: String
    let logger: Logger

    /// The shortest time between two "limit reached" log lines.
    static let capNoticeIntervalNanos: UInt64 = 10_000_000_000
    /// File descriptors kept for everything but API connections (log segments, Raft
    /// connections, the forwarding pool, plugin pipes), at most half the limit.
    static let reservedFilesMax = 512

    private struct Connection {
        let channel: any Channel
        var turn: HTTPConnectionClock.Turn

        /// Which connection goes first when the listener is full: the lowest key, nil never.
        /// Waiting for a head before reading a body, the longest waiting first.
        var evictionKey: (rank: Int, sinceNanos: UInt64)? {
            switch turn {
            case .waitingForHead(let since): (0, since)
            case .readingBody(let since): (1, since)
            case .answering: nil
            }
        }
    }

    private struct State {
        var connections: [UInt64: Connection] = [:]
        var nextID: UInt64 = 1
        var statistics = Statistics()
        var lastNoticeNanos: UInt64?
        var evictedSinceNotice = 0
        var refusedSinceNotice = 0
    }

    /// What the listener did so far (the same numbers as its metrics).
    struct Statistics: Equatable {
        var open = 0
        var evicted = 0
        var refused = 0
        var timedOut: [HTTPConnectionClock.Timeout: Int] = [:]
        /// Open connections whose request body is being read now.
        var readingBody = 0
    }

    private let state = Mutex(State())
    private let openGauge: Meter
    private let evictedCounter: Counter
    private let refusedCounter: Counter
    private let timedOutCounters: [HTTPConnectionClock.Timeout: Counter]

    /// - Parameters:
    ///   - limits: the limits; `limits.problem` must be nil.
    ///   - node: this node's id, the `node` label of the metrics.
    ///   - listener: the listener's name in log lines (its address).
    ///   - fileLimit: the process's open-file limit; by default read from `RLIMIT_NOFILE`.
    public init(limits: HTTPListenerLimits, node: UInt64, listener: String, fileLimit: Int? = nil,
                logger: Logger = Logger(label: "orchestrator.api")) {
        precondition(limits.problem == nil, "HTTPListenerLimits: \(limits.problem ?? "")")
        self.limits = limits
        self.listener = listener
        self.logger = logger
        let files = fileLimit ?? Self.openFileLimit()
        let usable = files.map { max($0 - min(Self.reservedFilesMax, $0 / 2), 1) } ?? Int.max
        connectionsMax = min(limits.connectionsMax, usable)
        if connectionsMax < limits.connectionsMax {
            logger.warning("""
                HTTP connection limit of \(listener) lowered from \(limits.connectionsMax) to \(connectionsMax): \
                the open-file limit is \(files ?? 0) (raise it with ulimit -n, or LimitNOFILE= in a systemd unit)
                """)
        }
        let node = "\(node)"
        openGauge = Meter(label: "orchestrator_http_open_connections", dimensions: [("node", node)])
        evictedCounter = Counter(label: "orchestrator_http_connections_evicted_total", dimensions: [("node", node)])
        refusedCounter = Counter(label: "orchestrator_http_connections_refused_total", dimensions: [("node", node)])
        timedOutCounters = Dictionary(uniqueKeysWithValues: HTTPConnectionClock.Timeout.allCases.map { timeout in
            (timeout, Counter(label: "orchestrator_http_connections_timed_out_total",
                              dimensions: [("node", node), ("timeout", timeout.rawValue)]))
        })
    }

    /// The soft `RLIMIT_NOFILE`, or nil when unlimited or unknown.
    static func openFileLimit() -> Int? {
        var limit = rlimit()
        // RLIM_INFINITY is all ones (Linux) or 2⁶³-1 (Darwin): either is past Int.max / 2.
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < UInt64(Int.max / 2) else { return nil }
        return Int(limit.rlim_cur)
    }

    var statistics: Statistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.readingBody = state.connections.values.count { if case .readingBody = $0.turn { true } else { false } }
            return statistics
        }
    }

    /// Takes a new connection, waiting for its head since `now`: its id, or nil when it is
    /// refused (the caller closes it). When the listener is full, closes the connection that
    /// waited longest for a head to make room.
    func admit(_ channel: any Channel, atNanos now: UInt64) -> UInt64? {
        let (id, victim, notice) = state.withLock { state -> (UInt64?, (any Channel)?, (evicted: Int, refused: Int)?) in
            var victim: (any Channel)?
            if state.connections.count >= connectionsMax {
                // O(open connections), only while full: cheap next to the accept it answers.
                let candidates = state.connections.compactMap { entry in entry.value.evictionKey.map { (entry.key, $0) } }
                guard let victimID = candidates.min(by: { $0.1 < $1.1 })?.0 else {
                    state.statistics.refused += 1
                    state.refusedSinceNotice += 1
                    return (nil, nil, Self.notice(&state, now: now))
                }
                victim = state.connections.removeValue(forKey: victimID)?.channel
                state.statistics.evicted += 1
                state.evictedSinceNotice += 1
            }
            let id = state.nextID
            state.nextID += 1
            state.connections[id] = Connection(channel: channel, turn: .waitingForHead(sinceNanos: now))
            state.statistics.open = state.connections.count
            return (id, victim, victim == nil ? nil : Self.notice(&state, now: now))
        }
        if let victim {
            evictedCounter.increment()
            victim.close(promise: nil)
        } else if id != nil {
            openGauge.increment()
        } else {
            refusedCounter.increment()
        }
        if let notice {
            logger.warning("""
                HTTP connection limit reached on \(listener): \(connectionsMax) connections open (--http-max-connections); \
                the connection waiting longest for a request head (else sending a body longest) makes room for each new one. \
                \(notice.evicted) evicted, \(notice.refused) refused (every open connection owed an answer) since the last notice
                """)
        }
        return id
    }

    /// What to say when the limit is hit, if the last notice is old enough: the evictions
    /// and refusals since it (this one included). Called with the lock held.
    private static func notice(_ state: inout State, now: UInt64) -> (evicted: Int, refused: Int)? {
        if let last = state.lastNoticeNanos, now &- last < capNoticeIntervalNanos { return nil }
        state.lastNoticeNanos = now
        defer { state.evictedSinceNotice = 0; state.refusedSinceNotice = 0 }
        return (state.evictedSinceNotice, state.refusedSinceNotice)
    }

    /// The connection's turn changed (a head arrived, its body was read, its answer sent).
    func update(_ id: UInt64, turn: HTTPConnectionClock.Turn) {
        state.withLock { state in
            state.connections[id]?.turn = turn
        }
    }

    /// The connection closed (for whatever reason; an evicted one was already let go).
    func closed(_ id: UInt64) {
        let removed = state.withLock { state -> Bool in
            guard state.connections.removeValue(forKey: id) != nil else { return false }
            state.statistics.open = state.connections.count
            return true
        }
        if removed { openGauge.decrement() }
    }

    /// A connection was closed because `timeout` ran out.
    func timedOut(_ timeout: HTTPConnectionClock.Timeout) {
        state.withLock { $0.statistics.timedOut[timeout, default: 0] += 1 }
        timedOutCounters[timeout]?.increment()
    }
}
