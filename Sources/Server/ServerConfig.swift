import API
import Cluster
import ClusterTLS
import Foundation
import Raft
import RaftTransport
import Workflow
import Yams

/// How one node runs: identity, addresses, directories and initial peers. Built from
/// defaults, then a config file (`--config`), then flags — later wins.
public struct ServerConfig: Sendable, Equatable {
    public var nodeID: NodeID = 1
    /// Names the cluster; nodes refuse peers and data directories of another cluster.
    public var clusterID = "orchestrator"
    public var dataDirectory = "./data"
    public var apiAddress = PeerAddress(host: "127.0.0.1", port: 8080)
    public var raftAddress = PeerAddress(host: "127.0.0.1", port: 7080)
    /// The other members of a new cluster (ignored once the data directory holds state).
    public var peers: [NodeID: MemberAddress] = [:]
    public var workflowsDirectory = "./workflows"
    public var pluginsDirectory = "./plugins"
    /// Start with no membership and wait to be added with `orchestrator cluster add`.
    public var join = false
    /// Keep everything in memory (no data directory): `dev --in-memory` and tests.
    public var inMemory = false
    public var tickMillis = 100
    public var electionTicks = 10
    public var snapshotEveryEntries = 100_000
    /// Entries kept below a snapshot so slightly lagging followers catch up from the log.
    public var snapshotTrailingEntries = 1_000
    public var requestTimeoutMillis = 5_000
    /// How long finished instances of workflows without `retention` are kept; nil: for good.
    public var defaultRetentionMillis: Int64?
    /// How long the leader holds a proposal that arrives while others are in flight, to
    /// batch it with what follows (`--batch-delay`; ``ClusterConfig/proposalBatchDelayMicros``).
    public var batchDelayMicros = 0
    /// Event-loop threads serving the HTTP API; the first is the node loop's own thread, so
    /// with 1 (the default) a transition is read, proposed, answered and written on one
    /// thread (`--http-threads`; docs/performance.md, "One thread per transition").
    public var httpThreads = 1
    /// A file holding the bootstrap admin token (made when missing); implies `requireToken`.
    public var bootstrapTokenFile: String?
    /// Require an API token on every request (but the probes) from the start, also before
    /// the cluster holds one. Without it the cluster asks for tokens once it holds one.
    public var requireToken = false
    /// Require a `read` token for `GET /metrics` too.
    public var metricsRequireToken = false
    /// Allow listening beyond loopback without tokens and TLS (logged as a warning at start
    /// and every minute).
    public var insecure = false

    /// Whether this node asks every request for a token from the start.
    public var requiresTokens: Bool { requireToken || bootstrapTokenFile != nil }
    /// The HTTP API listener's timeouts and connection limit (`--http-header-timeout`, …).
    public var httpLimits = HTTPListenerLimits()
    /// HTTPS for the API (`--tls-cert`, `--tls-key`, `--tls-client-ca`; config `tls`): see
    /// ServerConfig+TLS.swift.
    public var tls = APITLSFiles()
    /// Mutual TLS between nodes (`--peer-cert`, `--peer-key`, `--peer-ca`; config `peer_tls`).
    public var peerTLS = PeerTLSFiles()

    public init() {}

    /// Reads a retention such as `7d` or `12h` (`--retention`, the `retention` setting).
    public static func parseRetention(_ text: String, at place: String = "--retention") throws(ConfigError) -> Int64 {
        guard let duration = WorkflowDuration(parsing: text) else {
            throw ConfigError("\(place): retention '\(text)' is not a duration such as 7d, 12h or 30m")
        }
        return duration.milliseconds
    }

    /// The longest `--batch-delay`.
    public static let batchDelayMicrosMax = 20_000
    /// The most `--http-threads`.
    public static let httpThreadsMax = 256

