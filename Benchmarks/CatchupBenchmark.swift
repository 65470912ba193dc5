import Cluster
import Foundation
import Histogram
import Metrics
import NIOCore
import NIOPosix
import Raft
import RaftStorage
import RaftTransport
import Synchronization

/// `orchestrator-bench catchup`: what catching up a follower costs the leader. Three nodes
/// in this process with real WALs over TCP loopback (as `cluster`); one follower is stopped,
/// `--entries` entries are committed without it, then it is started again while proposers
/// keep writing. Reports the leader's longest node-loop turn (`raft_loop_turn_duration_seconds`)
/// before and during the catch-up, the messages the leader dropped (full send queue, failed
/// connection), the catch-up time, and the proposers' latency meanwhile.
///
/// `--max-inflight-bytes 0` lifts the byte budget in flight per follower: the behaviour
/// before it existed (only 256 messages of up to 1 MiB bounded what was in flight).
/// `--snapshot-every N` makes the leader snapshot and compact every N entries, so the
/// follower has to be sent a snapshot.
func runCatchupBenchmark(_ arguments: [String]) throws {
    var entries = 100_000
    var entryBytes = 128
    var proposers = 16
    var maxInflightBytes = ClusterConfig(nodeID: 1).maxInflightBytes
    var snapshotEvery = 10_000_000
    var directory = FileManager.default.temporaryDirectory.appendingPathComponent("orch-bench-catchup-\(getpid())").path
    var index = 0
    while index < arguments.count {
        let flag = arguments[index]
        let value = index + 1 < arguments.count ? arguments[index + 1] : ""
        switch flag {
        case "--entries": entries = Int(value) ?? entries
        case "--entry-bytes": entryBytes = Int(value) ?? entryBytes
        case "--proposers": proposers = Int(value) ?? proposers
        case "--max-inflight-bytes": maxInflightBytes = Int(value).map { $0 <= 0 ? Int.max : $0 } ?? maxInflightBytes
        case "--snapshot-every": snapshotEvery = Int(value) ?? snapshotEvery
        case "--dir": directory = value
        default:
            throw BenchmarkUsage("unknown option \(flag) (known: --entries 100000 --entry-bytes 128 --proposers 16 "
                                 + "--max-inflight-bytes 4194304 (0: unbounded) --snapshot-every N --dir PATH)")
        }
        index += 2
    }
    guard entries > 0, entryBytes > 0, proposers > 0, snapshotEvery > 0 else {
        throw BenchmarkUsage("--entries, --entry-bytes, --proposers and --snapshot-every need positive values")
    }
    MetricsSystem.bootstrap(TurnRecorder.shared)
    let budget = maxInflightBytes == Int.max ? "unbounded" : "\(maxInflightBytes) B"
    print("catchup: 3 nodes in one process, WAL with fsync, TCP loopback; \(entries) entries of \(entryBytes) B committed while a follower is down,"
          + " then it restarts under \(proposers) proposers; maxInflightBytes \(budget); snapshot every \(snapshotEvery) entries")
    print("command: swift run -c release orchestrator-bench catchup --entries \(entries) --entry-bytes \(entryBytes) --proposers \(proposers)"
          + " --max-inflight-bytes \(maxInflightBytes == Int.max ? 0 : maxInflightBytes) --snapshot-every \(snapshotEvery)")
    let done = DispatchSemaphore(value: 0)
    let failure = Mutex<String?>(nil)
    let setup = CatchupSetup(directory: directory, entries: entries, entryBytes: entryBytes, proposers: proposers,
                             maxInflightBytes: maxInflightBytes, snapshotEvery: snapshotEvery)
    Task.detached {
        do {
            try await catchupBenchmark(setup)
        } catch {
            failure.withLock { $0 = "\(error)" }
        }
        done.signal()
    }
    done.wait()
    try? FileManager.default.removeItem(atPath: directory)
    if let message = failure.withLock({ $0 }) { throw BenchmarkUsage(message) }
}

private struct CatchupSetup: Sendable {
    var directory: String
    var entries: Int
    var entryBytes: Int
    var proposers: Int
    var maxInflightBytes: Int
    var snapshotEvery: Int
}

/// A metrics backend that keeps, per node, the longest and the count of node-loop turns
/// since the last `reset` (every other metric is dropped).
private final class TurnRecorder: MetricsFactory, Sendable {
    static let shared = TurnRecorder()
    private let turns = Mutex<[String: (max: Int64, count: Int, slow: Int)]>([:])

