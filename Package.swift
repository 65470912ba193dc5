// swift-tools-version: 6.1
// The orchestrator package. Target layering follows ../shared/DESIGN.md ("Layers"):
// arrows there are the only allowed imports. `Raft` and `RaftStorage` depend on nothing
// but the standard library (and Glibc for the files), so they build in seconds.
import PackageDescription

let package = Package(
    name: "orchestrator",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "orchestrator", targets: ["orchestrator"]),
        .executable(name: "orchestrator-bench", targets: ["OrchestratorBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        // The HTTP request and response parts the API's connection limits watch (`NIOHTTPTypes`).
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // Plugins: spawning hooks in a new session with a teardown that reaches the whole group.
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        // SHA-256 (definition hashes, backup files, API token digests, with constant-time
        // comparison): no hand-written cryptography.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        // TLS for the API and mutual TLS between nodes (`ClusterTLS`, docs/security.md): BoringSSL
        // through SwiftNIO for the connections, swift-certificates to issue (`certs init`) and read
        // (the node id SAN) X.509 certificates. Both were already in the graph (async-http-client).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
    ],
    targets: [
        // Consensus: a pure state machine in the etcd-io/raft shape. No dependencies.
        .target(name: "Raft"),
        // Write-ahead log, hard state and snapshot files. Knows nothing of what entries mean.
        .target(name: "RaftStorage"),
        // TLS material: PEM files with one-line errors, server and client configurations (TLS ≥ 1.2),
        // the API certificate reloaded on SIGHUP, the node-id SAN rule, and the CA behind
        // `orchestrator certs init`. Knows nothing of Raft or HTTP.
        .target(
            name: "ClusterTLS",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Versioned binary wire codec, SwiftNIO TCP transport, in-memory transport.
        .target(
            name: "RaftTransport",
            dependencies: [
                "Raft",
                // Mutual TLS between nodes (optional): the handshake and the node-id check.
                "ClusterTLS",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                // Per-peer send failures (`raft_peer_sent_failures_total`).
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // One node: drives Raft with storage, transport and a clock.
        .target(
            name: "Cluster",
            dependencies: [
                "Raft", "RaftStorage", "RaftTransport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The replicated state machine: commands, deterministic apply, snapshots.
        .target(name: "Engine", dependencies: [
            "Workflow",
            // The node and cluster status the consensus seam reports is the wire's own shape.
            "APIModels",
            // Persistent maps, so a snapshot's copy-on-write copy of the state stays cheap to diverge from.
            .product(name: "HashTreeCollections", package: "swift-collections"),
        ]),
        // Test support: many Raft cores on a seeded virtual network and clock.
        .target(name: "RaftSimulation", dependencies: ["Raft"]),
        // JSON values, the one sorted-key writer and the strict parser. No dependencies.
        .target(name: "JSON"),
        // Cron expressions, time zones (TZif files and their POSIX TZ footers) and DST, next and
        // previous fire times. No dependencies; never reads the clock.
        .target(name: "Cron"),
        // YAML workflow definitions: parse, validate, explain. Re-exports JSON.
        .target(name: "Workflow", dependencies: [
            "JSON", "Cron", .product(name: "Yams", package: "Yams"),
            // The definition content hash (SHA-256): no hand-written cryptography.
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Every request and answer shape of the HTTP API, once: Codable for the client, and
        // written without JSONEncoder by the server.
        .target(name: "APIModels", dependencies: ["JSON"]),
        // Plugin discovery and manifests, and running one hook as a subprocess in its own
        // session (swift-subprocess): minimal environment, timeout, kill of the group, output caps.
        .target(
            name: "Plugins",
            dependencies: [
                "Workflow", "Engine",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // Cron triggers and state timeouts become proposals on the leader (a leader service).
        .target(
            name: "Scheduler",
            dependencies: [
                "Engine", "Workflow", "Cron",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                // Due slots and timers by time, so a pass costs what is due, not what is armed.
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        // The backup file of `orchestrator snapshot save|inspect|restore`: header, metadata,
        // the engine snapshot, and a SHA-256 (swift-crypto) over all of it.
        .target(name: "Backup", dependencies: ["JSON", .product(name: "Crypto", package: "swift-crypto")]),
        // The HTTP API (Hummingbird): routes, JSON errors, metrics endpoint.
        .target(
            name: "API",
            dependencies: [
                "APIModels", "Engine", "Workflow", "Cron", "Backup",
                .product(name: "Hummingbird", package: "hummingbird"),
                // Event streams end when the server shuts down gracefully.
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // Forwarding a write to the leader over https, trusting the cluster CA.
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                // Request durations by route (`orchestrator_http_request_duration_seconds`).
                .product(name: "Metrics", package: "swift-metrics"),
                // The listener's limits: its own HTTP/1 child channel and handlers (HTTPConnectionWatchers.swift).
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            // The dashboard (`/ui/`): static HTML, CSS and JavaScript, no build step.
            resources: [.copy("Dashboard")]
        ),
        // Composition root: one node from its config.
        .target(
            name: "Server",
            dependencies: [
                "API", "Plugins", "Scheduler", "Engine", "Workflow", "Cluster", "Raft", "RaftStorage", "RaftTransport",
                "ClusterTLS",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                // HTTPS for the API (its `TLSChannel`), reloaded on SIGHUP (`UnixSignals`).
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Typed HTTP client of the API, for the CLI and the load generator. Re-exports
        // APIModels and JSON.
        .target(
            name: "Client",
            dependencies: [
                "APIModels", "JSON",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // https:// servers: the CA to trust and a client certificate (`--cacert`, `--cert`).
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // `orchestrator bench`: closed- and open-loop load on its own lean HTTP/1.1
        // connections, latency in an HdrHistogram.
        .target(
            name: "LoadGenerator",
            dependencies: [
                "Client",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // Bench clients over https (keep-alive: one handshake per client).
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(
            name: "orchestrator",
            dependencies: [
                "Workflow", "Cron", "Plugins", "Server", "Client", "LoadGenerator", "RaftTransport", "Backup", "ClusterTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Benchmarks (release build): `swift run -c release orchestrator-bench --help`.
        .executableTarget(
            name: "OrchestratorBench",
            dependencies: [
                "Raft", "RaftSimulation", "RaftStorage", "RaftTransport", "Cluster", "Workflow", "Engine", "Scheduler",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks",
            exclude: ["cpu-per-transition.sh", "hook-throughput.sh", "tls-overhead.sh", "hooks", "dashboard-cost.py"]
        ),
        .testTarget(name: "RaftTests", dependencies: ["Raft"]),
        .testTarget(name: "RaftSimulationTests", dependencies: ["Raft", "RaftSimulation"]),
        .testTarget(name: "RaftStorageTests", dependencies: ["RaftStorage"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        // The backup file format: round trips, every flipped byte, every truncation.
        .testTarget(name: "BackupTests", dependencies: ["Backup", .product(name: "Crypto", package: "swift-crypto")]),
        // Parser, fire times, DST rules, TZif parsing, and a differential test against croniter
        // (python3 with croniter installed: `python3 -m pip install croniter`).
        .testTarget(name: "CronTests", dependencies: ["Cron"], exclude: ["croniter_oracle.py"]),
        .testTarget(name: "APIModelsTests", dependencies: ["APIModels", "JSON"]),
        .testTarget(name: "WorkflowTests", dependencies: ["Workflow"]),
        .testTarget(name: "RaftTransportTests", dependencies: ["Raft", "RaftTransport", "ClusterTLS"]),
        // Certificates issued and read back; PEM loading errors; the reloadable API identity.
        .testTarget(name: "ClusterTLSTests", dependencies: ["ClusterTLS",
                                                            .product(name: "NIOSSL", package: "swift-nio-ssl"),
                                                            .product(name: "X509", package: "swift-certificates"),
                                                            .product(name: "SwiftASN1", package: "swift-asn1")]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Raft", "RaftStorage", "RaftTransport",
                                                         .product(name: "NIOCore", package: "swift-nio"),
                                                         .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Workflow"]),
        // The scheduler on a manual clock against a real engine.
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", "Engine", "Workflow", "Cron",
                                                           .product(name: "Logging", package: "swift-log")]),
        // Real plugin subprocesses in temporary directories.
        .testTarget(name: "PluginsTests", dependencies: ["Plugins", "Workflow", "Engine",
                                                         .product(name: "Logging", package: "swift-log")]),
        // The composition root's own logic: the leader-services runtime and its services.
        // …and the node as a whole: its probes and the series of GET /metrics moving.
        .testTarget(name: "ServerTests", dependencies: ["Server", "Engine", "Workflow", "APIModels", "API", "Cluster", "Raft", "RaftTransport", "ClusterTLS",
                                                        .product(name: "Logging", package: "swift-log"),
                                                        .product(name: "HummingbirdTesting", package: "hummingbird")]),
        // Real `orchestrator` processes on loopback ports, killed with SIGKILL.
        .testTarget(name: "IntegrationTests", dependencies: ["orchestrator", "RaftTransport", "Client", "ClusterTLS",
                                                             .product(name: "NIOSSL", package: "swift-nio-ssl")],
                    // The dashboard's browser check (Selenium), run by DashboardBrowserTests.
                    exclude: ["browser"]),
        .testTarget(name: "LoadGeneratorTests", dependencies: [
            "LoadGenerator",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(
            name: "APITests",
            dependencies: [
                "API", "Engine", "Workflow", "Client", "LoadGenerator", "Backup",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                // Reads `GET /v1/events` as a stream.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                // The HTTP listener's limiter on channels without sockets.
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
