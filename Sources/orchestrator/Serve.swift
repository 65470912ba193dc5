import ArgumentParser
import ClusterTLS
import Foundation
import Server

/// `orchestrator serve`: run one node.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one orchestrator node.",
        discussion: """
            With no flags: a one-node cluster with its HTTP API on 127.0.0.1:8080, Raft on
            127.0.0.1:7080, data in ./data, workflows from ./workflows, plugins from ./plugins.
            A multi-node cluster is flags or a config file; on the first start the node
            bootstraps the initial membership (itself and its peers), later starts recover
            from the data directory and ignore the peer list. SIGTERM or Ctrl-C stops it
            cleanly. Bad configuration prints one line and exits 2.

            Examples:
              orchestrator serve
              orchestrator serve --node-id 1 --api 127.0.0.1:8081 --raft 127.0.0.1:7081 --data-dir data/n1 \\
                  --peer 2=127.0.0.1:7082,127.0.0.1:8082 --peer 3=127.0.0.1:7083,127.0.0.1:8083
              orchestrator serve --config orchestrator.yaml
              orchestrator serve --tls-cert certs/node-1.pem --tls-key certs/node-1-key.pem \\
                  --peer-cert certs/node-1.pem --peer-key certs/node-1-key.pem --peer-ca certs/ca.pem …

            TLS (docs/security.md): --tls-cert/--tls-key serve the API over HTTPS (SIGHUP re-reads
            them); --tls-client-ca also requires client certificates from that CA. --peer-cert,
            --peer-key and --peer-ca make every Raft connection mutual TLS with the cluster CA;
            each node's certificate must carry its node id (orchestrator certs init makes them).
            """
    )

    @Option(name: .long, help: "A YAML config file (node_id, cluster_id, data_dir, api, raft, peers, …); flags override it.")
    var config: String?

    @Option(name: .customLong("node-id"), help: "This node's id (a positive integer; default 1).")
    var nodeID: UInt64?

    @Option(name: .customLong("cluster-id"), help: "The cluster's name; nodes refuse peers and data of another cluster (default orchestrator).")
    var clusterID: String?

    @Option(name: .customLong("data-dir"), help: "Where the log and snapshots live (default ./data).")
    var dataDir: String?

    @Option(name: .long, help: "HTTP API listen address host:port (default 127.0.0.1:8080).")
    var api: String?

    @Option(name: .long, help: "Raft listen address host:port (default 127.0.0.1:7080).")
    var raft: String?

    @Option(name: .long, help: "An initial peer: ID=RAFT_HOST:PORT[,API_HOST:PORT]. Repeat for each.")
    var peer: [String] = []

    @Option(name: .long, help: "Directory of workflow definitions registered on start (default ./workflows).")
    var workflows: String?

    @Option(name: .long, help: "Directory of plugins (default ./plugins).")
    var plugins: String?

    @Option(name: .long, help: "Keep finished instances of workflows without their own `retention` this long (e.g. 7d, 12h); default: for good.")
    var retention: String?

    @Flag(name: .long, help: "Start with no membership and wait to be added with `orchestrator cluster add`.")
    var join = false

    @Option(name: .customLong("bootstrap-token-file"),
            help: "A file with the bootstrap admin token (orch_…), made (mode 0600) when missing; turns authentication on. Give every node of a new cluster the same file.")
    var bootstrapTokenFile: String?

    @Flag(name: .customLong("require-token"), help: "Ask every request (but /livez, /readyz, /metrics) for an API token from the start.")
    var requireToken = false

    @Flag(name: .customLong("metrics-require-token"), help: "Ask for a read token on GET /metrics too.")
    var metricsRequireToken = false

    @Flag(name: .long, help: "Allow listening beyond loopback without API tokens (logged as a warning at start and every minute).")
    var insecure = false

    @Flag(name: .customLong("in-memory"), help: "Keep everything in memory (nothing survives a restart).")
    var inMemory = false

    @Option(name: .customLong("tick-ms"), help: "Raft tick length in milliseconds (default 100; election timeout is 10–20 ticks).")
    var tickMillis: Int?

    @Option(name: .customLong("snapshot-every"), help: "Take a snapshot every this many applied entries (default 100000, as etcd).")
    var snapshotEvery: Int?

    @Option(name: .customLong("snapshot-trailing"), help: "Log entries kept below each snapshot for lagging followers (default 1000).")
    var snapshotTrailing: Int?

    @Option(name: .customLong("batch-delay"), help: ArgumentHelp("Hold a proposal that arrives while others are in flight up to this long (e.g. 2ms, 500us), so a steady load shares append rounds and fsyncs: less CPU per transition, up to this much more latency (default 0: off).", valueName: "delay"))
    var batchDelay: String?

    @Option(name: .customLong("http-threads"), help: "Event-loop threads for the HTTP API; the first is the node loop's own (default 1: every request on that one thread).")
    var httpThreads: Int?

    @Option(name: .customLong("http-header-timeout"), help: "A request head must arrive whole within this long of the connection opening or of its first byte (default 10s).")
    var httpHeaderTimeout: String?

    @Option(name: .customLong("http-body-timeout"), help: "Close a connection whose request body makes no progress for this long (default 30s).")
    var httpBodyTimeout: String?

    @Option(name: .customLong("http-idle-timeout"), help: "Close a kept-alive connection idle between requests for this long (default 60s).")
    var httpIdleTimeout: String?

    @Option(name: .customLong("http-write-timeout"), help: "Close a connection whose client takes none of its answer for this long (default 30s).")
    var httpWriteTimeout: String?

    @Option(name: .customLong("http-max-connections"), help: "Most open HTTP API connections; when full, the one waiting longest for a request head is closed (default 4096).")
    var httpMaxConnections: Int?
    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("Serve the API over HTTPS with this PEM certificate (chain); SIGHUP re-reads it.", valueName: "file"))
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("The PEM private key of --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Option(name: .customLong("tls-client-ca"), help: ArgumentHelp("Require API clients to present a certificate from this PEM CA.", valueName: "file"))
    var tlsClientCA: String?

    @Option(name: .customLong("peer-cert"), help: ArgumentHelp("Mutual TLS between nodes: this node's PEM certificate (carrying its node id SAN).", valueName: "file"))
    var peerCert: String?

    @Option(name: .customLong("peer-key"), help: ArgumentHelp("The PEM private key of --peer-cert.", valueName: "file"))
    var peerKey: String?

    @Option(name: .customLong("peer-ca"), help: ArgumentHelp("The cluster CA (PEM) peers' certificates must come from; followers also trust it when forwarding to an https leader.", valueName: "file"))
    var peerCA: String?

    func resolvedConfig() throws(ConfigError) -> ServerConfig {
        var settings = ServerConfig()
        if let config { try settings.load(file: config) }
        if let nodeID { settings.nodeID = nodeID }
        if let clusterID { settings.clusterID = clusterID }
        if let dataDir { settings.dataDirectory = dataDir }
        if let api {
            guard let address = ServerConfig.parseAddress(api) else { throw ConfigError("--api '\(api)' is not host:port") }
            settings.apiAddress = address
        }
        if let raft {
            guard let address = ServerConfig.parseAddress(raft) else { throw ConfigError("--raft '\(raft)' is not host:port") }
            settings.raftAddress = address
        }
        for text in peer {
            let (id, address) = try ServerConfig.parsePeer(text)
            settings.peers[id] = address
        }
        // A workflows directory named on the command line must exist (the default may be
        // absent: the node starts with none). The plugins directory is read at each
        // registration, so it may appear later.
        if let workflows, !Dev.isDirectory(workflows) {
            throw ConfigError("--workflows '\(workflows)' is not a directory")
        }
        if let workflows { settings.workflowsDirectory = workflows }
        if let plugins { settings.pluginsDirectory = plugins }
        if let retention { settings.defaultRetentionMillis = try ServerConfig.parseRetention(retention) }
        if join { settings.join = true }
        if let bootstrapTokenFile { settings.bootstrapTokenFile = bootstrapTokenFile }
        if requireToken { settings.requireToken = true }
        if metricsRequireToken { settings.metricsRequireToken = true }
        if insecure { settings.insecure = true }
        if inMemory { settings.inMemory = true }
        if let tickMillis { settings.tickMillis = tickMillis }
        if let snapshotEvery { settings.snapshotEveryEntries = snapshotEvery }
        if let snapshotTrailing { settings.snapshotTrailingEntries = snapshotTrailing }
        if let batchDelay { settings.batchDelayMicros = try ServerConfig.parseBatchDelay(batchDelay) }
        if let httpThreads { settings.httpThreads = try ServerConfig.parseHTTPThreads(httpThreads) }
        if let httpHeaderTimeout {
            settings.httpLimits.requestHeadTimeoutMillis = try ServerConfig.parseHTTPTimeout(httpHeaderTimeout, at: "--http-header-timeout")
        }
        if let httpBodyTimeout {
            settings.httpLimits.bodyReadTimeoutMillis = try ServerConfig.parseHTTPTimeout(httpBodyTimeout, at: "--http-body-timeout")
        }
        if let httpIdleTimeout {
            settings.httpLimits.idleTimeoutMillis = try ServerConfig.parseHTTPTimeout(httpIdleTimeout, at: "--http-idle-timeout")
        }
        if let httpWriteTimeout {
            settings.httpLimits.responseWriteTimeoutMillis = try ServerConfig.parseHTTPTimeout(httpWriteTimeout, at: "--http-write-timeout")
        }
        if let httpMaxConnections {
            settings.httpLimits.connectionsMax = try ServerConfig.parseHTTPConnections(httpMaxConnections, at: "--http-max-connections")
        }
        if let tlsCert { settings.tls.certificate = TLSFile(tlsCert, setting: "--tls-cert") }
        if let tlsKey { settings.tls.key = TLSFile(tlsKey, setting: "--tls-key") }
        if let tlsClientCA { settings.tls.clientCA = TLSFile(tlsClientCA, setting: "--tls-client-ca") }
        if let peerCert { settings.peerTLS.certificate = TLSFile(peerCert, setting: "--peer-cert") }
        if let peerKey { settings.peerTLS.key = TLSFile(peerKey, setting: "--peer-key") }
        if let peerCA { settings.peerTLS.ca = TLSFile(peerCA, setting: "--peer-ca") }
        try settings.validate()
        return settings
    }

    func run() async throws {
        do {
            let settings = try resolvedConfig()
            // Room for --http-max-connections before the HTTP listener sizes itself.
            OpenFileLimit.raiseToHard()
            let server = try OrchestratorServer(config: settings)
            try await server.run()
        } catch let error as ConfigError {
            printError("error: \(error)")
            throw ExitCode(ExitStatus.usage)
        } catch {
            printError("error: \(error)")
            throw ExitCode(ExitStatus.usage)
        }
    }
}
