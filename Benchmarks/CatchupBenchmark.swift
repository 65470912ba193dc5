import Cluster
import Engine
import Foundation
import Histogram
import Metrics
import NIOCore
import NIOPosix
import Raft
import RaftStorage
import RaftTransport
import Synchronization
import Workflow

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
///
/// `--engine-instances N` replicates the real engine instead of a counter: every node starts
/// from the same engine state of N instances with `--history` entries each (seeded as
/// `snapshot restore` seeds a data directory), and every entry is an engine transition of a
/// random instance. With `--snapshot-every`, the follower then catches up from a snapshot
/// of that whole state (tens of MB at 100,000 instances) rather than from a counter's few bytes.
///
/// `--leader-writes loop` makes the leader write its log on its node loop, as before
/// background leader writes (`ClusterConfig.leaderWritesInBackground`); default `background`.
func runCatchupBenchmark(_ arguments: [String]) throws {
    var entries = 100_000
    var entryBytes = 128
    var proposers = 16
    var maxInflightBytes = ClusterConfig(nodeID: 1).maxInflightBytes
    var snapshotEvery = 10_000_000
    var engineInstances = 0
    var historyEntries = 10
    var leaderWritesInBackground = true
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
        case "--engine-instances": engineInstances = Int(value) ?? engineInstances
        case "--history": historyEntries = Int(value) ?? historyEntries
        case "--dir": directory = value
        case "--leader-writes":
            guard value == "background" || value == "loop" else { throw BenchmarkUsage("--leader-writes takes background or loop, not '\(value)'") }
            leaderWritesInBackground = value == "background"
        default:
            throw BenchmarkUsage("unknown option \(flag) (known: --entries 100000 --entry-bytes 128 --proposers 16 "
                                 + "--max-inflight-bytes 4194304 (0: unbounded) --snapshot-every N --engine-instances N --history 10 --leader-writes background|loop --dir PATH)")
        }
        index += 2
    }
    guard entries > 0, entryBytes > 0, proposers > 0, snapshotEvery > 0, engineInstances >= 0, historyEntries > 0 else {
        throw BenchmarkUsage("--entries, --entry-bytes, --proposers, --snapshot-every and --history need positive values")
    }
    MetricsSystem.bootstrap(TurnRecorder.shared)
    let budget = maxInflightBytes == Int.max ? "unbounded" : "\(maxInflightBytes) B"
    let what = engineInstances > 0 ? "engine transitions (state: \(engineInstances) instances, \(historyEntries) history entries each)"
        : "entries of \(entryBytes) B"
    print("catchup: 3 nodes in one process, WAL with fsync, TCP loopback; \(entries) \(what) committed while a follower is down,"
          + " then it restarts under \(proposers) proposers; maxInflightBytes \(budget); snapshot every \(snapshotEvery) entries;"
          + " leader writes \(leaderWritesInBackground ? "in the background" : "on the node loop")")
    print("command: swift run -c release orchestrator-bench catchup --entries \(entries) --entry-bytes \(entryBytes) --proposers \(proposers)"
          + " --max-inflight-bytes \(maxInflightBytes == Int.max ? 0 : maxInflightBytes) --snapshot-every \(snapshotEvery)"
          + (engineInstances > 0 ? " --engine-instances \(engineInstances) --history \(historyEntries)" : "")
          + " --leader-writes \(leaderWritesInBackground ? "background" : "loop")")
    let done = DispatchSemaphore(value: 0)
    let failure = Mutex<String?>(nil)
    let setup = CatchupSetup(directory: directory, entries: entries, entryBytes: entryBytes, proposers: proposers,
                             maxInflightBytes: maxInflightBytes, snapshotEvery: snapshotEvery, engineInstances: engineInstances,
                             historyEntries: historyEntries, leaderWritesInBackground: leaderWritesInBackground)
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
    var engineInstances: Int
    var historyEntries: Int
    var leaderWritesInBackground: Bool
}

/// The engine as a node's state machine, as `serve` runs it (Server's `EngineStateMachine`,
/// without the transition metrics).
private final class EngineMachine: ReplicatedStateMachine {
    let engine = ReplicatedEngine()
    func apply(index: LogIndex, term: Term, command: [UInt8]) -> any Sendable {
        engine.apply(index: index, term: term, bytes: command)
    }
    func snapshot() -> [UInt8] { engine.snapshot().bytes }
    func snapshotSource() -> @Sendable () -> [UInt8] {
        let copy = engine.current()
        return { copy.snapshot() }
    }
    func restore(from snapshot: [UInt8]) throws { try engine.restore(snapshot) }
}

/// The engine state every node starts from: one workflow whose single state has a
/// transition to itself, and `instances` instances `i0`, `i1`, … with some data, each
/// started and moved `history - 1` times. Returns its snapshot and the log index it ends at.
private func seededEngineState(instances: Int, history: Int) throws -> (snapshot: [UInt8], index: LogIndex) {
    let yaml = """
        workflow: bench
        initial: open
        states:
          open: {}
        transitions:
          touch: { from: open, to: open }
        """
    guard let definition = WorkflowLoader.load(text: yaml, file: "bench.yaml").definition else {
        throw BenchmarkUsage("the bench workflow does not load")
    }
    var state = EngineState()
    var index: UInt64 = 0
    var now: Int64 = 1_800_000_000_000
    func apply(_ command: Command) {
        index += 1
        now += 1
        _ = state.apply(index: index, command: command.stamped(atMillis: now))
    }
    apply(.registerWorkflow(RegisterWorkflow(definition: definition)))
    for number in 0..<instances {
        let id = "i\(number)"
        apply(.startInstance(StartInstance(workflow: "bench", id: id,
                                           data: ["customer": .string("customer-\(number % 9973)"), "amount": .number(Double(number % 1000))])))
        for _ in 1..<history { apply(.transition(TransitionRequest(instance: id, name: "touch"))) }
    }
    return (state.snapshot(), index)
}

