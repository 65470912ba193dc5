import ArgumentParser
import Client
import ClusterTLS
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RaftTransport
import Server
import Synchronization

/// `orchestrator dev`: a local cluster for trying things out.
struct Dev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a local cluster on free loopback ports.",
        discussion: """
            Starts --nodes orchestrator nodes as child processes (data under ./data/dev,
            logs in ./data/dev/node-N.log), prints each node's API address and the leader,
            and stops them all on Ctrl-C. With --in-memory the nodes run inside this one
            process over an in-memory network with no disk, as the classic Raft recipe did.

            Examples:
              orchestrator dev --nodes 3
              orchestrator dev --nodes 3 --in-memory
              orchestrator dev --nodes 5 --base-port 9000      # APIs on 9001…9005, Raft on 9101…9105
              orchestrator dev --nodes 3 --tls                 # HTTPS API, mutual TLS between nodes

            With --tls, dev makes a CA and node certificates in DATA-DIR/certs (orchestrator certs \
            init; kept and reused on the next start), starts every node with HTTPS for its API and \
            mutual TLS for Raft, and prints the ORCHESTRATOR_ADDR and ORCHESTRATOR_CACERT exports \
            a client needs. --tls needs node processes: it cannot be combined with --in-memory.
            """
    )

    @Option(name: .long, help: "How many nodes (1–9).")
    var nodes = 3

    @Flag(name: .customLong("in-memory"), help: "Run the nodes in this process over an in-memory network, with no disk.")
    var inMemory = false

    @Option(name: .customLong("base-port"), help: "Use API ports BASE+1… and Raft ports BASE+101… instead of free ports.")
    var basePort: Int?

    @Option(name: .customLong("data-dir"), help: "Where the nodes keep their data (default ./data/dev).")
    var dataDir = "./data/dev"

    @Flag(name: .long, help: "Delete the data directory first (start a brand-new cluster).")
    var clean = false

    @Option(name: .long, help: "Directory of workflow definitions (default ./workflows).")
    var workflows = "./workflows"

    @Option(name: .long, help: "Directory of plugins hooks run (default ./plugins).")
    var plugins = "./plugins"

    @Option(name: .customLong("tick-ms"), help: "Raft tick length in milliseconds.")
    var tickMillis = 100

    @Option(help: "Keep finished instances of workflows without their own `retention` this long (e.g. 7d); default: for good.")
    var retention: String?

    @Option(name: .customLong("batch-delay"), help: ArgumentHelp("Passed to every node: hold a proposal that arrives while others are in flight up to this long (e.g. 2ms); default 0: off.", valueName: "delay"))
    var batchDelay: String?

    @Flag(help: "Restart a node process that dies (after a second), instead of only saying how to.")
    var restart = false

    @Flag(help: "HTTPS for the APIs and mutual TLS between the nodes, with certificates made in DATA-DIR/certs.")
    var tls = false

    func validate() throws {
        guard (1...9).contains(nodes) else { throw ValidationError("--nodes must be between 1 and 9, not \(nodes)") }
        if tls && inMemory {
            throw ValidationError("--tls needs node processes and cannot be combined with --in-memory (in-memory nodes share "
                                  + "one process and no network); run `orchestrator dev --tls` without --in-memory")
        }
        if let basePort, !(1...65000).contains(basePort) { throw ValidationError("--base-port must be between 1 and 65000") }
        // As for `serve`: a workflows directory named on the command line must exist; the default may be absent.
        if let retention {
            do { _ = try ServerConfig.parseRetention(retention) } catch { throw ValidationError(error.description) }
        }
        if let batchDelay {
            do { _ = try ServerConfig.parseBatchDelay(batchDelay) } catch { throw ValidationError(error.description) }
        }
        if workflows != "./workflows", !Self.isDirectory(workflows) {
            throw ValidationError("--workflows '\(workflows)' is not a directory")
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    func run() async throws {
        let ids = (1...nodes).map { UInt64($0) }
        var apiPorts: [Int] = []
        var raftPorts: [Int] = []
        if let basePort {
            apiPorts = ids.map { basePort + Int($0) }
            raftPorts = ids.map { basePort + 100 + Int($0) }
        } else {
            guard let free = LoopbackPorts.free(count: nodes * 2) else {
                printError("error: could not find \(nodes * 2) free loopback ports")
                throw ExitCode(ExitStatus.usage)
            }
            apiPorts = Array(free.prefix(nodes))
            raftPorts = Array(free.suffix(nodes))
        }
        var configs: [ServerConfig] = []
        for (i, id) in ids.enumerated() {
            var config = ServerConfig()
            config.nodeID = id
            config.clusterID = "dev"
            config.apiAddress = ServerConfig.parseAddress("127.0.0.1:\(apiPorts[i])")!
            config.raftAddress = ServerConfig.parseAddress("127.0.0.1:\(raftPorts[i])")!
            config.dataDirectory = "\(dataDir)/node-\(id)"
            config.workflowsDirectory = workflows
            config.pluginsDirectory = plugins
            config.tickMillis = tickMillis
            config.defaultRetentionMillis = try retention.map { try ServerConfig.parseRetention($0) }
            config.batchDelayMicros = try batchDelay.map { try ServerConfig.parseBatchDelay($0) } ?? 0
            if tls {
                let node = TLSFile(CertificateFiles.nodeCertificatePath(in: certificatesDirectory, id: id), setting: "--tls-cert")
                let key = TLSFile(CertificateFiles.nodeKeyPath(in: certificatesDirectory, id: id), setting: "--tls-key")
                config.tls = APITLSFiles(certificate: node, key: key)
                config.peerTLS = PeerTLSFiles(certificate: node, key: key,
                                              ca: TLSFile(CertificateFiles.caCertificatePath(in: certificatesDirectory), setting: "--peer-ca"))
            }
            for (j, peer) in ids.enumerated() where peer != id {
                config.peers[peer] = try ServerConfig.parsePeer("\(peer)=127.0.0.1:\(raftPorts[j]),127.0.0.1:\(apiPorts[j])").1
            }
            configs.append(config)
        }
        if inMemory {
            try await runInMemory(configs)
        } else {
            try await runProcesses(configs)
        }
    }

    private func runInMemory(_ configs: [ServerConfig]) async throws {
        let servers: [OrchestratorServer]
        do {
            servers = try OrchestratorServer.inMemoryCluster(configs)
        } catch {
            printError("error: \(error)")
            throw ExitCode(ExitStatus.usage)
        }
        printNodes(configs, mode: "in-memory")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for server in servers { group.addTask { try await server.run() } }
            group.addTask { await reportLeader(configs) }
            try await group.waitForAll()
        }
    }

    /// Where `--tls` keeps the dev cluster's CA and node certificates.
    var certificatesDirectory: String { "\(dataDir)/certs" }

    /// `--tls`: the CA and node certificates, made on the first start (`certs init`) and reused
    /// after; a node certificate that is missing (more --nodes than before) is issued.
    private func prepareCertificates(_ configs: [ServerConfig]) throws {
        let directory = certificatesDirectory
        do {
            if FileManager.default.fileExists(atPath: CertificateFiles.caCertificatePath(in: directory)) {
                for config in configs where !FileManager.default.fileExists(atPath: CertificateFiles.nodeCertificatePath(in: directory, id: config.nodeID)) {
                    _ = try CertificateFiles.issueNode(caDirectory: directory, nodeID: config.nodeID, hosts: CertificateFiles.defaultHosts,
                                                       days: CertificateFiles.defaultNodeDays, force: true)
                }
                print("using the certificates in \(directory)")
            } else {
                _ = try CertificateFiles.initCluster(directory: directory, nodes: configs.count, hosts: CertificateFiles.defaultHosts,
                                                     days: CertificateFiles.defaultNodeDays, force: false)
                print("made a CA and \(configs.count) node certificates in \(directory) (orchestrator certs init)")
            }
        } catch {
            printError("error: --tls: \(error)")
            throw ExitCode(ExitStatus.usage)
        }
    }

    private func runProcesses(_ configs: [ServerConfig]) async throws {
        let fm = FileManager.default
        if clean { try? fm.removeItem(atPath: dataDir) }
        try fm.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        if tls { try prepareCertificates(configs) }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var nodes: [(config: ServerConfig, arguments: [String], process: Process?)] = []
        for config in configs {
            var arguments = ["serve", "--node-id", "\(config.nodeID)", "--cluster-id", config.clusterID,
                             "--api", "\(config.apiAddress)", "--raft", "\(config.raftAddress)",
                             "--data-dir", config.dataDirectory, "--tick-ms", "\(config.tickMillis)"]
            // Absent default directories are left to the node (it starts with none).
            if Self.isDirectory(config.workflowsDirectory) { arguments += ["--workflows", config.workflowsDirectory] }
            arguments += ["--plugins", config.pluginsDirectory]
            if let retention { arguments += ["--retention", retention] }
            if let batchDelay { arguments += ["--batch-delay", batchDelay] }
            if let certificate = config.tls.certificate, let key = config.tls.key, let ca = config.peerTLS.ca {
                arguments += ["--tls-cert", certificate.path, "--tls-key", key.path,
                              "--peer-cert", certificate.path, "--peer-key", key.path, "--peer-ca", ca.path]
            }
            for (peer, address) in config.peers.sorted(by: { $0.key < $1.key }) {
                arguments += ["--peer", "\(peer)=\(address.raft),\(address.api.replacingOccurrences(of: "http://", with: ""))"]
            }
            nodes.append((config, arguments, try launch(executable, arguments, nodeID: config.nodeID)))
        }
        printNodes(configs, mode: "processes, data in \(dataDir), logs in \(dataDir)/node-N.log")
        let stop = StopSignal()
        let reporter = Task { await reportLeader(configs, caFile: tls ? CertificateFiles.caCertificatePath(in: certificatesDirectory) : nil) }
        // A dev cluster exists to try failover: a node that dies is reported (which, how) and
        // the others keep running; Ctrl-C stops them all.
        while !stop.requested {
            try? await Task.sleep(for: .milliseconds(200))
            for slot in nodes.indices {
                guard let process = nodes[slot].process, !process.isRunning else { continue }
                let id = nodes[slot].config.nodeID
                let how = process.terminationReason == .uncaughtSignal
                    ? "was killed by signal \(process.terminationStatus)" : "exited with status \(process.terminationStatus)"
                nodes[slot].process = nil
                let alive = nodes.filter { $0.process != nil }.count
                print("node \(id) (pid \(process.processIdentifier)) \(how); \(alive) of \(nodes.count) nodes still run (log: \(dataDir)/node-\(id).log)")
                if restart {
                    try? await Task.sleep(for: .seconds(1))
                    if let relaunched = try? launch(executable, nodes[slot].arguments, nodeID: id) {
                        nodes[slot].process = relaunched
                        print("restarted node \(id) (pid \(relaunched.processIdentifier)); it catches up from its log and the leader")
                    }
                } else {
                    let command = ([executable.path] + nodes[slot].arguments).joined(separator: " ")
                    print("restart it with: \(command) >> \(dataDir)/node-\(id).log 2>&1 &")
                }
            }
            if nodes.allSatisfy({ $0.process == nil }) {
                printError("every node has stopped")
                break
            }
        }
        reporter.cancel()
        let children = nodes.compactMap(\.process)
        for child in children where child.isRunning { child.terminate() }
        let deadline = Date().addingTimeInterval(10)
        while children.contains(where: \.isRunning) && Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        for child in children where child.isRunning { kill(child.processIdentifier, SIGKILL) }
        print("stopped \(children.count) nodes")
    }

    /// Starts one node process, its output appended to its log.
    private func launch(_ executable: URL, _ arguments: [String], nodeID: UInt64) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let logPath = "\(dataDir)/node-\(nodeID).log"
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        return process
    }

    private func printNodes(_ configs: [ServerConfig], mode: String) {
        print("dev cluster of \(configs.count) nodes (\(mode)):")
        for config in configs {
            print("  node \(config.nodeID): api \(config.apiScheme)://\(config.apiAddress)  raft \(config.raftAddress)\(tls ? " (mutual TLS)" : "")")
        }
        if tls {
            let ca = URL(fileURLWithPath: CertificateFiles.caCertificatePath(in: certificatesDirectory)).standardizedFileURL.path
            print("to use it:")
            print("  export ORCHESTRATOR_ADDR=https://\(configs[0].apiAddress)")
            print("  export ORCHESTRATOR_CACERT=\(ca)")
            print("try: orchestrator status")
        } else {
            print("try: ORCHESTRATOR_ADDR=http://\(configs[0].apiAddress) orchestrator status")
        }
    }
}