    final class Turns: TimerHandler, Sendable {
        let node: String
        let recorder: TurnRecorder
        init(node: String, recorder: TurnRecorder) {
            self.node = node
            self.recorder = recorder
        }
        func recordNanoseconds(_ duration: Int64) {
            recorder.turns.withLock { turns in
                var entry = turns[node] ?? (0, 0, 0)
                entry.max = max(entry.max, duration)
                entry.count += 1
                if duration > 50_000_000 { entry.slow += 1 }
                turns[node] = entry
            }
        }
    }

    func reset() { turns.withLock { $0 = [:] } }
    func stats(node: NodeID) -> (max: Int64, count: Int, slow: Int) { turns.withLock { $0["\(node)"] ?? (0, 0, 0) } }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { NOOPMetricsHandler.instance }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { NOOPMetricsHandler.instance }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard label == "raft_loop_turn_duration_seconds", let node = dimensions.first(where: { $0.0 == "node" })?.1 else {
            return NOOPMetricsHandler.instance
        }
        return Turns(node: node, recorder: self)
    }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

/// One node of the benchmark: its transport (kept to read its counters) and its node.
private struct CatchupNode {
    var node: ClusterNode
    var transport: TCPTransport
}

/// A transport on 127.0.0.1:`port` (0: any) whose connections run on a new event loop,
/// which the node shares (as `serve` runs them).
private func startTransport(id: NodeID, port: Int) async throws -> (TCPTransport, any EventLoop) {
    let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()
    var options = TCPTransport.Options()
    options.eventLoopGroup = loop
    let transport = TCPTransport(nodeID: id, clusterID: "bench", listen: PeerAddress(host: "127.0.0.1", port: port), peers: [:], options: options)
    try await transport.start()
    return (transport, loop)
}

private func catchupNode(id: NodeID, setup: CatchupSetup, transport: TCPTransport, addresses: [NodeID: MemberAddress],
                         loop: any EventLoop) throws -> CatchupNode {
    try FileManager.default.createDirectory(atPath: "\(setup.directory)/node-\(id)", withIntermediateDirectories: true)
    let store = try FileLogStore.open(directory: "\(setup.directory)/node-\(id)")
    let persistence = try FilePersistence(store: store)
    if persistence.isEmpty { try persistence.bootstrap(.bootstrap(Set(addresses.keys))) }
    var config = ClusterConfig(nodeID: id)
    config.tickMillis = 100   // `serve`'s default: heartbeats every 100 ms, elections after 1–2 s
    config.snapshotEveryEntries = setup.snapshotEvery
    config.requestTimeoutMillis = 30_000
    config.maxInflightBytes = setup.maxInflightBytes
    let node = try ClusterNode(config: config, persistence: persistence, transport: transport,
                               stateMachine: CountingMachine(), addresses: addresses, eventLoop: loop)
    node.start()
    return CatchupNode(node: node, transport: transport)
}

/// Proposers writing until `stop` is set; latencies (µs) of what committed, and errors.
private final class Load: Sendable {
    let stop = Atomic<Bool>(false)
    let latencies = Mutex<Histogram<UInt64>>(Histogram(highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three))
    let errors = Atomic<Int>(0)
    let committed = Atomic<Int>(0)

    func run(leader: ClusterNode, proposers: Int, entryBytes: Int) -> Task<Void, Never> {
        Task.detached {
            let payload = [UInt8](repeating: 0x61, count: entryBytes)
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<proposers {
                    group.addTask {
                        while !self.stop.load(ordering: .relaxed) {
                            let t0 = DispatchTime.now().uptimeNanoseconds
                            do {
                                _ = try await leader.propose(payload)
                                let micros = (DispatchTime.now().uptimeNanoseconds - t0) / 1_000
                                self.latencies.withLock { _ = $0.record(micros) }
                                self.committed.add(1, ordering: .relaxed)
                            } catch {
                                self.errors.add(1, ordering: .relaxed)
                                try? await Task.sleep(for: .milliseconds(10))
                            }
                        }
                    }
                }
            }
        }
    }

    func resetLatencies() { latencies.withLock { $0.reset() } }
    func latency(_ percentile: Double) -> Double { Double(latencies.withLock { $0.valueAtPercentile(percentile) }) / 1000 }
    var maxLatency: Double { Double(latencies.withLock { $0.max }) / 1000 }
}