    /// Reads a batch delay such as `2ms`, `500us` or `0` (`--batch-delay`, `batch_delay`).
    public static func parseBatchDelay(_ text: String, at place: String = "--batch-delay") throws(ConfigError) -> Int {
        let problem = ConfigError("\(place): '\(text)' is not a delay between 0 and 20ms, such as 2ms, 500us or 0")
        let (digits, scale): (Substring, Int) = if text.hasSuffix("us") { (text.dropLast(2), 1) }
            else if text.hasSuffix("ms") { (text.dropLast(2), 1_000) }
            else if text == "0" { ("0", 1) }
            else { throw problem }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= "0" && $0 <= "9" }), let amount = Int(digits),
              amount <= batchDelayMicrosMax / scale else { throw problem }
        return amount * scale
    }

    /// A batch delay as `--batch-delay` takes it: `2ms`, `500us`, `0`.
    public static func spellBatchDelay(_ micros: Int) -> String {
        micros == 0 ? "0" : micros % 1_000 == 0 ? "\(micros / 1_000)ms" : "\(micros)us"
    }

    /// Checks `--http-threads` (`http_threads`).
    public static func parseHTTPThreads(_ value: Int, at place: String = "--http-threads") throws(ConfigError) -> Int {
        guard (1...httpThreadsMax).contains(value) else {
            throw ConfigError("\(place): \(value) threads is out of range: use 1 to \(httpThreadsMax)")
        }
        return value
    }

    /// Reads an HTTP listener timeout such as `10s` or `500ms` (`--http-header-timeout`, the
    /// `http_header_timeout` setting, …) into milliseconds.
    public static func parseHTTPTimeout(_ text: String, at place: String) throws(ConfigError) -> Int {
        guard let duration = WorkflowDuration(parsing: text),
              HTTPListenerLimits.timeoutMillisRange.contains(Int(duration.milliseconds)) else {
            throw ConfigError("\(place): '\(text)' is not a duration between 100ms and 24h, such as 10s, 500ms or 1m")
        }
        return Int(duration.milliseconds)
    }

    /// Reads an HTTP connection limit (`--http-max-connections`, `http_max_connections`).
    public static func parseHTTPConnections(_ value: Int, at place: String) throws(ConfigError) -> Int {
        guard HTTPListenerLimits.connectionsMaxRange.contains(value) else {
            throw ConfigError("\(place): \(value) connections is out of range: use 1 to 1000000")
        }
        return value
    }

    /// This node's own addresses as other members see them.
    public var ownAddress: MemberAddress { MemberAddress(raft: raftAddress, api: "\(apiScheme)://\(apiAddress)") }

    /// Checks the whole configuration; the error names the first problem.
    public func validate() throws(ConfigError) {
        guard nodeID != 0 else { throw ConfigError("node id must be a positive integer") }
        guard !clusterID.isEmpty, clusterID.count <= 64,
              clusterID.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw ConfigError("cluster id '\(clusterID)' must be 1–64 letters, digits, '-', '_' or '.'")
        }
        if let own = peers[nodeID] {
            if own.raft != raftAddress {
                throw ConfigError("peer \(nodeID) is this node, but its raft address \(own.raft) differs from --raft \(raftAddress)")
            }
        }
        var seen: [PeerAddress: NodeID] = [raftAddress: nodeID]
        for (id, peer) in peers.sorted(by: { $0.key < $1.key }) where id != nodeID {
            if let other = seen[peer.raft] {
                throw ConfigError("peers \(other) and \(id) share the raft address \(peer.raft)")
            }
            seen[peer.raft] = id
        }
        guard tickMillis >= 1, electionTicks >= 2, snapshotEveryEntries >= 1, requestTimeoutMillis >= 1 else {
            throw ConfigError("tick, election ticks, snapshot interval and request timeout must be positive")
        }
        guard (0...Self.batchDelayMicrosMax).contains(batchDelayMicros) else {
            throw ConfigError("--batch-delay must be between 0 and 20ms, not \(batchDelayMicros) µs")
        }
        guard (1...Self.httpThreadsMax).contains(httpThreads) else {
            throw ConfigError("--http-threads must be between 1 and \(Self.httpThreadsMax), not \(httpThreads)")
        }
        if let problem = httpLimits.problem { throw ConfigError(problem) }
        try validateTLS()
        if !insecure, let problem = exposureProblem { throw ConfigError(problem) }
    }

    /// The cluster runtime's settings for this node.
    public var clusterConfig: ClusterConfig {
        var config = ClusterConfig(nodeID: nodeID)
        config.tickMillis = tickMillis
        config.electionTicks = electionTicks
        config.snapshotEveryEntries = snapshotEveryEntries
        config.snapshotTrailingEntries = snapshotTrailingEntries
        config.requestTimeoutMillis = requestTimeoutMillis
        config.proposalBatchDelayMicros = batchDelayMicros
        config.randomSeed = UInt64(truncatingIfNeeded: clusterID.hashValue)
        return config
    }

    /// Every initial member's addresses, this node's included.
    public var initialAddresses: [NodeID: MemberAddress] {
        // A cluster serves its API over TLS everywhere or nowhere: peers' API addresses
        // take this node's scheme.
        var all = peers.mapValues { $0.withAPIScheme(apiScheme) }
        all[nodeID] = ownAddress
        return all
    }
}