/// Polls the nodes' health until one reports a leader, then prints it. `caFile`: the CA to
/// trust for https nodes.
func reportLeader(_ configs: [ServerConfig], caFile: String? = nil) async {
    let deadline = Date().addingTimeInterval(30)
    var configuration = OrchestratorClient.Configuration(requestTimeoutSeconds: 2, connectTimeoutSeconds: 1, retry: .none)
    configuration.tls = caFile.flatMap { try? TLSConfigurations.client(trustRoots: PEMFiles.trustRoots(TLSFile($0, setting: "--tls"))) }
    let clients = configs.map { OrchestratorClient(baseURL: "\($0.apiScheme)://\($0.apiAddress)", configuration: configuration) }
    defer { Task { for client in clients { try? await client.shutdown() } } }
    while Date() < deadline && !Task.isCancelled {
        for client in clients {
            guard let health = try? await client.health(), let leader = health.leader else { continue }
            let address = configs.first { $0.nodeID == leader }.map { "\($0.apiScheme)://\($0.apiAddress)" } ?? "?"
            print("leader: node \(leader) (\(address)); Ctrl-C stops the cluster")
            return
        }
        try? await Task.sleep(for: .milliseconds(200))
    }
    if !Task.isCancelled { printError("no leader after 30 s; see the node logs") }
}

/// Notes SIGINT and SIGTERM (which then no longer stop the process by themselves).
final class StopSignal {
    private final class Flag: Sendable {
        let raised = Atomic<Bool>(false)
    }

    private let flag = Flag()
    private let sources: [any DispatchSourceSignal]

    init() {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let flag = self.flag
        sources = [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { flag.raised.store(true, ordering: .relaxed) }
            source.resume()
            return source
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }

    /// True once SIGINT or SIGTERM arrived.
    var requested: Bool { flag.raised.load(ordering: .relaxed) }
}
