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
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // Plugins: spawning hooks in a new session with a teardown that reaches the whole group.
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        // SHA-256 (definition hashes, backup files, API token digests, with constant-time
        // comparison): no hand-written cryptography.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // Consensus: a pure state machine in the etcd-io/raft shape. No dependencies.
        .target(name: "Raft"),
        // Write-ahead log, hard state and snapshot files. Knows nothing of what entries mean.
        .target(name: "RaftStorage"),
        // Versioned binary wire codec, SwiftNIO TCP transport, in-memory transport.
        .target(
            name: "RaftTransport",
            dependencies: [
                "Raft",
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
                .product(name: "Logging", package: "swift-log"),
                // Request durations by route (`orchestrator_http_request_duration_seconds`).
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            // The dashboard (`/ui/`): static HTML, CSS and JavaScript, no build step.
            resources: [.copy("Dashboard")]
        ),
        // Composition root: one node from its config.
        .target(
            name: "Server",
            dependencies: [
                "API", "Plugins", "Scheduler", "Engine", "Workflow", "Cluster", "Raft", "RaftStorage", "RaftTransport",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
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
            ]
        ),
        .executableTarget(
            name: "orchestrator",
            dependencies: [
                "Workflow", "Cron", "Plugins", "Server", "Client", "LoadGenerator", "RaftTransport", "Backup",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
            exclude: ["cpu-per-transition.sh", "hook-throughput.sh", "hooks", "dashboard-cost.py"]
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
        .testTarget(name: "RaftTransportTests", dependencies: ["Raft", "RaftTransport"]),
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
        .testTarget(name: "ServerTests", dependencies: ["Server", "Engine", "Workflow", "APIModels", "API", "Cluster", "Raft", "RaftTransport",
                                                        .product(name: "Logging", package: "swift-log"),
                                                        .product(name: "HummingbirdTesting", package: "hummingbird")]),
        // Real `orchestrator` processes on loopback ports, killed with SIGKILL.
        .testTarget(name: "IntegrationTests", dependencies: ["orchestrator", "RaftTransport"],
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
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
