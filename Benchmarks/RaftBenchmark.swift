import Foundation
import Raft


/// `orchestrator-bench raft`: a 3-node cluster driven through the Raft core with no I/O.
///
/// Messages go straight from one node's `Ready` into the next node's inbox, persisting is
/// free, and applying only counts. What is left is the core's own cost: proposing,
/// building appends, matching logs, counting acknowledgements, handing out committed
/// entries. Proposals are batched: `--batch` proposals per round of `Ready` handling.
///
///     swift run -c release orchestrator-bench raft [--entries N] [--batch B] [--bytes S]
///
/// Allocations per entry: run twice under valgrind with different `--entries` and divide
/// the difference of its "total heap usage … allocs" by the difference of entries
/// (docs/performance.md, "Raft core").
enum RaftBenchmark {
    struct Options {
        var entries = 2_000_000
        var batch = 1_024
        var bytes = 64
        var warmupEntries = 100_000

        init(_ arguments: [String]) throws {
            var rest = arguments[...]
            while let flag = rest.popFirst() {
                func value() throws -> Int {
                    guard let text = rest.popFirst(), let number = Int(text), number > 0 else {
                        throw BenchmarkError("\(flag) needs a positive number")
                    }
                    return number
                }
                switch flag {
                case "--entries": entries = try value()
                case "--batch": batch = try value()
                case "--bytes": bytes = try value()
                case "--warmup": warmupEntries = try value()
                default: throw BenchmarkError("unknown option \(flag); options: --entries N --batch B --bytes S --warmup N")
                }
            }
        }
    }

    struct BenchmarkError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Three cores wired to each other through in-memory inboxes.
    struct Cluster {
        var nodes: [RaftNode]
        var inboxes: [[Message]]
        var applied: [Int]
        var appliedIndex: [LogIndex]
        var lastSnapshot: [LogIndex]
        /// Snapshot and compact every this many applied entries, so memory stays flat.
        let compactEveryEntries: LogIndex = 200_000

        init() {
            let voters: Set<NodeID> = [1, 2, 3]
            nodes = (1...3).map { id in
                var config = RaftConfig(id: NodeID(id))
                config.randomSeed = UInt64(id)
                return RaftNode(config: config, state: .bootstrap(voters))
            }
            inboxes = Array(repeating: [], count: 3)
            applied = Array(repeating: 0, count: 3)
            appliedIndex = Array(repeating: 0, count: 3)
            lastSnapshot = Array(repeating: 0, count: 3)
        }

        /// Handles every Ready and delivers every message until the cluster is quiet.
        mutating func pump() {
            var busy = true
            while busy {
                busy = false
                for k in 0..<3 {
                    if !inboxes[k].isEmpty {
                        busy = true
                        let inbox = inboxes[k]
                        inboxes[k].removeAll(keepingCapacity: true)
                        for message in inbox { nodes[k].step(message) }
                    }
                    while nodes[k].hasReady {
                        busy = true
                        let ready = nodes[k].ready()
                        for message in ready.messages { inboxes[Int(message.to) - 1].append(message) }
                        applied[k] += ready.committedEntries.count
                        if let last = ready.committedEntries.last { appliedIndex[k] = last.index }
                        if let snapshot = ready.snapshot { appliedIndex[k] = snapshot.metadata.index }
                        nodes[k].advance(ready)
                        if appliedIndex[k] >= lastSnapshot[k] + compactEveryEntries {
                            _ = nodes[k].createSnapshot(at: appliedIndex[k], data: [])
                            nodes[k].compact(through: appliedIndex[k])
                            lastSnapshot[k] = appliedIndex[k]
                        }
                    }
                }
            }
        }
    }

    /// Runs the suite with command-line `arguments`.
    static func run(_ arguments: [String]) throws {
        let options = try Options(arguments)
        var cluster = Cluster()
        cluster.nodes[0].campaign()
        cluster.pump()
        guard cluster.nodes[0].status.role == .leader else { throw BenchmarkError("node 1 did not become leader") }

        // Warm up, then measure.
        _ = drive(&cluster, entries: options.warmupEntries, options)
        let start = cluster.applied
        let clock = ContinuousClock()
        let began = clock.now
        let cpuBegan = processCPUSeconds()
        let rounds = drive(&cluster, entries: options.entries, options)
        let cpu = processCPUSeconds() - cpuBegan
        let elapsed = clock.now - began
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let committed = cluster.applied[0] - start[0]
        precondition(cluster.applied.allSatisfy { $0 == cluster.applied[0] }, "every node applied everything")
        print("raft: 3 nodes in memory, \(options.bytes)-byte entries, \(options.batch) proposals per round")
        print("  committed and applied on all 3 nodes: \(committed) entries in \(String(format: "%.3f", seconds)) s over \(rounds) rounds")
        print("  throughput: \(Int(Double(committed) / seconds)) entries/s (\(String(format: "%.1f", Double(committed) * Double(options.bytes) / seconds / 1e6)) MB/s of payload)")
        print("  per CPU second (steadier on a shared machine): \(Int(Double(committed) / cpu)) entries/s; \(String(format: "%.2f", cpu * 1e6 / Double(committed))) µs of CPU per entry for all 3 nodes")
        print("  command: swift run -c release orchestrator-bench raft \(arguments.joined(separator: " "))")
    }

    /// CPU time this process has used, in seconds.
    static func processCPUSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
    }

    /// Proposes `entries` fresh payloads in batches and pumps after each batch.
    static func drive(_ cluster: inout Cluster, entries: Int, _ options: Options) -> Int {
        let target = cluster.applied[0] + entries
        var rounds = 0
        var next: UInt64 = UInt64(cluster.applied[0])
        while cluster.applied[0] < target {
            let count = min(options.batch, target - cluster.applied[0])
            for _ in 0..<count {
                var payload = [UInt8](repeating: 0, count: options.bytes)
                withUnsafeBytes(of: next.littleEndian) { bytes in
                    for k in 0..<min(8, options.bytes) { payload[k] = bytes[k] }
                }
                next += 1
                do {
                    _ = try cluster.nodes[0].propose(payload)
                } catch {
                    preconditionFailure("proposal refused: \(error)")
                }
            }
            cluster.pump()
            rounds += 1
        }
        return rounds
    }
}
