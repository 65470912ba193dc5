import Cluster
import Foundation
import Histogram
import Raft
import RaftStorage
import RaftTransport
import Synchronization

/// `orchestrator-bench cluster`: three nodes with real write-ahead logs (fsync on every
/// Ready) talking over TCP on loopback, driven by concurrent proposers of fixed-size
/// entries; reports committed entries/s and latency percentiles per concurrency level.
func runClusterBenchmark(_ arguments: [String]) throws {
    var proposerCounts = [1, 16, 256]
    var seconds = 5.0
    var entryBytes = 128
    var directory = FileManager.default.temporaryDirectory.appendingPathComponent("orch-bench-cluster-\(getpid())").path
    var index = 0
    while index < arguments.count {
        let flag = arguments[index]
        let value = index + 1 < arguments.count ? arguments[index + 1] : ""
        switch flag {
        case "--proposers": proposerCounts = value.split(separator: ",").compactMap { Int($0) }
        case "--seconds": seconds = Double(value) ?? seconds
        case "--entry-bytes": entryBytes = Int(value) ?? entryBytes
        case "--dir": directory = value
        default: throw BenchmarkUsage("unknown option \(flag) (known: --proposers 1,16,256 --seconds 5 --entry-bytes 128 --dir PATH)")
        }
        index += 2
    }
    print("cluster: 3 nodes, WAL with fsync, TCP loopback, \(entryBytes)-byte entries, \(seconds) s per level")
    print("command: swift run -c release orchestrator-bench cluster --proposers \(proposerCounts.map(String.init).joined(separator: ",")) --seconds \(Int(seconds)) --entry-bytes \(entryBytes)")
    print("raw fdatasync (4 KiB pwrite + fdatasync) on \(directory): \(Int(rawSyncRate(directory: directory))) /s")
    let done = DispatchSemaphore(value: 0)
    let failure = Mutex<String?>(nil)
    Task.detached {
        do {
            try await clusterBenchmark(directory: directory, proposerCounts: proposerCounts, seconds: seconds, entryBytes: entryBytes)
        } catch {
            failure.withLock { $0 = "\(error)" }
        }
        done.signal()
    }
    done.wait()
    try? FileManager.default.removeItem(atPath: directory)
    if let message = failure.withLock({ $0 }) { throw BenchmarkUsage(message) }
}

struct BenchmarkUsage: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A state machine that only counts: the benchmark measures consensus and disk, not apply.
final class CountingMachine: ReplicatedStateMachine {
    let applied = Atomic<Int>(0)
    func apply(index: LogIndex, command: [UInt8]) -> [UInt8] {
        applied.add(1, ordering: .relaxed)
        return []
    }
    func snapshot() -> [UInt8] { Array("\(applied.load(ordering: .relaxed))".utf8) }
    func restore(from snapshot: [UInt8]) throws {}
}

private func clusterBenchmark(directory: String, proposerCounts: [Int], seconds: Double, entryBytes: Int) async throws {
    try? FileManager.default.removeItem(atPath: directory)
    let ids: [NodeID] = [1, 2, 3]
    var transports: [NodeID: TCPTransport] = [:]
    for id in ids {
        let transport = TCPTransport(nodeID: id, clusterID: "bench", listen: PeerAddress(host: "127.0.0.1", port: 0), peers: [:])
        try await transport.start()
        transports[id] = transport
    }
    var addresses: [NodeID: MemberAddress] = [:]
    for id in ids { addresses[id] = MemberAddress(raft: transports[id]!.listenAddress!, api: "") }
    var nodes: [ClusterNode] = []
    for id in ids {
        try FileManager.default.createDirectory(atPath: "\(directory)/node-\(id)", withIntermediateDirectories: true)
        let store = try FileLogStore.open(directory: "\(directory)/node-\(id)")
        let persistence = try FilePersistence(store: store)
        try persistence.bootstrap(.bootstrap(Set(ids)))
        var config = ClusterConfig(nodeID: id)
        config.tickMillis = 50
        config.snapshotEveryEntries = 100_000
        config.requestTimeoutMillis = 10_000
        let node = try ClusterNode(config: config, persistence: persistence, transport: transports[id]!,
                                   stateMachine: CountingMachine(), addresses: addresses)
        node.start()
        nodes.append(node)
    }
    var leader: ClusterNode?
    for _ in 0..<400 where leader == nil {
        leader = nodes.first { $0.status.role == .leader }
        try await Task.sleep(for: .milliseconds(25))
    }
    guard let leader else { throw BenchmarkUsage("no leader elected") }
    let payload = [UInt8](repeating: 0x61, count: entryBytes)
    print("proposers  entries/s  p50 ms  p99 ms  p99.9 ms  max ms  errors  CPU µs/entry (3 nodes + proposers)")
    for proposers in proposerCounts {
        let deadline = Date().addingTimeInterval(seconds)
        let start = DispatchTime.now().uptimeNanoseconds
        let cpuStart = processCPUNanos()
        let results = await withTaskGroup(of: ([UInt64], Int).self) { group in
            for _ in 0..<proposers {
                group.addTask {
                    var latencies: [UInt64] = []
                    var errors = 0
                    while Date() < deadline {
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        do {
                            _ = try await leader.propose(payload)
                            latencies.append((DispatchTime.now().uptimeNanoseconds - t0) / 1_000)
                        } catch {
                            errors += 1
                        }
                    }
                    return (latencies, errors)
                }
            }
            var all: [([UInt64], Int)] = []
            for await result in group { all.append(result) }
            return all
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let cpu = Double(processCPUNanos() - cpuStart)
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var count = 0
        var errors = 0
        for (latencies, failed) in results {
            for micros in latencies { _ = histogram.record(micros) }
            count += latencies.count
            errors += failed
        }
        func ms(_ p: Double) -> String { String(format: "%.2f", Double(histogram.valueAtPercentile(p)) / 1000) }
        print(String(format: "%9d  %9.0f  %6@  %6@  %8@  %6@  %6d  %8.1f", proposers, Double(count) / elapsed, ms(50) as NSString,
                     ms(99) as NSString, ms(99.9) as NSString, ms(100) as NSString, errors, cpu / 1000 / Double(max(count, 1))))
    }
    for node in nodes { await node.shutdown() }
}

/// 4 KiB pwrite + fdatasync, repeatedly, for one second: the disk's physical limit.
private func rawSyncRate(directory: String) -> Double {
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let path = "\(directory)/sync-probe"
    let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
    guard fd >= 0 else { return 0 }
    defer { close(fd); unlink(path) }
    let block = [UInt8](repeating: 7, count: 4096)
    var count = 0
    let start = Date()
    while Date().timeIntervalSince(start) < 1 {
        _ = block.withUnsafeBytes { pwrite(fd, $0.baseAddress, 4096, 0) }
        fdatasync(fd)
        count += 1
    }
    return Double(count) / Date().timeIntervalSince(start)
}

/// User plus system CPU time of this process, in nanoseconds.
private func processCPUNanos() -> UInt64 {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = UInt64(usage.ru_utime.tv_sec) * 1_000_000_000 + UInt64(usage.ru_utime.tv_usec) * 1_000
    let system = UInt64(usage.ru_stime.tv_sec) * 1_000_000_000 + UInt64(usage.ru_stime.tv_usec) * 1_000
    return user + system
}