private func catchupBenchmark(_ setup: CatchupSetup) async throws {
    try? FileManager.default.removeItem(atPath: setup.directory)
    let ids: [NodeID] = [1, 2, 3]
    var transports: [NodeID: (TCPTransport, any EventLoop)] = [:]
    var addresses: [NodeID: MemberAddress] = [:]
    for id in ids {
        transports[id] = try await startTransport(id: id, port: 0)
        addresses[id] = MemberAddress(raft: transports[id]!.0.listenAddress!, api: "")
    }
    var nodes: [NodeID: CatchupNode] = [:]
    for id in ids {
        nodes[id] = try catchupNode(id: id, setup: setup, transport: transports[id]!.0, addresses: addresses, loop: transports[id]!.1)
    }
    var leaderID: NodeID = 0
    for _ in 0..<400 where leaderID == 0 {
        leaderID = nodes.values.first(where: { $0.node.status.role == .leader })?.node.id ?? 0
        if leaderID == 0 { try await Task.sleep(for: .milliseconds(25)) }
    }
    guard leaderID != 0 else { throw BenchmarkUsage("no leader elected") }
    let leader = nodes[leaderID]!
    let followerID = ids.first { $0 != leaderID }!
    print("leader \(leaderID); stopping follower \(followerID)")
    await nodes[followerID]!.node.shutdown()

    // Commit `entries` without the follower.
    let fill = Load()
    let fillStart = Date()
    let base = leader.node.status.commitIndex
    let fillTask = fill.run(leader: leader.node, proposers: max(setup.proposers, 64), entryBytes: setup.entryBytes)
    while leader.node.status.commitIndex < base + LogIndex(setup.entries) { try await Task.sleep(for: .milliseconds(20)) }
    fill.stop.store(true, ordering: .relaxed)
    await fillTask.value
    let lag = leader.node.status.commitIndex - nodes[followerID]!.node.status.appliedIndex
    print(String(format: "committed %d entries without the follower in %.1f s (it is %d entries behind; leader log starts at %d)",
                 setup.entries, Date().timeIntervalSince(fillStart), lag, leader.node.status.snapshotIndex + 1))

    // Steady state under load, for comparison, then the restart under the same load.
    let load = Load()
    let loadTask = load.run(leader: leader.node, proposers: setup.proposers, entryBytes: setup.entryBytes)
    try await Task.sleep(for: .seconds(2))
    TurnRecorder.shared.reset()
    load.resetLatencies()
    try await Task.sleep(for: .seconds(2))
    let steady = TurnRecorder.shared.stats(node: leaderID)
    print(String(format: "steady (2 nodes, %d proposers, 2 s): leader turns %d, max %.1f ms; proposal p99 %.1f ms, max %.1f ms",
                 setup.proposers, steady.count, Double(steady.max) / 1e6, load.latency(99), load.maxLatency))

    let droppedBefore = leader.transport.stats.sendDropped
    TurnRecorder.shared.reset()
    load.resetLatencies()
    let errorsBefore = load.errors.load(ordering: .relaxed)
    let target = leader.node.status.commitIndex
    let restartAt = Date()
    let port = addresses[followerID]!.raft.port
    let (restartedTransport, restartedLoop) = try await startTransport(id: followerID, port: port)
    let follower = try catchupNode(id: followerID, setup: setup, transport: restartedTransport, addresses: addresses, loop: restartedLoop)
    while follower.node.status.appliedIndex < target {
        if Date().timeIntervalSince(restartAt) > 300 { throw BenchmarkUsage("the follower did not catch up within 300 s") }
        try await Task.sleep(for: .milliseconds(5))
    }
    let caughtUp = Date().timeIntervalSince(restartAt)
    let during = TurnRecorder.shared.stats(node: leaderID)
    let dropped = leader.transport.stats.sendDropped - droppedBefore
    print(String(format: "catch-up: %.2f s to apply %d entries on the restarted follower", caughtUp, target))
    print(String(format: "leader during catch-up: turns %d, max turn %.1f ms, turns > 50 ms %d; messages dropped %d",
                 during.count, Double(during.max) / 1e6, during.slow, dropped))
    print(String(format: "proposals during catch-up: p50 %.1f ms, p99 %.1f ms, max %.1f ms, errors %d",
                 load.latency(50), load.latency(99), load.maxLatency, load.errors.load(ordering: .relaxed) - errorsBefore))
    load.stop.store(true, ordering: .relaxed)
    await loadTask.value
    await follower.node.shutdown()
    for id in ids where id != followerID { await nodes[id]!.node.shutdown() }
}
