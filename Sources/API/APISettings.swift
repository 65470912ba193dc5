import NIOSSL
import Workflow

/// The API's limits and forwarding settings, each named with its unit.
///
/// ```swift
/// var settings = APISettings()
/// settings.bodyBytesMax = 256 * 1024
/// ```
public struct APISettings: Sendable, Hashable {
    /// Largest request body accepted (JSON or YAML); larger ones get 413 `body_too_large`.
    /// Default 1 MiB (the workflow loader's own document limit).
    public var bodyBytesMax: Int
    /// Page size of `GET /v1/instances` without `limit`. Default 100.
    public var pageSizeDefault: Int
    /// Largest `limit` accepted. Default 1,000 (the engine's page limit).
    public var pageSizeMax: Int
    /// Longest wait for the leader's answer to a forwarded request. Default 10 s.
    public var forwardTimeoutSeconds: Double
    /// Longest wait to connect to the leader. Default 1 s.
    public var forwardConnectTimeoutSeconds: Double
    /// Most pooled connections to the leader for forwarding. Default 128.
    public var forwardConnectionsMax: Int
    /// Largest forwarded answer passed back. Default 16 MiB.
    public var forwardResponseBytesMax: Int
    /// The cluster's retention for workflows without one (`serve --retention`), shown as
    /// `purge_at` of finished instances; nil: kept for good. Default nil.
    public var defaultRetentionMillis: Int64? = nil
    /// Longest wait for the node loop to answer the status read of `GET /livez` and
    /// `GET /readyz`; no answer in time fails their `node_loop` check. Default 1 s (give the
    /// probe a `timeoutSeconds` of 2 or more, so its answer arrives before the prober gives up).
    public var livenessTimeoutMillis: Int
    /// Most entries the applied index may trail the commit index while `GET /readyz` still
    /// says ready (its `applied` check). Default 5,000: etcd's
    /// `maxGapBetweenApplyAndCommitIndex`, past which etcd too stops taking requests.
    public var readyAppliedLagEntriesMax: UInt64
    /// The cluster's id (`serve --cluster-id`), recorded in the snapshots `GET /v1/snapshot`
    /// takes. Default `orchestrator` (the server's default).
    public var clusterID = "orchestrator"
    /// Require an API token on every request but the probes even before the cluster holds
    /// a token (a node given `--bootstrap-token-file`, or `--require-token`): its requests get
    /// 401 until the bootstrap token is applied. Default false: the cluster asks for tokens
    /// once it holds one.
    public var requireTokens = false
    /// Require a `read` token for `GET /metrics` too (`--metrics-require-token`). Default
    /// false: scrapers need no token; the metrics hold no instance data.
    public var metricsRequireToken = false
    /// TLS of the connections a follower opens to forward a write to the leader's HTTPS API
    /// (the CA to trust, a client certificate to present); nil: the system's roots, none.
    /// Default nil.
    public var forwardTLS: ForwardingTLS? = nil

    /// Events `GET /v1/events` keeps for clients that reconnect with `Last-Event-ID` (one
    /// ring per node, shared by every stream). A client further behind gets a `reset` event
    /// (refetch), and a stream that falls this far behind is ended with a `dropped` event.
    /// Default 10,000 (10 s at 1,000 transitions/s; ~3 MB).
    public var eventRingEventsMax = 10_000
    /// Idle time after which a stream sends a `: heartbeat` comment, so proxies keep it open.
    /// Default 15 s.
    public var eventsHeartbeatSeconds: Double = 15
    /// A stream writes what arrived at most this often, in one write: fewer, larger writes
    /// under load. Default 100 ms.
    public var eventsFlushMillis = 100
    /// Most events one write of a stream carries (its buffer's bound). Default 1,000.
    public var eventsWriteEventsMax = 1_000

    /// Longest instance or request id (the engine's rule: `[A-Za-z0-9._:-]{1,128}`).
    public static let idLengthMax = 128
    /// Longest workflow name in a path (the workflow loader's rule).
    public static let workflowNameLengthMax = WorkflowLimits.nameLengthMax

    /// The defaults listed on each field.
    public init(bodyBytesMax: Int = 1 << 20, pageSizeDefault: Int = 100, pageSizeMax: Int = 1_000,
                forwardTimeoutSeconds: Double = 10, forwardConnectTimeoutSeconds: Double = 1,
                forwardConnectionsMax: Int = 128, forwardResponseBytesMax: Int = 16 << 20,
                livenessTimeoutMillis: Int = 1_000, readyAppliedLagEntriesMax: UInt64 = 5_000) {
        precondition(bodyBytesMax > 0 && pageSizeDefault >= 1 && pageSizeMax >= pageSizeDefault && forwardTimeoutSeconds > 0
                     && forwardConnectTimeoutSeconds > 0 && forwardConnectionsMax >= 1 && forwardResponseBytesMax > 0
                     && livenessTimeoutMillis > 0,
                     "APISettings: limits must be positive")
        self.bodyBytesMax = bodyBytesMax
        self.pageSizeDefault = pageSizeDefault
        self.pageSizeMax = pageSizeMax
        self.forwardTimeoutSeconds = forwardTimeoutSeconds
        self.forwardConnectTimeoutSeconds = forwardConnectTimeoutSeconds
        self.forwardConnectionsMax = forwardConnectionsMax
        self.forwardResponseBytesMax = forwardResponseBytesMax
        self.livenessTimeoutMillis = livenessTimeoutMillis
        self.readyAppliedLagEntriesMax = readyAppliedLagEntriesMax
    }
}

/// The TLS settings of forwarding (``APISettings/forwardTLS``), compared and hashed as
/// NIOSSL allows (`bestEffortEquals`).
public struct ForwardingTLS: Sendable, Hashable {
    public var configuration: TLSConfiguration

    public init(_ configuration: TLSConfiguration) {
        self.configuration = configuration
    }

    public static func == (lhs: ForwardingTLS, rhs: ForwardingTLS) -> Bool {
        lhs.configuration.bestEffortEquals(rhs.configuration)
    }

    public func hash(into hasher: inout Hasher) {
        configuration.bestEffortHash(into: &hasher)
    }
}
