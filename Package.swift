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
    ],
    targets: [
        // Consensus: a pure state machine in the etcd-io/raft shape. No dependencies.
        .target(name: "Raft"),
        // Write-ahead log, hard state and snapshot files. Knows nothing of what entries mean.
        .target(name: "RaftStorage"),
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
            dependencies: ["Raft", "RaftSimulation", "RaftStorage", "Workflow"],
            path: "Benchmarks"
        ),
        .testTarget(name: "RaftTests", dependencies: ["Raft"]),
        .testTarget(name: "RaftSimulationTests", dependencies: ["Raft", "RaftSimulation"]),
        .testTarget(name: "RaftStorageTests", dependencies: ["RaftStorage"]),
        .testTarget(name: "WorkflowTests", dependencies: ["Workflow"]),
    ],
    swiftLanguageModes: [.v6]
)