/// What the proposers propose: opaque bytes for the counter, or engine transitions of
/// random seeded instances.
private struct Payloads: Sendable {
    var entryBytes: Int
    var engineInstances: Int

    func make() -> @Sendable () -> [UInt8] {
        guard engineInstances > 0 else {
            let payload = [UInt8](repeating: 0x61, count: entryBytes)
            return { payload }
        }
        let instances = engineInstances
        return {
            let id = "i\(Int.random(in: 0..<instances))"
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            return Command.transition(TransitionRequest(instance: id, name: "touch", proposedAtMillis: now)).encoded()
        }
    }
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
                         loop: any EventLoop, seed: (snapshot: [UInt8], index: LogIndex)?) throws -> CatchupNode {
    try FileManager.default.createDirectory(atPath: "\(setup.directory)/node-\(id)", withIntermediateDirectories: true)
    let store = try FileLogStore.open(directory: "\(setup.directory)/node-\(id)")
    let persistence = try FilePersistence(store: store)
    if persistence.isEmpty {
        if let seed {
            try persistence.seed(index: seed.index, term: 1, voters: Set(addresses.keys), addresses: addresses, application: seed.snapshot)
        } else {
            try persistence.bootstrap(.bootstrap(Set(addresses.keys)))
        }
    }
    var config = ClusterConfig(nodeID: id)
    config.tickMillis = 100   // `serve`'s default: heartbeats every 100 ms, elections after 1–2 s
    config.snapshotEveryEntries = setup.snapshotEvery
    config.requestTimeoutMillis = 30_000
    config.maxInflightBytes = setup.maxInflightBytes
    config.leaderWritesInBackground = setup.leaderWritesInBackground
    let machine: any ReplicatedStateMachine = setup.engineInstances > 0 ? EngineMachine() : CountingMachine()
    let node = try ClusterNode(config: config, persistence: persistence, transport: transport,
                               stateMachine: machine, addresses: addresses, eventLoop: loop)
    node.start()
    return CatchupNode(node: node, transport: transport)
}

/// Proposers writing until `stop` is set; latencies (µs) of what committed, and errors.
private final class Load: Sendable {
    let stop = Atomic<Bool>(false)
    let latencies = Mutex<Histogram<UInt64>>(Histogram(highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three))
    let errors = Atomic<Int>(0)
    let committed = Atomic<Int>(0)

    func run(leader: ClusterNode, proposers: Int, payloads: Payloads) -> Task<Void, Never> {
        Task.detached {
            let payload = payloads.make()
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<proposers {
                    group.addTask {
                        while !self.stop.load(ordering: .relaxed) {
                            let t0 = DispatchTime.now().uptimeNanoseconds
                            do {
                                _ = try await leader.propose(payload())
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
    var seed: (snapshot: [UInt8], index: LogIndex)?
    if setup.engineInstances > 0 {
        let started = Date()
        seed = try seededEngineState(instances: setup.engineInstances, history: setup.historyEntries)
        print(String(format: "seeded engine state: %d instances, %d history entries each, snapshot %.1f MB (built in %.1f s)",
                     setup.engineInstances, setup.historyEntries, Double(seed!.snapshot.count) / 1e6, Date().timeIntervalSince(started)))
    }
    let payloads = Payloads(entryBytes: setup.entryBytes, engineInstances: setup.engineInstances)
    var nodes: [NodeID: CatchupNode] = [:]
    for id in ids {
        nodes[id] = try catchupNode(id: id, setup: setup, transport: transports[id]!.0, addresses: addresses, loop: transports[id]!.1,
                                    seed: seed)
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
    let fillTask = fill.run(leader: leader.node, proposers: max(setup.proposers, 64), payloads: payloads)
    while leader.node.status.commitIndex < base + LogIndex(setup.entries) { try await Task.sleep(for: .milliseconds(20)) }
    fill.stop.store(true, ordering: .relaxed)
    await fillTask.value
    let lag = leader.node.status.commitIndex - nodes[followerID]!.node.status.appliedIndex
    print(String(format: "committed %d entries without the follower in %.1f s (it is %d entries behind; leader log starts at %d)",
                 setup.entries, Date().timeIntervalSince(fillStart), lag, leader.node.status.snapshotIndex + 1))

    // Steady state under load, for comparison, then the restart under the same load.
    let load = Load()
    let loadTask = load.run(leader: leader.node, proposers: setup.proposers, payloads: payloads)
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
    let follower = try catchupNode(id: followerID, setup: setup, transport: restartedTransport, addresses: addresses, loop: restartedLoop,
                                   seed: seed)
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
    let followerTurns = TurnRecorder.shared.stats(node: followerID)
    print(String(format: "restarted follower: max turn %.1f ms (installing a snapshot restores the state on its loop)",
                 Double(followerTurns.max) / 1e6))
    print(String(format: "proposals during catch-up: p50 %.1f ms, p99 %.1f ms, max %.1f ms, errors %d",
                 load.latency(50), load.latency(99), load.maxLatency, load.errors.load(ordering: .relaxed) - errorsBefore))
    load.stop.store(true, ordering: .relaxed)
    await loadTask.value
    await follower.node.shutdown()
    for id in ids where id != followerID { await nodes[id]!.node.shutdown() }
}
