import Cluster
import Foundation
import Histogram
import NIOCore
import NIOPosix
import Raft
import RaftStorage
import RaftTransport
import Synchronization

/// `orchestrator-bench cluster`: three nodes with real write-ahead logs (fsync on every
/// Ready) talking over TCP on loopback, driven by concurrent proposers of fixed-size
/// entries; reports committed entries/s and latency percentiles per concurrency level.
///
/// By default the three nodes share this process. With `--processes` nodes 2 and 3 run as
/// child processes (`orchestrator-bench cluster-node`), so each node has its own process,
/// threads and CPU account, as in a real deployment; the proposers run in node 1's process.
func runClusterBenchmark(_ arguments: [String]) throws {
    var proposerCounts = [1, 16, 256]
    var seconds = 5.0
    var entryBytes = 128
    var processes = false
    var leaderWritesInBackground = true
    var directory = FileManager.default.temporaryDirectory.appendingPathComponent("orch-bench-cluster-\(getpid())").path
    var index = 0
    while index < arguments.count {
        let flag = arguments[index]
        if flag == "--processes" {
            processes = true
            index += 1
            continue
        }
        let value = index + 1 < arguments.count ? arguments[index + 1] : ""
        switch flag {
        case "--proposers": proposerCounts = value.split(separator: ",").compactMap { Int($0) }
        case "--seconds": seconds = Double(value) ?? seconds
        case "--entry-bytes": entryBytes = Int(value) ?? entryBytes
        case "--dir": directory = value
        case "--leader-writes":
            guard value == "background" || value == "loop" else { throw BenchmarkUsage("--leader-writes takes background or loop, not '\(value)'") }
            leaderWritesInBackground = value == "background"
        default: throw BenchmarkUsage("unknown option \(flag) (known: --proposers 1,16,256 --seconds 5 --entry-bytes 128 --dir PATH --processes --leader-writes background|loop)")
        }
        index += 2
    }
    if processes && !leaderWritesInBackground { throw BenchmarkUsage("--leader-writes loop is for the in-process layout (without --processes)") }
    guard !proposerCounts.isEmpty, proposerCounts.allSatisfy({ $0 >= 1 }), seconds > 0, entryBytes >= 1 else {
        throw BenchmarkUsage("--proposers needs positive counts, --seconds and --entry-bytes positive values")
    }
    let layout = processes ? "3 processes" : "3 nodes in one process"
    print("cluster: \(layout), WAL with fsync, TCP loopback, \(entryBytes)-byte entries, \(seconds) s per level")
    print("command: swift run -c release orchestrator-bench cluster --proposers \(proposerCounts.map(String.init).joined(separator: ",")) --seconds \(Int(seconds)) --entry-bytes \(entryBytes)\(processes ? " --processes" : "") --leader-writes \(leaderWritesInBackground ? "background" : "loop")")
    let syncRate = rawSyncRate(directory: directory)
    let roundTrip = loopbackRoundTripMicros()
    print("raw fdatasync (4 KiB pwrite + fdatasync) on \(directory): \(Int(syncRate)) /s (\(String(format: "%.0f", 1e6 / max(syncRate, 1))) µs each)")
    print(String(format: "loopback TCP round trip (1 byte, median of 2000): %.0f µs; single-proposer target 2 × (fsync + round trip) = %.2f ms",
                 roundTrip, 2 * (1e6 / max(syncRate, 1) + roundTrip) / 1000))
    let done = DispatchSemaphore(value: 0)
    let failure = Mutex<String?>(nil)
    let run = BenchRun(directory: directory, proposerCounts: proposerCounts, seconds: seconds, entryBytes: entryBytes,
                       leaderWritesInBackground: leaderWritesInBackground)
    Task.detached {
        do {
            if processes {
                try await multiProcessBenchmark(run)
            } else {
                try await clusterBenchmark(run)
            }
        } catch {
            failure.withLock { $0 = "\(error)" }
        }
        done.signal()
    }
    done.wait()
    try? FileManager.default.removeItem(atPath: directory)
    if let message = failure.withLock({ $0 }) { throw BenchmarkUsage(message) }
}

struct BenchRun: Sendable {
    var directory: String
    var proposerCounts: [Int]
    var seconds: Double
    var entryBytes: Int
    /// `ClusterConfig.leaderWritesInBackground` of the in-process nodes.
    var leaderWritesInBackground = true
}

