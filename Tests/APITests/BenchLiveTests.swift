import Client
import LoadGenerator
import XCTest

/// `Bench` against a live API node on loopback, closed and open loop.
final class BenchLiveTests: XCTestCase {
    func testBenchCyclesInstancesAndReportsLatency() async throws {
        try await withCookbook { url in
            let report = try await Bench.run(BenchSettings(servers: [url], clients: 4, durationSeconds: 5, transitionsMax: 200))
            XCTAssertEqual(report.transitions, 200)
            XCTAssertEqual(report.starts, 4)
            XCTAssertEqual(report.errors, [:])
            XCTAssertGreaterThan(report.p99Micros, 0)
            XCTAssertTrue(report.summary.contains("transitions: 200"), report.summary)
            XCTAssertEqual(report.mode, "closed")
            XCTAssertNil(report.maxLagMillis)
        }
    }

    func testOpenLoopBenchSendsOnScheduleAndReportsTheLag() async throws {
        try await withCookbook { url in
            let settings = BenchSettings(servers: [url], clients: 4, durationSeconds: 1, ratePerSecond: 200)
            let report = try await Bench.run(settings)
            XCTAssertEqual(report.mode, "open")
            XCTAssertEqual(report.targetRatePerSecond, 200)
            XCTAssertEqual(report.scheduledTransitions, 200, "one second at 200/s")
            XCTAssertEqual(report.starts, 4, "every client started its instance before the schedule")
            XCTAssertEqual(report.errors, [:])
            XCTAssertGreaterThan(report.transitions, 100, report.summary)
            XCTAssertLessThanOrEqual(report.transitions, 200, "never more than scheduled")
            XCTAssertNotNil(report.maxLagMillis)
            XCTAssertTrue(report.summary.hasPrefix("bench: open loop at 200/s, 4 clients"), report.summary)
            XCTAssertTrue(report.summary.contains("of 200 scheduled"), report.summary)
        }
    }

    /// One client asked for far more than it can send: the tickets it could not send on time
    /// count their wait, so the percentiles show the queue instead of hiding it.
    func testOpenLoopBeyondWhatTheClientsCanSendCountsTheQueueInTheLatency() async throws {
        try await withCookbook { url in
            let report = try await Bench.run(BenchSettings(servers: [url], clients: 1, durationSeconds: 0.5,
                                                           ratePerSecond: 100_000))
            XCTAssertEqual(report.scheduledTransitions, 50_000)
            XCTAssertLessThan(report.transitions, 50_000, report.summary)
            XCTAssertGreaterThan(report.maxLagMillis ?? 0, 100, report.summary)
            XCTAssertGreaterThan(report.p99Micros, 50_000, "late tickets count from their due time: \(report.summary)")
        }
    }

    /// Runs `body` with the URL of a live node that has the cookbook registered.
    private func withCookbook(_ body: @escaping @Sendable (String) async throws -> Void) async throws {
        try await Fixture().live { raw in
            let url = "http://localhost:\(raw.port!)"
            let client = OrchestratorClient(baseURL: url)
            _ = try await client.applyWorkflow(name: "cookbook", yaml: Definitions.cookbook)
            try await client.shutdown()
            try await body(url)
        }
    }
}
