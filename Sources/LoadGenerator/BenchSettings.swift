import Client
import NIOSSL

/// What `Bench.run` does.
public struct BenchSettings: Sendable {
    /// Base URLs of the nodes to drive; clients are spread over them round-robin. Loopback only.
    public var servers: [String]
    /// Concurrent clients, each with its own instance. 1...`clientsMax`.
    public var clients: Int
    /// How long to run, in seconds. Up to `durationSecondsMax`.
    public var durationSeconds: Double
    /// The workflow to cycle through; must be registered on the cluster.
    public var workflow: String
    /// Stop after this many transitions in all, even before the duration.
    public var transitionsMax: Int
    /// Retries of a call that found the cluster unavailable (same request id).
    public var retry: RetryPolicy
    /// Open loop: transitions per second in all, due at fixed times whichever client sends
    /// them, latency counted from when each was due. Nil: closed loop, each client sending
    /// its next transition when the last is answered. At most `ratePerSecondMax`.
    public var ratePerSecond: Double?
    /// An API token sent with every request (a cluster with authentication on); nil for none.
    public var token: String?
    /// TLS for `https://` servers (CA to trust, client certificate); nil: the system's roots.
    /// Each client does one handshake and keeps its connection.
    public var tls: TLSConfiguration? = nil

    /// Most concurrent clients.
    public static let clientsMax = 4_096
    /// Longest run.
    public static let durationSecondsMax = 3_600.0
    /// Highest open-loop rate, in transitions per second: far above what one machine
    /// answers, so it only stops a typo (a rate meant per minute, an extra zero or three).
    public static let ratePerSecondMax = 1_000_000.0

    /// The settings; the defaults are those of `orchestrator bench` (a closed loop).
    public init(servers: [String], clients: Int = 1, durationSeconds: Double = 10, workflow: String = "cookbook",
                transitionsMax: Int = 100_000_000, retry: RetryPolicy = RetryPolicy(deadlineSeconds: 5),
                ratePerSecond: Double? = nil, token: String? = nil) {
        self.token = token
        self.servers = servers
        self.clients = clients
        self.durationSeconds = durationSeconds
        self.workflow = workflow
        self.transitionsMax = transitionsMax
        self.retry = retry
        self.ratePerSecond = ratePerSecond
    }

    /// Throws a `BenchError` that names the option at fault and what would be right.
    func validate() throws {
        guard !servers.isEmpty else { throw BenchError("give at least one --server") }
        guard (1...BenchSettings.clientsMax).contains(clients) else {
            throw BenchError("--clients must be between 1 and \(BenchSettings.clientsMax), not \(clients)")
        }
        guard durationSeconds > 0, durationSeconds <= BenchSettings.durationSecondsMax else {
            throw BenchError("--duration must be more than 0 and at most \(Int(BenchSettings.durationSecondsMax)) seconds")
        }
        guard transitionsMax >= 1 else { throw BenchError("--transitions-max must be at least 1") }
        if let ratePerSecond, !(ratePerSecond > 0 && ratePerSecond <= BenchSettings.ratePerSecondMax) {
            throw BenchError("--rate must be more than 0 and at most \(Int(BenchSettings.ratePerSecondMax)) transitions per "
                             + "second in all, not \(ratePerSecond); leave it out for a closed loop")
        }
        for server in servers where !BenchSettings.isLoopback(server) {
            throw BenchError("bench only targets loopback servers (127.0.0.1, localhost, [::1]); '\(server)' is not one")
        }
    }

    /// True when `url`'s host is a loopback address.
    static func isLoopback(_ url: String) -> Bool {
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        let hostPort = rest.prefix { $0 != "/" }
        let host: Substring
        if hostPort.hasPrefix("[") {
            host = hostPort.dropFirst().prefix { $0 != "]" }
        } else {
            host = hostPort.prefix { $0 != ":" }
        }
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