struct BenchmarkUsage: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A state machine that only counts: the benchmark measures consensus and disk, not apply.
final class CountingMachine: ReplicatedStateMachine {
    let applied = Atomic<Int>(0)
    func apply(index: LogIndex, term: Term, command: [UInt8]) -> any Sendable {
        applied.add(1, ordering: .relaxed)
        return [UInt8]()
    }
    func snapshot() -> [UInt8] { Array("\(applied.load(ordering: .relaxed))".utf8) }
    func restore(from snapshot: [UInt8]) throws {}
}

private func clusterBenchmark(_ run: BenchRun) async throws {
    let cluster = try await LoopbackCluster.start(directory: run.directory, leaderWritesInBackground: run.leaderWritesInBackground) { _ in
        CountingMachine()
    }
    let leader = try await cluster.leader()
    print("proposers  entries/s  p50 ms  p99 ms  p99.9 ms  max ms  errors  CPU µs/entry (3 nodes + proposers)")
    for proposers in run.proposerCounts {
        let cpuStart = processCPUNanos()
        let level = await measureLevel(leader: leader, proposers: proposers, seconds: run.seconds, entryBytes: run.entryBytes)
        let cpu = Double(processCPUNanos() - cpuStart)
        print(level.line + String(format: "  %8.1f", cpu / 1000 / Double(max(level.count, 1))))
    }
    await cluster.shutdown()
}

/// Three nodes in this process, each with its own WAL under `directory/node-ID` (fsync on
/// every `Ready` with entries), its own `TCPTransport` on 127.0.0.1 and its own event-loop
/// thread (node loop and connections share it, as `serve` runs them). Shared by the
/// `cluster` and `scheduler` suites.
struct LoopbackCluster: Sendable {
    let nodes: [ClusterNode]

    /// Starts the nodes (an empty `directory` is created; an old one is removed first);
    /// `stateMachine` builds each node's replicated state machine. `tickMillis` 50 makes the
    /// first election quick; `serve` ticks every 100 ms (election after 10 ticks either way).
    static func start(directory: String, tickMillis: Int = 50, leaderWritesInBackground: Bool = true,
                      stateMachine: (NodeID) -> any ReplicatedStateMachine) async throws -> LoopbackCluster {
        try? FileManager.default.removeItem(atPath: directory)
        let ids: [NodeID] = [1, 2, 3]
        var transports: [NodeID: TCPTransport] = [:]
        var loops: [NodeID: any EventLoop] = [:]
        for id in ids {
            // Each node and its connections on one event-loop thread, as `serve` runs them.
            loops[id] = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()
            let transport = TCPTransport(nodeID: id, clusterID: "bench", listen: PeerAddress(host: "127.0.0.1", port: 0), peers: [:],
                                         options: sharedLoopOptions(loops[id]!))
            try await transport.start()
            transports[id] = transport
        }
        var addresses: [NodeID: MemberAddress] = [:]
        for id in ids { addresses[id] = MemberAddress(raft: transports[id]!.listenAddress!, api: "") }
        var nodes: [ClusterNode] = []
        for id in ids {
            nodes.append(try benchNode(id: id, directory: directory, transport: transports[id]!, addresses: addresses, electionTicks: 10,
                                       eventLoop: loops[id]!, tickMillis: tickMillis, stateMachine: stateMachine(id),
                                       leaderWritesInBackground: leaderWritesInBackground))
        }
        return LoopbackCluster(nodes: nodes)
    }