/// A configuration problem, said in one line.
public struct ConfigError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension ServerConfig {
    /// Reads a YAML config file over these settings. Unknown keys are errors.
    ///
    /// ```yaml
    /// node_id: 1
    /// cluster_id: prod
    /// data_dir: /var/lib/orchestrator
    /// api: 127.0.0.1:8080
    /// raft: 127.0.0.1:7080
    /// peers:
    ///   - { id: 2, raft: 127.0.0.1:7081, api: 127.0.0.1:8081 }
    /// http_header_timeout: 10s
    /// http_max_connections: 4096
    /// ```
    public mutating func load(file path: String) throws(ConfigError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("\(path): cannot read the config file")
        }
        let text = String(decoding: data, as: UTF8.self)
        let node: Yams.Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError("\(path): not valid YAML: \(error)")
        }
        guard let mapping = node?.mapping else { throw ConfigError("\(path): expected a mapping of settings") }
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            let at = "\(path):\(keyNode.mark?.line ?? 0):\(keyNode.mark?.column ?? 0)"
            func text() throws(ConfigError) -> String {
                guard let s = value.string, !s.isEmpty else { throw ConfigError("\(at): '\(key)' must be a non-empty string") }
                return s
            }
            func integer() throws(ConfigError) -> Int {
                guard let i = value.int, i > 0 else { throw ConfigError("\(at): '\(key)' must be a positive integer") }
                return i
            }
            func address() throws(ConfigError) -> PeerAddress {
                let s = try text()
                guard let a = PeerAddress(s) else { throw ConfigError("\(at): '\(key)' must be host:port, not '\(s)'") }
                return a
            }
            switch key {
            case "node_id": nodeID = NodeID(try integer())
            case "cluster_id": clusterID = try text()
            case "data_dir": dataDirectory = try text()
            case "api": apiAddress = try address()
            case "raft": raftAddress = try address()
            case "workflows": workflowsDirectory = try text()
            case "plugins": pluginsDirectory = try text()
            case "join": join = value.bool ?? false
            case "tick_ms": tickMillis = try integer()
            case "election_ticks": electionTicks = try integer()
            case "snapshot_every": snapshotEveryEntries = try integer()
            case "snapshot_trailing": snapshotTrailingEntries = try integer()
            case "request_timeout_ms": requestTimeoutMillis = try integer()
            case "retention": defaultRetentionMillis = try Self.parseRetention(try text(), at: at)
            case "batch_delay": batchDelayMicros = try Self.parseBatchDelay(try text(), at: at)
            case "http_threads": httpThreads = try Self.parseHTTPThreads(try integer(), at: at)
            case "bootstrap_token_file": bootstrapTokenFile = try text()
            case "require_token": requireToken = value.bool ?? false
            case "metrics_require_token": metricsRequireToken = value.bool ?? false
            case "insecure": insecure = value.bool ?? false
            case "http_header_timeout": httpLimits.requestHeadTimeoutMillis = try Self.parseHTTPTimeout(try text(), at: at)
            case "http_body_timeout": httpLimits.bodyReadTimeoutMillis = try Self.parseHTTPTimeout(try text(), at: at)
            case "http_idle_timeout": httpLimits.idleTimeoutMillis = try Self.parseHTTPTimeout(try text(), at: at)
            case "http_write_timeout": httpLimits.responseWriteTimeoutMillis = try Self.parseHTTPTimeout(try text(), at: at)
            case "http_max_connections": httpLimits.connectionsMax = try Self.parseHTTPConnections(try integer(), at: at)
            case "tls": try loadTLS(value, at: at)
            case "peer_tls": try loadPeerTLS(value, at: at)
            case "peers":
                guard let list = value.sequence else { throw ConfigError("\(at): 'peers' must be a list") }
                for item in list {
                    let itemAt = "\(path):\(item.mark?.line ?? 0):\(item.mark?.column ?? 0)"
                    guard let fields = item.mapping, let id = fields["id"]?.int, id > 0,
                          let raftText = fields["raft"]?.string, let raft = PeerAddress(raftText) else {
                        throw ConfigError("\(itemAt): a peer needs 'id' (positive integer) and 'raft' (host:port)")
                    }
                    let unknown = fields.keys.compactMap(\.string).filter { !["id", "raft", "api"].contains($0) }
                    if let bad = unknown.first { throw ConfigError("\(itemAt): unknown peer key '\(bad)' (expected id, raft, api)") }
                    let api = fields["api"]?.string ?? "\(raft.host):\(raft.port + 1000)"
                    peers[NodeID(id)] = MemberAddress(raft: raft, api: api.hasPrefix("http") ? api : "http://\(api)")
                }
            default:
                let known = ["node_id", "cluster_id", "data_dir", "api", "raft", "workflows", "plugins", "join", "tick_ms",
                             "election_ticks", "snapshot_every", "snapshot_trailing", "request_timeout_ms", "retention", "peers",
                             "batch_delay", "http_threads", "bootstrap_token_file", "require_token", "metrics_require_token", "insecure",
                             "http_header_timeout", "http_body_timeout", "http_idle_timeout", "http_write_timeout", "http_max_connections",
                             "tls", "peer_tls"]
                throw ConfigError("\(at): unknown setting '\(key)' (known: \(known.joined(separator: ", ")))")
            }
        }
    }

    /// Parses `host:port`.
    public static func parseAddress(_ text: String) -> PeerAddress? { PeerAddress(text) }

    /// Parses a `--peer` flag: `ID=RAFT_HOST:PORT[,API_HOST:PORT]`.
    public static func parsePeer(_ text: String) throws(ConfigError) -> (NodeID, MemberAddress) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let id = UInt64(parts[0]), id > 0 else {
            throw ConfigError("--peer '\(text)': expected ID=RAFT_HOST:PORT[,API_HOST:PORT], e.g. 2=127.0.0.1:7081,127.0.0.1:8081")
        }
        let addresses = parts[1].split(separator: ",").map(String.init)
        guard (1...2).contains(addresses.count), let raft = PeerAddress(addresses[0]) else {
            throw ConfigError("--peer '\(text)': '\(parts[1])' is not RAFT_HOST:PORT[,API_HOST:PORT]")
        }
        var api = "\(raft.host):\(raft.port + 1000)"
        if addresses.count == 2 {
            guard PeerAddress(addresses[1]) != nil else { throw ConfigError("--peer '\(text)': '\(addresses[1])' is not API_HOST:PORT") }
            api = addresses[1]
        }
        return (id, MemberAddress(raft: raft, api: "http://\(api)"))
    }
}

