import API
import Cluster
import Engine
import Foundation
import Hummingbird
import Logging
import Metrics
import NIOPosix
import Plugins
import Prometheus
import Raft
import RaftStorage
import RaftTransport
import ServiceLifecycle
import Workflow

/// One orchestrator node, composed from its config: storage, transport, cluster node,
/// engine, the consensus seam over them (`ClusterConsensus`), the HTTP API and the leader
/// services (workflow registration), run as services that shut down in order (API first,
/// then the leader services, then the node, which finishes its `Ready` and closes the log).
public final class OrchestratorServer: Sendable {
    public let config: ServerConfig
    public let node: ClusterNode
    public let engine: ReplicatedEngine
    /// The one consensus seam the API and the leader services use.
    public let consensus: any Consensus
    /// The runtime of the work that runs only while this node leads.
    public let leaderServices: LeaderServices
    let transport: any RaftTransport
    let api: APIServer
    let logger: Logger
    let registry: PrometheusCollectorRegistry
    /// The API's HTTPS and Raft's mutual TLS, when configured (NodeTLS.swift).
    let tls: NodeTLS
    /// The HTTP API's event loops; the node loop runs on the first.
    let httpLoops: MultiThreadedEventLoopGroup

    /// Opens storage and builds every part. Errors are one-line ``ConfigError``s.
    /// - Parameter transport: the transport to use; by default a TCP transport on `config.raftAddress`.
    /// - Parameter clock: the wall clock commands are stamped with and leader services read.
    public init(config: ServerConfig, transport: (any RaftTransport)? = nil, registry: PrometheusCollectorRegistry? = nil,
                clock: any WallClock = SystemClock(), logger: Logger = Logger(label: "orchestrator")) throws {
        try config.validate()
        self.config = config
        var logger = logger
        logger[metadataKey: "node"] = "\(config.nodeID)"
        self.logger = logger
        tls = try NodeTLS.load(config)
        if tls.api != nil && tls.peer == nil {
            logger.warning("the API serves HTTPS but --peer-ca is not set: a follower forwarding a write to the leader trusts only the system's CAs")
        }
        self.registry = registry ?? ProcessMetrics.registry

        let bootstrap: DurableState = config.join ? .empty : .bootstrap(Set(config.initialAddresses.keys))
        let persistence: any RaftPersistence
        if config.inMemory {
            persistence = MemoryPersistence(bootstrap)
        } else {
            let directory = DataDirectory(path: config.dataDirectory)
            try directory.prepare(clusterID: config.clusterID, nodeID: config.nodeID)
            let store: FileLogStore
            do {
                store = try FileLogStore.open(directory: directory.raftPath)
            } catch {
                throw ConfigError("cannot open the log in \(directory.raftPath): \(error)")
            }
            for warning in store.recoveryWarnings { logger.warning("\(warning)") }
            let file: FilePersistence
            do {
                file = try FilePersistence(store: store)
                if file.isEmpty {
                    try file.bootstrap(bootstrap)
                    logger.info("bootstrapped a new node", metadata: ["voters": "\(bootstrap.configuration.voters.sorted())"])
                } else {
                    logger.info("recovered from disk", metadata: ["last_index": "\(store.lastIndex)"])
                }
            } catch {
                throw ConfigError("cannot recover the log in \(directory.raftPath): \(error)")
            }
            persistence = file
        }

        engine = ReplicatedEngine()
        let engineMetrics = EngineMetrics(node: config.nodeID, engine: engine)
        let peers = config.initialAddresses.filter { $0.key != config.nodeID }.mapValues(\.raft)
        // The node loop, its Raft connections and the HTTP API share one event-loop thread
        // (the first of `httpThreads`): a message goes from the socket into the core and an
        // answer back out without a thread hand-off, and so does a transition from its
        // request to its answer (docs/performance.md, "One thread per transition"). Lives
        // as long as the process.
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: config.httpThreads)
        httpLoops = loops
        let raftLoop = loops.next()
        var transportOptions = TCPTransport.Options()
        transportOptions.eventLoopGroup = raftLoop
        transportOptions.peerTLS = tls.peer
        self.transport = transport ?? TCPTransport(nodeID: config.nodeID, clusterID: config.clusterID, listen: config.raftAddress,
                                                   peers: peers, options: transportOptions, logger: logger)
        do {
            node = try ClusterNode(config: config.clusterConfig, persistence: persistence, transport: self.transport,
                                   stateMachine: EngineStateMachine(engine: engine, metrics: engineMetrics), addresses: config.initialAddresses,
                                   eventLoop: raftLoop, logger: logger)
        } catch {
            throw ConfigError("cannot start the node: \(error)")
        }
        let registry = self.registry
        let consensus = ClusterConsensus(node: node, clock: clock, apiScheme: config.apiScheme)
        let running = RunningDispatches()
        self.consensus = consensus
        var apiSettings = APISettings()
        apiSettings.defaultRetentionMillis = config.defaultRetentionMillis
        apiSettings.clusterID = config.clusterID
        apiSettings.forwardTLS = tls.forwarding
        apiSettings.requireTokens = config.requiresTokens
        apiSettings.metricsRequireToken = config.metricsRequireToken
        var services: [any LeaderService] = []
        if let path = config.bootstrapTokenFile {
            let (token, created) = try BootstrapTokenFile.load(path)
            if created {
                logger.notice("wrote a new bootstrap admin token to \(path) (mode 0600); give the same file to the other nodes of a new cluster",
                              metadata: ["token": .string(token.id)])
            } else if BootstrapTokenFile.isReadableByOthers(path) {
                logger.warning("\(path) holds an admin token but others than its owner may read it: chmod 600 \(path)")
            }
            services.append(TokenBootstrapService(token: token))
        }
        api = APIServer(engine: engine, consensus: consensus, settings: apiSettings,
                        metricsText: {
                            // Engine facts sampled when /metrics is scraped.
                            engineMetrics.sample()
                            var buffer: [UInt8] = []
                            registry.emit(into: &buffer)
                            return String(decoding: buffer, as: UTF8.self)
                        },
                        pluginNames: { [directory = config.pluginsDirectory] in Self.pluginNames(in: directory) },
                        runningDispatches: { running.current }, clock: clock, logger: logger)
        leaderServices = LeaderServices(
            consensus: consensus, engine: engine, clock: clock,
            services: services + [WorkflowRegistrar(directory: config.workflowsDirectory, pluginsDirectory: config.pluginsDirectory),
                                  HookDispatcherService(pluginsDirectory: config.pluginsDirectory, runner: PluginRunner(),
                                                        running: running),
                                  SchedulerService(), RetentionService(defaultRetentionMillis: config.defaultRetentionMillis)],
            logger: logger)
    }

    /// The usable plugins of the plugins directory (`PluginCatalog`, the one discovery rule):
    /// a definition whose hooks name any other is refused when registered. No directory means
    /// no plugins, so such a definition is refused too.
    static func pluginNames(in directory: String) -> Set<String> {
        PluginCatalog.discover(in: directory).names
    }

    /// Runs until SIGTERM or SIGINT (or `shutdown` of the returned group), then stops in order.
    public func run() async throws {
        do {
            try await transport.start()
        } catch {
            await api.shutdown()
            await transport.shutdown()
            throw ConfigError("cannot listen for raft on \(config.raftAddress): \(error)")
        }
        node.start()
        // The listener's timeouts and connection limit (API/HTTPConnectionLimiter.swift).
        let limiter = HTTPConnectionLimiter(limits: config.httpLimits, node: config.nodeID, listener: "\(config.apiAddress)",
                                            logger: logger)
        let app = Application(router: api.buildRouter(), server: tls.serverBuilder(limiter: limiter, api: api),
                              configuration: .init(address: .hostname(config.apiAddress.host, port: config.apiAddress.port),
                                                   serverName: "orchestrator"),
                              eventLoopGroupProvider: .shared(httpLoops),
                              logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: NodeService(node: node, api: api)),
            .init(service: leaderServices),
            .init(service: app),
        ]
        if config.insecure, let exposure = config.insecureExposure {
            services.append(.init(service: InsecureWarningService(message: exposure, logger: logger)))
        }
        if let identity = tls.api { services.append(.init(service: CertificateReloadService(identity: identity, logger: logger))) }
        let group = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        logger.info("serving", metadata: ["api": "\(config.apiScheme)://\(config.apiAddress)", "raft": "\(config.raftAddress)",
                                          "raft_tls": "\(tls.peer == nil ? "off" : "mutual")",
                                          "data": "\(config.inMemory ? "memory" : config.dataDirectory)"])
        if config.batchDelayMicros > 0 {
            logger.info("while leading, transitions that arrive with others in flight are held up to \(ServerConfig.spellBatchDelay(config.batchDelayMicros)) to share an append round (--batch-delay)")
        }
        do {
            try await group.run()
        } catch {
            // A service failed (the API port taken, say): stop what did start, then report.
            await api.shutdown()
            await node.shutdown()
            throw ConfigError("\(error)")
        }
    }
}

