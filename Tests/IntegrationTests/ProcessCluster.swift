import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RaftTransport
import XCTest

/// Real `orchestrator serve` processes on free loopback ports, each with its own data
/// directory under one temporary directory. Everything is stopped and removed by `stop()`.
final class ProcessCluster: @unchecked Sendable {
    // Safety: used from one test at a time (XCTest runs a test's body serially); the
    // `Process` objects are only touched from that test's task.
    struct Node {
        let id: Int
        let api: Int
        let raft: Int
        /// Started with `--join` (no peers; waits to be added) instead of as an initial member.
        var joins = false
        var process: Process?
        var url: String { "http://127.0.0.1:\(api)" }
    }

    let root: URL
    let workflows: URL
    var nodes: [Int: Node] = [:]
    let extraArguments: [String]
    /// Arguments only node `id` gets (its own certificate files, say), after `extraArguments`.
    var nodeArguments: [Int: [String]] = [:]
    /// With `withProxies`: the forwarder each node uses to reach each peer, by [from, to].
    var proxies: [[Int]: TCPProxy] = [:]

    /// The built `orchestrator` executable, in the build products directory beside the test bundle.
    static let binary: URL = {
        let bundle = Bundle(for: ProcessCluster.self).bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent(), Bundle.main.bundleURL,
                          repository.appendingPathComponent(".build/debug")]
        return candidates.map { $0.appendingPathComponent("orchestrator") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0].appendingPathComponent("orchestrator")
    }()

    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `--tick-ms` of every node (short by default, so tests run fast).
    let tickMillis: Int
    /// An API token every `request` sends (a cluster with authentication on).
    var token: String?

    init(count: Int, extraArguments: [String] = [], tickMillis: Int = 30) throws {
        self.tickMillis = tickMillis
        root = FileManager.default.temporaryDirectory.appendingPathComponent("orch-it-\(UUID().uuidString.prefix(8))")
        workflows = root.appendingPathComponent("workflows")
        try FileManager.default.createDirectory(at: workflows, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.repository.appendingPathComponent("workflows/cookbook.yaml"),
                                         to: workflows.appendingPathComponent("cookbook.yaml"))
        self.extraArguments = extraArguments
        let ports = try freePorts(count * 2)
        for i in 1...count {
            nodes[i] = Node(id: i, api: ports[i - 1], raft: ports[count + i - 1])
        }
    }

    func arguments(for id: Int) -> [String] {
        let node = nodes[id]!
        var args = ["serve", "--node-id", "\(id)", "--cluster-id", "it", "--api", "127.0.0.1:\(node.api)",
                    "--raft", "127.0.0.1:\(node.raft)", "--data-dir", root.appendingPathComponent("node-\(id)").path,
                    "--workflows", workflows.path, "--plugins", root.appendingPathComponent("plugins").path, "--tick-ms", "\(tickMillis)"]
        if node.joins { return args + ["--join"] + extraArguments + nodeArguments[id, default: []] }
        for other in nodes.values.sorted(by: { $0.id < $1.id }) where other.id != id && !other.joins {
            let raftPort = proxies[[id, other.id]]?.port ?? other.raft
            args += ["--peer", "\(other.id)=127.0.0.1:\(raftPort),127.0.0.1:\(other.api)"]
        }
        return args + extraArguments + nodeArguments[id, default: []]
    }

    /// Declares node `id`, to be started (`start(id)`) with `--join`: no peers, no
    /// membership, until `cluster add` adds it (see `addMember`). Ports are picked free.
    func addJoiningNode(_ id: Int) throws {
        precondition(nodes[id] == nil, "node \(id) exists")
        let taken = Set(nodes.values.flatMap { [$0.api, $0.raft] } + proxies.values.map(\.port))
        let ports = try freePorts(2 + taken.count).filter { !taken.contains($0) }
        nodes[id] = Node(id: id, api: ports[0], raft: ports[1], joins: true)
    }

    /// `POST /v1/cluster/members` for node `id` (declared here), through node `via`.
    func addMember(_ id: Int, learner: Bool, via: Int) async throws -> (Int, [String: Any]) {
        let node = nodes[id]!
        return try await requestUntilAvailable("POST", via, "/v1/cluster/members",
                                               ["id": id, "raft": "127.0.0.1:\(node.raft)", "api": "127.0.0.1:\(node.api)",
                                                "learner": learner])
    }

    /// Runs the `orchestrator` CLI; returns its exit status, standard output and standard error.
    func cli(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both to the end before waiting (a full pipe would block the child).
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// Routes every node-to-node link through its own ``TCPProxy`` so tests can cut links.
    func withProxies() throws {
        let ids = nodes.keys.sorted()
        // Free now, but the nodes' own ports (picked in init) are not bound yet: a second pick
        // can return one of them, and the node whose port a proxy took never starts.
        let taken = Set(nodes.values.flatMap { [$0.api, $0.raft] })
        let ports = try freePorts(ids.count * (ids.count - 1) + taken.count).filter { !taken.contains($0) }
        var next = 0
        for from in ids {
            for to in ids where to != from {
                proxies[[from, to]] = try TCPProxy(port: ports[next], target: nodes[to]!.raft)
                next += 1
            }
        }
    }

    /// Cuts `node` off from every other node, both ways.
    func isolate(_ node: Int) {
        for (link, proxy) in proxies where link.contains(node) { proxy.block() }
    }

    /// Cuts `node` off from every other node, both ways, as a real partition does: its
    /// connections stay open and carry nothing (see ``TCPProxy/blackhole()``).
    func blackhole(_ node: Int) {
        for (link, proxy) in proxies where link.contains(node) { proxy.blackhole() }
    }

    func healAll() {
        for proxy in proxies.values { proxy.unblock() }
    }

    func start(_ id: Int) throws {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments(for: id)
        let log = root.appendingPathComponent("node-\(id).log")
        if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        nodes[id]!.process = process
    }

    func startAll() throws {
        for id in nodes.keys.sorted() { try start(id) }
    }

    /// SIGKILL: no chance to flush or say goodbye.
    func kill9(_ id: Int) {
        guard let process = nodes[id]?.process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        nodes[id]!.process = nil
    }

    /// SIGTERM one node and wait for it to exit (SIGKILL after 5 s).
    func stopNode(_ id: Int) {
        guard let process = nodes[id]?.process else { return }
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        nodes[id]!.process = nil
    }

    func stop() {
        for proxy in proxies.values { proxy.stop() }
        for id in nodes.keys {
            if let process = nodes[id]?.process, process.isRunning {
                process.terminate()
                let deadline = Date().addingTimeInterval(5)
                while process.isRunning && Date() < deadline { usleep(20_000) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                process.waitUntilExit()
            }
            nodes[id]!.process = nil
        }
        try? FileManager.default.removeItem(at: root)
    }

    func log(_ id: Int) -> String {
        (try? String(contentsOf: root.appendingPathComponent("node-\(id).log"), encoding: .utf8)) ?? ""
    }

    /// The last `lines` lines of every node's log, each under a header, for failure messages.
    func logTails(lines: Int = 40) -> String {
        nodes.keys.sorted().map { id in
            let tail = log(id).split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
            return "--- node \(id) (last \(lines) lines) ---\n\(tail)"
        }.joined(separator: "\n")
    }

    var running: [Int] { nodes.values.filter { $0.process != nil }.map(\.id).sorted() }

    /// The node that every running node agrees leads, once they do.
    func waitForLeader(among ids: [Int]? = nil, timeout: Double = 20) async throws -> Int {
        let candidates = ids ?? running
        let deadline = Date().addingTimeInterval(timeout)
        var answers: [Int: String] = [:]
        while Date() < deadline {
            var seen: Set<Int> = []
            for id in candidates {
                do {
                    let (status, body) = try await request("GET", id, "/v1/health")
                    answers[id] = "\(status) \(body)"
                    if status == 200, let leader = body["leader"] as? Int { seen.insert(leader) } else { seen.insert(-1) }
                } catch {
                    answers[id] = "\(error)"
                    seen.insert(-1)
                }
            }
            if seen.count == 1, let leader = seen.first, leader > 0, candidates.contains(leader) { return leader }
            try await Task.sleep(for: .milliseconds(100))
        }
        let last = answers.keys.sorted().map { "node \($0): \(answers[$0]!)" }.joined(separator: "\n")
        XCTFail("no agreed leader among \(candidates) within \(timeout) s; last health answers:\n\(last)\n\(logTails(lines: 20))")
        throw CancellationError()
    }

    /// Waits until workflow `name` (the cookbook by default) is registered, as seen from node `id`.
    func waitForWorkflow(on id: Int, name: String = "cookbook") async throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let (status, _) = try? await request("GET", id, "/v1/workflows/\(name)"), status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTFail("the \(name) workflow was not registered; node log:\n\(log(id))")
    }

    /// Adds a workflow file to the directory every node registers from (before `start`, or
    /// the leader's registrar picks it up on its next scan).
    func addWorkflow(file name: String, _ yaml: String) throws {
        try yaml.write(to: workflows.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    /// Every entry of an instance's history on node `id` (`?stale=true`, each page in turn
    /// through `next_after`: a busy instance has more than one page); nil when a page is not 200.
    func history(of instance: String, on id: Int) async throws -> [[String: Any]]? {
        var entries: [[String: Any]] = []
        var after: Int?
        repeat {
            let query = after.map { "&after=\($0)" } ?? ""
            let (status, body) = try await request("GET", id, "/v1/instances/\(instance)/history?stale=true\(query)")
            guard status == 200 else { return nil }
            entries += body["entries"] as? [[String: Any]] ?? []
            after = body["next_after"] as? Int
        } while after != nil
        return entries
    }

    /// One HTTP request; the body is a JSON object (or nil).
    func request(_ method: String, _ id: Int, _ path: String, _ body: [String: Any]? = nil,
                 timeout: Double = 10) async throws -> (Int, [String: Any]) {
        try await Self.request(method, url: nodes[id]!.url + path, body, timeout: timeout, token: token)
    }

    /// One HTTP request to a full URL (for tasks that run beside the test and must not read
    /// `nodes` while it changes).
    static func request(_ method: String, url: String, _ body: [String: Any]? = nil,
                        timeout: Double = 10, token: String? = nil) async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.timeoutInterval = timeout
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (status, json)
    }

    /// One GET answered with text (the probes, `/metrics`): status and body.
    func text(_ id: Int, _ path: String, timeout: Double = 10) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: nodes[id]!.url + path)!)
        request.timeoutInterval = timeout
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// Retries a request while the cluster answers 503 or the connection fails.
    func requestUntilAvailable(_ method: String, _ id: Int, _ path: String, _ body: [String: Any]? = nil,
                               timeout: Double = 20) async throws -> (Int, [String: Any]) {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let result = try? await request(method, id, path, body), result.0 != 503 { return result }
            if Date() > deadline { return try await request(method, id, path, body) }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// Free loopback TCP ports (bound to port 0, then released).
func freePorts(_ count: Int) throws -> [Int] {
    guard let ports = LoopbackPorts.free(count: count) else { throw NoFreePorts() }
    return ports
}

struct NoFreePorts: Error, CustomStringConvertible {
    var description: String { "could not find free loopback ports" }
}
