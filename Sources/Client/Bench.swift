import Foundation
import Histogram
import NIOCore
import NIOPosix
import Synchronization

/// The load generator behind `orchestrator bench`: N concurrent clients, each cycling its own
/// instance through a workflow (the cookbook ring `first → second → third → first` by default)
/// with `submit`, for a bounded time and number of transitions, against loopback servers.
///
/// ```swift
/// let report = try await Bench.run(BenchSettings(servers: ["http://127.0.0.1:8080"], clients: 64))
/// print(report.summary)
/// ```
public enum Bench {
    /// Runs the benchmark. Throws for bad settings or when the workflow cannot be read.
    public static func run(_ settings: BenchSettings) async throws -> BenchReport {
        try settings.validate()
        // The typed client reads the workflow once; the workers then use their own lean
        // connections (BenchWorker).
        let client = OrchestratorClient(baseURL: settings.servers[0], configuration: .init(retry: settings.retry))
        let info: WorkflowInfo
        do {
            info = try await client.workflow(settings.workflow)
            try? await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw error
        }
        return try await run(settings, info: info)
    }

    private static func run(_ settings: BenchSettings, info: WorkflowInfo) async throws -> BenchReport {
        let next = Bench.nextTransitions(info)
        guard next[info.initial] != nil else {
            throw BenchError("workflow '\(settings.workflow)' has no transition leaving its initial state '\(info.initial)'")
        }
        let runID = String(UUID().uuidString.prefix(8)).lowercased()
        let budget = Budget(transitionsMax: settings.transitionsMax)
        let clock = ContinuousClock()
        let start = clock.now

        let targets = try settings.servers.map(Bench.hostAndPort)
        let group = MultiThreadedEventLoopGroup.singleton
        let nioDeadline = NIODeadline.now() + .milliseconds(Int64(settings.durationSeconds * 1_000))
        let futures = (0..<settings.clients).map { worker in
            let target = targets[worker % targets.count]
            let plan = BenchWorker.Plan(host: target.host, port: target.port, worker: worker, runID: runID,
                                        workflow: settings.workflow, initial: info.initial, next: next, budget: budget,
                                        deadline: nioDeadline, retry: settings.retry)
            return BenchWorker(plan: plan, eventLoop: group.next()).start()
        }
        var results: [WorkerResult] = []
        for future in futures { results.append(try await future.get()) }
        let elapsed = clock.now - start
        var report = BenchReport(settings: settings,
                                 elapsedSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        for result in results {
            histogram.add(result.latencies)
            report.transitions += result.transitions
            report.starts += result.starts
            for (code, count) in result.errors { report.errors[code, default: 0] += count }
            for (code, count) in result.retries { report.retries[code, default: 0] += count }
        }
        if histogram.totalCount > 0 {
            report.p50Micros = Double(histogram.valueAtPercentile(50)) / 1_000
            report.p99Micros = Double(histogram.valueAtPercentile(99)) / 1_000
            report.p999Micros = Double(histogram.valueAtPercentile(99.9)) / 1_000
            report.maxMicros = Double(histogram.max) / 1_000
        }
        return report
    }

    /// Host and port of a base URL (`http://127.0.0.1:8080`, `localhost:8080`, `http://[::1]:8080`).
    static func hostAndPort(_ url: String) throws -> (host: String, port: Int) {
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") {
            guard rest[..<scheme.lowerBound] == "http" else { throw BenchError("bench speaks plain http only, not '\(url)'") }
            rest = rest[scheme.upperBound...]
        }
        let hostPort = rest.prefix { $0 != "/" }
        var host: Substring
        var port: Substring = ""
        if hostPort.hasPrefix("[") {
            host = hostPort.dropFirst().prefix { $0 != "]" }
            let after = hostPort.dropFirst(host.count + 2)
            if after.hasPrefix(":") { port = after.dropFirst() }
        } else {
            host = hostPort.prefix { $0 != ":" }
            port = hostPort.dropFirst(host.count + 1)
        }
        guard !host.isEmpty else { throw BenchError("'\(url)' names no host") }
        if port.isEmpty { return (String(host), 80) }
        guard let number = Int(port), (1...65_535).contains(number) else { throw BenchError("'\(url)' has a bad port '\(port)'") }
        return (String(host), number)
    }

    /// For each non-final state, the first transition leaving it.
    static func nextTransitions(_ info: WorkflowInfo) -> [String: String] {
        let finals = Set(info.states.filter(\.final).map(\.name))
        var next: [String: String] = [:]
        for transition in info.transitions {
            let sources = transition.from == ["*"] ? info.states.map(\.name) : transition.from
            for state in sources where !finals.contains(state) && next[state] == nil { next[state] = transition.name }
        }
        return next
    }

    /// Shared count of transitions left, so the whole run stops at `transitionsMax`.
    final class Budget: Sendable {
        let remaining: Atomic<Int>
        init(transitionsMax: Int) { remaining = Atomic(transitionsMax) }
        func take() -> Bool { remaining.subtract(1, ordering: .relaxed).newValue >= 0 }
    }

