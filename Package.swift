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
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
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
            ]
        ),
        // One node: drives Raft with storage, transport and a clock.
        .target(
            name: "Cluster",
            dependencies: [
                "Raft", "RaftStorage", "RaftTransport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The replicated state machine: commands, deterministic apply, snapshots.
        .target(name: "Engine", dependencies: ["Workflow"]),
        // Test support: many Raft cores on a seeded virtual network and clock.
        .target(name: "RaftSimulation", dependencies: ["Raft"]),
        // YAML workflow definitions: parse, validate, explain.
        .target(name: "Workflow", dependencies: [.product(name: "Yams", package: "Yams")]),
        .executableTarget(
            name: "orchestrator",
            dependencies: [
                "Workflow",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Benchmarks (release build): `swift run -c release orchestrator-bench --help`.
        .executableTarget(
            name: "OrchestratorBench",
            dependencies: ["Raft", "RaftSimulation", "RaftStorage", "RaftTransport", "Workflow"],
            path: "Benchmarks"
        ),
        .testTarget(name: "RaftTests", dependencies: ["Raft"]),
        .testTarget(name: "RaftSimulationTests", dependencies: ["Raft", "RaftSimulation"]),
        .testTarget(name: "RaftStorageTests", dependencies: ["RaftStorage"]),
        .testTarget(name: "WorkflowTests", dependencies: ["Workflow"]),
        .testTarget(name: "RaftTransportTests", dependencies: ["Raft", "RaftTransport"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Raft", "RaftStorage", "RaftTransport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Workflow"]),
    ],
    swiftLanguageModes: [.v6]
)