    /// The node that leads, waiting up to 10 s for an election.
    func leader() async throws -> ClusterNode {
        for _ in 0..<400 {
            if let leader = nodes.first(where: { $0.status.role == .leader }) { return leader }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw BenchmarkUsage("no leader elected")
    }

    func shutdown() async {
        for node in nodes { await node.shutdown() }
    }
}

/// One bench node: a WAL under `directory/node-ID` (bootstrapped on first use), a counting
/// state machine unless told otherwise, a short tick so the first election is quick.
private func benchNode(id: NodeID, directory: String, transport: TCPTransport, addresses: [NodeID: MemberAddress],
                       electionTicks: Int, eventLoop: (any EventLoop)?, tickMillis: Int = 50,
                       stateMachine: any ReplicatedStateMachine = CountingMachine(),
                       leaderWritesInBackground: Bool = true) throws -> ClusterNode {
    try FileManager.default.createDirectory(atPath: "\(directory)/node-\(id)", withIntermediateDirectories: true)
    let store = try FileLogStore.open(directory: "\(directory)/node-\(id)")
    let persistence = try FilePersistence(store: store)
    if persistence.isEmpty { try persistence.bootstrap(.bootstrap(Set(addresses.keys))) }
    var config = ClusterConfig(nodeID: id)
    config.tickMillis = tickMillis
    config.electionTicks = electionTicks
    config.snapshotEveryEntries = 100_000
    config.requestTimeoutMillis = 10_000
    config.leaderWritesInBackground = leaderWritesInBackground
    let node = try ClusterNode(config: config, persistence: persistence, transport: transport,
                               stateMachine: stateMachine, addresses: addresses, eventLoop: eventLoop)
    node.start()
    return node
}

struct LevelResult {
    var count: Int
    var line: String
}

/// Runs `proposers` concurrent proposers against `leader` for `seconds`; the line holds
/// proposers, entries/s, p50/p99/p99.9/max latency and errors.
private func measureLevel(leader: ClusterNode, proposers: Int, seconds: Double, entryBytes: Int) async -> LevelResult {
    let payload = [UInt8](repeating: 0x61, count: entryBytes)
    let deadline = Date().addingTimeInterval(seconds)
    let start = DispatchTime.now().uptimeNanoseconds
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
    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    var count = 0
    var errors = 0
    for (latencies, failed) in results {
        for micros in latencies { _ = histogram.record(micros) }
        count += latencies.count
        errors += failed
    }
    func ms(_ p: Double) -> String { String(format: "%.2f", Double(histogram.valueAtPercentile(p)) / 1000) }
    let line = String(format: "%9d  %9.0f  %6@  %6@  %8@  %6@  %6d", proposers, Double(count) / elapsed, ms(50) as NSString,
                      ms(99) as NSString, ms(99.9) as NSString, ms(100) as NSString, errors)
    return LevelResult(count: count, line: line)
}

// MARK: - Three processes

/// Node 1 (with the proposers) here, nodes 2 and 3 as child processes. The children get a
/// three times longer election timeout so node 1 normally wins the first election.
private func multiProcessBenchmark(_ run: BenchRun) async throws {
    try? FileManager.default.removeItem(atPath: run.directory)
    guard let ports = LoopbackPorts.free(count: 3) else { throw BenchmarkUsage("could not find 3 free loopback ports") }
    let ids: [NodeID] = [1, 2, 3]
    var addresses: [NodeID: MemberAddress] = [:]
    for (i, id) in ids.enumerated() { addresses[id] = MemberAddress(raft: PeerAddress(host: "127.0.0.1", port: ports[i]), api: "") }
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    var children: [Process] = []
    var stdins: [Pipe] = []
    defer {
        // Closing a child's stdin stops it gracefully; SIGKILL after 5 s if it did not.
        for pipe in stdins { try? pipe.fileHandleForWriting.close() }
        for child in children {
            let pid = child.processIdentifier
            var status: Int32 = 0
            var waited = 0
            while waitpid(pid, &status, WNOHANG) == 0 && waited < 500 {
                usleep(10_000)
                waited += 1
            }
            if waited == 500 {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
            }
        }
    }
    for id in ids.dropFirst() {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: executable)
        child.arguments = ["cluster-node", "--id", "\(id)", "--dir", run.directory,
                           "--ports", ports.map(String.init).joined(separator: ",")]
        // The child runs until its stdin closes, so it also stops if this process dies.
        let stdin = Pipe()
        child.standardInput = stdin
        stdins.append(stdin)
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        children.append(child)
    }
    let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()
    let transport = TCPTransport(nodeID: 1, clusterID: "bench", listen: addresses[1]!.raft,
                                 peers: addresses.filter { $0.key != 1 }.mapValues(\.raft), options: sharedLoopOptions(loop))
    try await transport.start()
    let leader = try benchNode(id: 1, directory: run.directory, transport: transport, addresses: addresses, electionTicks: 10,
                               eventLoop: loop)
    for _ in 0..<400 where leader.status.role != .leader {
        try await Task.sleep(for: .milliseconds(25))
    }
    guard leader.status.role == .leader else { throw BenchmarkUsage("node 1 did not become leader within 10 s") }
    // Let the followers' connections settle before measuring.
    _ = try await leader.propose([0])
    print("proposers  entries/s  p50 ms  p99 ms  p99.9 ms  max ms  errors  CPU µs/entry: leader+proposers  follower 2  follower 3")
    for proposers in run.proposerCounts {
        let cpuStart = processCPUNanos()
        let childStart = children.map { childCPUNanos($0.processIdentifier) }
        let level = await measureLevel(leader: leader, proposers: proposers, seconds: run.seconds, entryBytes: run.entryBytes)
        let perEntry = { (nanos: UInt64) in Double(nanos) / 1000 / Double(max(level.count, 1)) }
        let childCPU = zip(children, childStart).map { perEntry(childCPUNanos($0.processIdentifier) &- $1) }
        print(level.line + String(format: "  %30.1f  %10.1f  %10.1f", perEntry(processCPUNanos() - cpuStart), childCPU[0], childCPU[1]))
    }
    await leader.shutdown()
}