extension ServerConfig {
    /// Why this node must not start as configured — nil when it is safe (docs/security.md):
    /// an API beyond loopback needs API tokens and TLS, a Raft port beyond loopback mutual
    /// TLS between nodes. `insecure` lets it start anyway.
    public var exposureProblem: String? {
        var problems: [String] = []
        if !Self.isLoopback(apiAddress.host) {
            var missing: [String] = []
            if !requiresTokens { missing.append("API tokens (--bootstrap-token-file FILE at first start, or --require-token)") }
            if tls.certificate == nil { missing.append("TLS (--tls-cert, --tls-key)") }
            if !missing.isEmpty {
                problems.append("--api \(apiAddress) listens beyond loopback without \(missing.joined(separator: " and without "))")
            }
        }
        if !Self.isLoopback(raftAddress.host), peerTLS.certificate == nil {
            problems.append("--raft \(raftAddress) listens beyond loopback without mutual TLS (--peer-cert, --peer-key, --peer-ca)")
        }
        guard !problems.isEmpty else { return nil }
        return problems.joined(separator: "; ") + "; configure them (docs/security.md) or run with --insecure to accept an open cluster"
    }

    /// What `--insecure` lets through on this node, for its warnings; nil when nothing is
    /// exposed without protection.
    public var insecureExposure: String? {
        guard exposureProblem != nil else { return nil }
        let exposed = [("API", apiAddress), ("Raft", raftAddress)].filter { !Self.isLoopback($0.1.host) }.map { "\($0.0) on \($0.1)" }
        return "--insecure: \(exposed.joined(separator: " and ")) beyond loopback without the protection docs/security.md asks for "
            + "(tokens and TLS for the API, mutual TLS for Raft); anyone who reaches it can act as admin"
    }

    /// True for a loopback host: `localhost`, `127.0.0.0/8`, `::1`.
    public static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare == "localhost" || bare == "::1" { return true }
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
