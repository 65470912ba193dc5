import ArgumentParser
import Client
import Foundation
import LoadGenerator

/// `orchestrator bench [--server URL ...] [--clients N] [--duration SECONDS] [--workflow NAME] [--rate R]`
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Drive running nodes with concurrent clients and report throughput and latency.",
        discussion: """
            Each client starts its own instance and cycles it through the workflow (for the \
            cookbook: first → second → third → first) with submit, until --duration or \
            --transitions-max. Prints acknowledged transitions/s, p50/p99/p99.9 latency \
            (HdrHistogram) and errors by code. Loopback servers only; start a cluster with \
            `orchestrator dev --nodes 3` and register the workflow first.

            Without --rate each client sends its next transition when the last is answered \
            (a closed loop). With --rate R, R transitions a second in all are due at fixed \
            times, sent by whichever client is free (an open loop); latency counts from the \
            time each was due, so a stalled server shows in the percentiles, and the report \
            says how far behind the schedule the clients fell (max lag).

            Exit status: 0 ok, 2 bad settings, 3 cluster unavailable.

            Examples:
              orchestrator bench --clients 64 --duration 10
              orchestrator bench --server http://127.0.0.1:8080 --server http://127.0.0.1:8081 --clients 16
              orchestrator bench --clients 64 --rate 5000 --duration 30
            """
    )

    @Option(name: .customLong("server"), help: ArgumentHelp(
        "A node to drive; repeat for several (default: $ORCHESTRATOR_ADDR, else \(ClientOptions.defaultAddress)).",
        valueName: "url"))
    var servers: [String] = []

    @Option(help: "Concurrent clients, 1 to \(BenchSettings.clientsMax).")
    var clients = 1

    @Option(help: "How long to run, in seconds.")
    var duration = 10.0

    @Option(help: "The workflow to cycle instances through.")
    var workflow = "cookbook"

    @Option(help: "Stop after this many transitions in all.")
    var transitionsMax = 100_000_000

    @Option(help: ArgumentHelp(
        "Open loop: transitions per second in all, due at fixed times, latency from the due time "
            + "(more than 0, at most \(Int(BenchSettings.ratePerSecondMax))). Default: a closed loop.",
        valueName: "per-second"))
    var rate: Double?

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(name: .customLong("token-file"), help: ArgumentHelp(
        "A file with the API token to send (a submit token); default: $ORCHESTRATOR_TOKEN.", valueName: "path"))
    var tokenFile: String?

    @OptionGroup var tls: TLSClientOptions

    func run() async throws {
        var targets = servers
        if targets.isEmpty {
            let env = ProcessInfo.processInfo.environment["ORCHESTRATOR_ADDR"] ?? ""
            targets = [env.isEmpty ? ClientOptions.defaultAddress : env]
        }
        let token = try ClientOptions.token(file: tokenFile)
        var settings = BenchSettings(servers: targets, clients: clients, durationSeconds: duration, workflow: workflow,
                                     transitionsMax: transitionsMax, ratePerSecond: rate, token: token)
        settings.tls = try tls.configuration()
        let report: BenchReport
        do {
            report = try await Bench.run(settings)
        } catch let error as BenchError {
            throw ValidationError(error.description)
        } catch let error as ClientError {
            printError("error: bench could not start: \(error)")
            throw ExitCode(ClientOptions.exitStatus(for: error))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.summary)
        }
    }
}