/// `orchestrator-bench cluster-node --id N --dir D --ports P1,P2,P3`: one node of the
/// `--processes` benchmark. Runs until its standard input closes.
func runClusterNode(_ arguments: [String]) throws {
    var id: NodeID = 0
    var directory = ""
    var ports: [Int] = []
    var index = 0
    while index + 1 < arguments.count {
        let value = arguments[index + 1]
        switch arguments[index] {
        case "--id": id = NodeID(value) ?? 0
        case "--dir": directory = value
        case "--ports": ports = value.split(separator: ",").compactMap { Int($0) }
        default: throw BenchmarkUsage("unknown option \(arguments[index]) (known: --id N --dir PATH --ports P1,P2,P3)")
        }
        index += 2
    }
    guard id >= 1, Int(id) <= ports.count, !directory.isEmpty else {
        throw BenchmarkUsage("cluster-node needs --id (1...\(max(ports.count, 1))), --dir and --ports")
    }
    var addresses: [NodeID: MemberAddress] = [:]
    for (i, port) in ports.enumerated() { addresses[NodeID(i + 1)] = MemberAddress(raft: PeerAddress(host: "127.0.0.1", port: port), api: "") }
    let done = DispatchSemaphore(value: 0)
    let failure = Mutex<String?>(nil)
    Task.detached {
        do {
            let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()
            let transport = TCPTransport(nodeID: id, clusterID: "bench", listen: addresses[id]!.raft,
                                         peers: addresses.filter { $0.key != id }.mapValues(\.raft), options: sharedLoopOptions(loop))
            try await transport.start()
            let node = try benchNode(id: id, directory: directory, transport: transport, addresses: addresses, electionTicks: 30,
                                     eventLoop: loop)
            // Block a pool thread-free way: read stdin on a plain thread until EOF.
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                Thread.detachNewThread {
                    _ = FileHandle.standardInput.readDataToEndOfFile()
                    continuation.resume()
                }
            }
            await node.shutdown()
        } catch {
            failure.withLock { $0 = "\(error)" }
        }
        done.signal()
    }
    done.wait()
    if let message = failure.withLock({ $0 }) { throw BenchmarkUsage(message) }
}

/// Transport options that put a node's connections on its own event loop.
private func sharedLoopOptions(_ loop: any EventLoop) -> TCPTransport.Options {
    var options = TCPTransport.Options()
    options.eventLoopGroup = loop
    return options
}


/// User plus system CPU time of a child process (from /proc), in nanoseconds.
private func childCPUNanos(_ pid: Int32) -> UInt64 {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return 0 }
    let fields = text[text.index(after: close)...].split(separator: " ")
    // After the command: state(0) ... utime(11) stime(12), in clock ticks.
    guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return 0 }
    let ticks = UInt64(sysconf(Int32(_SC_CLK_TCK)))
    return (user + system) * 1_000_000_000 / max(ticks, 1)
}

/// 4 KiB pwrite + fdatasync, repeatedly, for one second: the disk's physical limit.
func rawSyncRate(directory: String) -> Double {
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

/// Median round trip of one byte over a loopback TCP connection to an echoing thread.
private func loopbackRoundTripMicros() -> Double {
    guard let port = LoopbackPorts.free(count: 1)?.first else { return 0 }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(listener) }
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && listen(listener, 1) == 0 }
    }
    guard bound else { return 0 }
    let rounds = 2000
    Thread.detachNewThread {
        let peer = accept(listener, nil, nil)
        guard peer >= 0 else { return }
        var one: UInt8 = 0
        for _ in 0..<rounds where read(peer, &one, 1) == 1 { _ = write(peer, &one, 1) }
        close(peer)
    }
    let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(client) }
    var noDelay: Int32 = 1
    setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) == 0 }
    }
    guard connected else { return 0 }
    var samples: [Double] = []
    var byte: UInt8 = 1
    for _ in 0..<rounds {
        let t0 = DispatchTime.now().uptimeNanoseconds
        guard write(client, &byte, 1) == 1, read(client, &byte, 1) == 1 else { break }
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
    }
    guard !samples.isEmpty else { return 0 }
    return samples.sorted()[samples.count / 2]
}

/// User plus system CPU time of this process, in nanoseconds.
func processCPUNanos() -> UInt64 {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = UInt64(usage.ru_utime.tv_sec) * 1_000_000_000 + UInt64(usage.ru_utime.tv_usec) * 1_000
    let system = UInt64(usage.ru_stime.tv_sec) * 1_000_000_000 + UInt64(usage.ru_stime.tv_usec) * 1_000
    return user + system
}
