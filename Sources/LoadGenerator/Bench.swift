import Client
import Foundation
import Histogram
import NIOCore
import NIOPosix
import NIOSSL

/// The load generator behind `orchestrator bench`: N concurrent clients, each cycling its own
/// instance through a workflow (the cookbook ring `first → second → third → first` by default)
/// with `submit`, for a bounded time and number of transitions, against loopback servers.
///
/// Closed loop (the default): each client sends its next transition when the last one is
/// answered. Open loop (`ratePerSecond`): transitions are due at a fixed rate in all, taken
/// by whichever client is free, and each latency counts from the time its transition was
/// due (`OpenLoopSchedule`), so a stalled server shows as the latency it causes.
///
/// ```swift
/// let report = try await Bench.run(BenchSettings(servers: ["http://127.0.0.1:8080"], clients: 64))
/// let paced = try await Bench.run(BenchSettings(servers: ["http://127.0.0.1:8080"], clients: 64,
///                                               ratePerSecond: 5_000))
/// print(report.summary, paced.summary)
/// ```
public enum Bench {
    /// Runs the benchmark. Throws for bad settings or when the workflow cannot be read.
    public static func run(_ settings: BenchSettings) async throws -> BenchReport {
        try settings.validate()
        // The typed client reads the workflow once; the workers then use their own lean
        // connections (BenchWorker).
        var configuration = OrchestratorClient.Configuration(retry: settings.retry, token: settings.token)
        configuration.tls = settings.tls
        let client = OrchestratorClient(baseURL: settings.servers[0], configuration: configuration)
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
        let tickets = Tickets(transitionsMax: settings.transitionsMax)
        let targets = try settings.servers.map(Bench.hostAndPort)
        let group = MultiThreadedEventLoopGroup.singleton
        let duration = TimeAmount.milliseconds(Int64(settings.durationSeconds * 1_000))
        // One TLS context for every https client (each still does its own handshake, once).
        let tlsContext: NIOSSLContext?
        do {
            tlsContext = settings.servers.contains { $0.hasPrefix("https://") }
                ? try NIOSSLContext(configuration: settings.tls ?? .makeClientConfiguration()) : nil
        } catch {
            throw BenchError("cannot make a TLS client context: \(error)")
        }
        let workers = (0..<settings.clients).map { worker in
            let target = targets[worker % targets.count]
            let server = settings.servers[worker % targets.count]
            var plan = BenchWorker.Plan(host: target.host, port: target.port, worker: worker, runID: runID,
                                        workflow: settings.workflow, initial: info.initial, next: next, tickets: tickets,
                                        retry: settings.retry, token: settings.token)
            if server.hasPrefix("https://") { plan.tls = tlsContext }
            return BenchWorker(plan: plan, eventLoop: group.next())
        }
        let schedule = settings.ratePerSecond.map(OpenLoopSchedule.init)
        if schedule != nil {
            // Every client starts its instance before the schedule begins, so the first
            // tickets do not wait for the starts.
            let prepared = workers.map { $0.prepare(deadline: .now() + duration) }
            for future in prepared { try await future.get() }
        }
        let clock = ContinuousClock()
        let start = clock.now
        let origin = NIODeadline.now()
        let futures = workers.map { $0.run(schedule: schedule, origin: origin, deadline: origin + duration) }
        var results: [WorkerResult] = []
        for future in futures { results.append(try await future.get()) }
        let elapsed = clock.now - start
        var report = BenchReport(settings: settings,
                                 elapsedSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var maxLagNanos: Int64 = 0
        for result in results {
            histogram.add(result.latencies)
            report.transitions += result.transitions
            report.starts += result.starts
            maxLagNanos = max(maxLagNanos, result.maxLagNanos)
            for (code, count) in result.errors { report.errors[code, default: 0] += count }
            for (code, count) in result.retries { report.retries[code, default: 0] += count }
        }
        if let schedule {
            report.scheduledTransitions = min(schedule.ticketsDue(withinNanos: duration.nanoseconds), settings.transitionsMax)
            report.maxLagMillis = Double(maxLagNanos) / 1e6
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
            guard ["http", "https"].contains(rest[..<scheme.lowerBound]) else { throw BenchError("bench speaks http:// and https:// only, not '\(url)'") }
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
        if port.isEmpty { return (String(host), url.hasPrefix("https://") ? 443 : 80) }
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

    struct WorkerResult: Sendable {
        var transitions = 0
        var starts = 0
        var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var errors: [String: Int] = [:]
        var retries: [String: Int] = [:]
        /// Open loop: the furthest behind the schedule a first attempt was sent.
        var maxLagNanos: Int64 = 0
    }
}
