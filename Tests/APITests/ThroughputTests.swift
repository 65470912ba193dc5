@testable import API
import Client
import Engine
import Foundation
import HummingbirdTesting
import LoadGenerator
import XCTest

/// The API and engine without Raft: a live loopback server over `TwinConsensus` driven by
/// `Bench`. Skipped unless `ORCH_API_PERF=1` (figures in docs/performance.md, "HTTP API");
/// run with `ORCH_API_PERF=1 swift test -c release --filter ThroughputTests`.
final class ThroughputTests: XCTestCase {
    func testThroughputOfTheAPIWithoutRaft() async throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["ORCH_API_PERF"] == "1", "set ORCH_API_PERF=1 to measure")
        let seconds = Double(ProcessInfo.processInfo.environment["ORCH_API_PERF_SECONDS"] ?? "5") ?? 5
        try await Fixture().live { raw in
            let url = "http://localhost:\(raw.port!)"
            let client = OrchestratorClient(baseURL: url)
            _ = try await client.applyWorkflow(name: "cookbook", yaml: Definitions.cookbook)
            try await client.shutdown()
            for clients in [1, 16, 64] {
                let before = Self.cpuMicros()
                let report = try await Bench.run(BenchSettings(servers: [url], clients: clients, durationSeconds: seconds))
                let cpu = Self.cpuMicros() - before
                print(report.summary)
                print(String(format: "process CPU (server + load generator): %.1f µs per transition",
                             Double(cpu) / Double(max(report.transitions, 1))))
                XCTAssertEqual(report.errors, [:])
            }
        }
    }

    static func cpuMicros() -> Int64 {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int64(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000
            + Int64(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
    }
}
