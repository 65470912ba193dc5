import Foundation

/// The figures of one bench run. `--json` prints it with these keys (snake_case); the
/// open-loop keys (`target_rate`, `scheduled_transitions`, `max_lag_ms`) are left out of a
/// closed-loop report.
public struct BenchReport: Sendable, Codable {
    /// The nodes driven.
    public var servers: [String]
    /// Concurrent clients (one connection each).
    public var clients: Int
    /// The workflow cycled through.
    public var workflow: String
    /// `closed` (each client sends when its last transition is answered) or `open` (sends
    /// are due at `targetRatePerSecond`).
    public var mode: String
    /// Open loop: the rate asked for, transitions per second in all.
    public var targetRatePerSecond: Double?
    /// From the start of the run (of the schedule, in an open loop) to the last answer, in seconds.
    public var elapsedSeconds: Double
    /// Transitions acknowledged.
    public var transitions = 0
    /// Open loop: transitions due within the duration (at most `--transitions-max`); fewer
    /// `transitions` than this means the clients or the cluster fell behind.
    public var scheduledTransitions: Int?
    /// Instances started.
    public var starts = 0
    /// Latency percentiles and maximum of acknowledged transitions, in microseconds; in an
    /// open loop measured from the time each was due, not from when it was sent.
    public var p50Micros = 0.0
    /// See `p50Micros`.
    public var p99Micros = 0.0
    /// See `p50Micros`.
    public var p999Micros = 0.0
    /// See `p50Micros`.
    public var maxMicros = 0.0
    /// Open loop: the furthest behind its due time any transition was first sent, in
    /// milliseconds (every client busy when it fell due); near 0 when the clients kept up.
    public var maxLagMillis: Double?
    /// Calls that failed in the end, by error code.
    public var errors: [String: Int] = [:]
    /// Attempts that were retried (same request id), by error code.
    public var retries: [String: Int] = [:]

    init(settings: BenchSettings, elapsedSeconds: Double) {
        servers = settings.servers
        clients = settings.clients
        workflow = settings.workflow
        mode = settings.ratePerSecond == nil ? "closed" : "open"
        targetRatePerSecond = settings.ratePerSecond
        self.elapsedSeconds = elapsedSeconds
    }

    /// Acknowledged transitions per second.
    public var transitionsPerSecond: Double { elapsedSeconds > 0 ? Double(transitions) / elapsedSeconds : 0 }

    enum CodingKeys: String, CodingKey {
        case servers, clients, workflow, mode, transitions, starts, errors, retries
        case targetRatePerSecond = "target_rate"
        case elapsedSeconds = "elapsed_seconds"
        case scheduledTransitions = "scheduled_transitions"
        case p50Micros = "p50_us"
        case p99Micros = "p99_us"
        case p999Micros = "p999_us"
        case maxMicros = "max_us"
        case maxLagMillis = "max_lag_ms"
    }

    /// A few lines for people.
    public var summary: String {
        func ms(_ micros: Double) -> String { String(format: "%.2f ms", micros / 1_000) }
        func list(_ counts: [String: Int]) -> String {
            counts.isEmpty ? "none" : counts.keys.sorted().map { "\($0) \(counts[$0]!)" }.joined(separator: ", ")
        }
        func rate(_ value: Double) -> String {
            value.rounded() == value && value < 1e15 ? String(Int64(value)) : String(value)
        }
        let loop = targetRatePerSecond.map { "open loop at \(rate($0))/s" } ?? "closed loop"
        let scheduled = scheduledTransitions.map { " of \($0) scheduled" } ?? ""
        let measured = targetRatePerSecond == nil ? "latency" : "latency from the due times"
        var lines = [
            "bench: \(loop), \(clients) client\(clients == 1 ? "" : "s"), \(servers.count) server\(servers.count == 1 ? "" : "s"), "
                + "workflow \(workflow), \(String(format: "%.1f", elapsedSeconds)) s",
            "transitions: \(transitions)\(scheduled) (\(String(format: "%.0f", transitionsPerSecond))/s), "
                + "instances started: \(starts)",
            "\(measured): p50 \(ms(p50Micros))  p99 \(ms(p99Micros))  p99.9 \(ms(p999Micros))  max \(ms(maxMicros))",
        ]
        if let maxLagMillis { lines.append("schedule: sent at most \(String(format: "%.2f", maxLagMillis)) ms after due") }
        lines.append("errors: \(list(errors))")
        lines.append("retries: \(list(retries))")
        return lines.joined(separator: "\n")
    }
}