/// `--insecure` on an address beyond loopback: says so at start and every minute until
/// the node stops, so nobody runs an open cluster without seeing it in the log.
struct InsecureWarningService: Service {
    let message: String
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                logger.warning("INSECURE: \(message)")
                try await Task.sleep(for: .seconds(60))
            }
        }
    }
}

/// Keeps the node running until shutdown, then stops it (after the API has stopped).
struct NodeService: Service {
    let node: ClusterNode
    let api: APIServer

    func run() async throws {
        try? await gracefulShutdown()
        await api.shutdown()
        await node.shutdown()
    }
}

extension OrchestratorServer {
    /// Nodes that live in this one process and talk over an in-memory network, with no
    /// disk (the classic recipe's cluster, for `dev --in-memory`). Each still serves its
    /// own HTTP API.
    public static func inMemoryCluster(_ configs: [ServerConfig], logger: Logger = Logger(label: "orchestrator")) throws -> [OrchestratorServer] {
        let network = InMemoryNetwork()
        let registry = ProcessMetrics.registry
        return try configs.map { config in
            var config = config
            config.inMemory = true
            return try OrchestratorServer(config: config, transport: network.transport(for: config.nodeID), registry: registry,
                                          logger: logger)
        }
    }
}

/// The process-wide Prometheus registry behind `GET /metrics`; swift-metrics is bootstrapped
/// with it the first time it is used (once per process, as swift-metrics requires). Metrics
/// made before that (a `static let` in a library, say) go nowhere, so every series of the
/// server is made per node, after this.
public enum ProcessMetrics {
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = durationBucketsSeconds.map { .nanoseconds(Int64(($0 * 1e9).rounded())) }
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// The buckets of every duration histogram (`*_duration_seconds`, `*_lag_seconds`): from
    /// 100 µs, so a fast disk's fsync and a quick request still fall apart, to 30 s, a slow
    /// hook's or a late cron fire's. etcd's fsync buckets (1 ms · 2ⁿ) are covered as finely.
    public static let durationBucketsSeconds: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
    ]
}