    struct WorkerResult: Sendable {
        var transitions = 0
        var starts = 0
        var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var errors: [String: Int] = [:]
        var retries: [String: Int] = [:]
    }

}

/// What `Bench.run` does.
public struct BenchSettings: Sendable {
    /// Base URLs of the nodes to drive; clients are spread over them round-robin. Loopback only.
    public var servers: [String]
    /// Concurrent clients, each with its own instance. 1...`clientsMax`.
    public var clients: Int
    /// How long to run, in seconds. Up to `durationSecondsMax`.
    public var durationSeconds: Double
    /// The workflow to cycle through; must be registered on the cluster.
    public var workflow: String
    /// Stop after this many transitions in all, even before the duration.
    public var transitionsMax: Int
    /// Retries of a call that found the cluster unavailable (same request id).
    public var retry: RetryPolicy

    /// Most concurrent clients.
    public static let clientsMax = 4_096
    /// Longest run.
    public static let durationSecondsMax = 3_600.0

    public init(servers: [String], clients: Int = 1, durationSeconds: Double = 10, workflow: String = "cookbook",
                transitionsMax: Int = 100_000_000, retry: RetryPolicy = RetryPolicy(deadlineSeconds: 5)) {
        self.servers = servers
        self.clients = clients
        self.durationSeconds = durationSeconds
        self.workflow = workflow
        self.transitionsMax = transitionsMax
        self.retry = retry
    }

    func validate() throws {
        guard !servers.isEmpty else { throw BenchError("give at least one --server") }
        guard (1...BenchSettings.clientsMax).contains(clients) else {
            throw BenchError("--clients must be between 1 and \(BenchSettings.clientsMax), not \(clients)")
        }
        guard durationSeconds > 0, durationSeconds <= BenchSettings.durationSecondsMax else {
            throw BenchError("--duration must be more than 0 and at most \(Int(BenchSettings.durationSecondsMax)) seconds")
        }
        guard transitionsMax >= 1 else { throw BenchError("--transitions-max must be at least 1") }
        for server in servers where !BenchSettings.isLoopback(server) {
            throw BenchError("bench only targets loopback servers (127.0.0.1, localhost, [::1]); '\(server)' is not one")
        }
    }

    /// True when `url`'s host is a loopback address.
    static func isLoopback(_ url: String) -> Bool {
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        let hostPort = rest.prefix { $0 != "/" }
        let host: Substring
        if hostPort.hasPrefix("[") {
            host = hostPort.dropFirst().prefix { $0 != "]" }
        } else {
            host = hostPort.prefix { $0 != ":" }
        }
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// A bad bench setting or an unusable target.
public struct BenchError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The figures of one bench run.
public struct BenchReport: Sendable, Codable {
    public var servers: [String]
    public var clients: Int
    public var workflow: String
    public var elapsedSeconds: Double
    /// Transitions acknowledged.
    public var transitions = 0
    /// Instances started.
    public var starts = 0
    public var p50Micros = 0.0
    public var p99Micros = 0.0
    public var p999Micros = 0.0
    public var maxMicros = 0.0
    /// Calls that failed in the end, by error code.
    public var errors: [String: Int] = [:]
    /// Attempts that were retried (same request id), by error code.
    public var retries: [String: Int] = [:]

    init(settings: BenchSettings, elapsedSeconds: Double) {
        servers = settings.servers
        clients = settings.clients
        workflow = settings.workflow
        self.elapsedSeconds = elapsedSeconds
    }

    /// Acknowledged transitions per second.
    public var transitionsPerSecond: Double { elapsedSeconds > 0 ? Double(transitions) / elapsedSeconds : 0 }

    enum CodingKeys: String, CodingKey {
        case servers, clients, workflow, transitions, starts, errors, retries
        case elapsedSeconds = "elapsed_seconds"
        case p50Micros = "p50_us"
        case p99Micros = "p99_us"
        case p999Micros = "p999_us"
        case maxMicros = "max_us"
    }

    /// A few lines for people.
    public var summary: String {
        func ms(_ micros: Double) -> String { String(format: "%.2f ms", micros / 1_000) }
        func list(_ counts: [String: Int]) -> String {
            counts.isEmpty ? "none" : counts.keys.sorted().map { "\($0) \(counts[$0]!)" }.joined(separator: ", ")
        }
        return """
            bench: \(clients) client\(clients == 1 ? "" : "s"), \(servers.count) server\(servers.count == 1 ? "" : "s"), \
            workflow \(workflow), \(String(format: "%.1f", elapsedSeconds)) s
            transitions: \(transitions) (\(String(format: "%.0f", transitionsPerSecond))/s), instances started: \(starts)
            latency: p50 \(ms(p50Micros))  p99 \(ms(p99Micros))  p99.9 \(ms(p999Micros))  max \(ms(maxMicros))
            errors: \(list(errors))
            retries: \(list(retries))
            """
    }
}
