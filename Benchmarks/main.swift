import Foundation

// orchestrator-bench: measurements, never assertions. Run in release:
//   swift run -c release orchestrator-bench <suite> [options]
// Each suite prints its figures and the command that produced them.

let arguments = Array(CommandLine.arguments.dropFirst())
let suites: [(name: String, summary: String, run: ([String]) throws -> Void)] = [
    ("workflow", "parse+validate a 5,000-state workflow and 1,000 small files", workflowBenchmark),
    ("storage", "WAL: raw fsync rate, append throughput by batch size, recovery", runStorageBenchmark),
    ("cluster", "3 nodes, WAL with fsync, TCP loopback: proposals/s and latency by concurrency (--processes: 3 processes)", runClusterBenchmark),
    ("catchup", "3 nodes, WAL, TCP loopback: a follower 100,000 entries behind restarts under load (leader loop turns, drops, catch-up time)", runCatchupBenchmark),
    ("cluster-node", "one node of `cluster --processes` (started by it)", runClusterNode),
    ("transport", "wire codec and TCP loopback: messages/s and MB/s", TransportBenchmark.run),
    ("retention", "engine memory per instance and a soak of 1M instances under retention (RSS)", retentionBenchmark),
    ("raft", "3-node Raft core in memory: committed entries/s with batching", RaftBenchmark.run),
    ("scheduler", "10,000 cron triggers @every 1s on a 3-node cluster (fire lag, CPU, memory); 100,000 state timeouts", runSchedulerBenchmark),
]

@MainActor func usage() {
    print("usage: orchestrator-bench <suite> [options]\n\nsuites:")
    for suite in suites { print("  \(suite.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(suite.summary)") }
}

guard let name = arguments.first, let suite = suites.first(where: { $0.name == name }) else {
    usage()
    exit(arguments.isEmpty ? 0 : 2)
}
do {
    try suite.run(Array(arguments.dropFirst()))
} catch {
    print("error: \(error)")
    exit(1)
}
