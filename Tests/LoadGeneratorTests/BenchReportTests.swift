import Foundation
@testable import LoadGenerator
import XCTest

/// The report names its mode, and the open-loop figures appear only in an open-loop report.
final class BenchReportTests: XCTestCase {
    func testClosedLoopReportNamesItsModeAndLeavesOutTheSchedule() throws {
        var report = BenchReport(settings: BenchSettings(servers: ["http://127.0.0.1:8080"], clients: 2), elapsedSeconds: 2)
        report.transitions = 100
        XCTAssertEqual(report.summary.split(separator: "\n").first, "bench: closed loop, 2 clients, 1 server, workflow cookbook, 2.0 s")
        XCTAssertTrue(report.summary.contains("\ntransitions: 100 (50/s), instances started: 0\nlatency: p50"), report.summary)
        XCTAssertFalse(report.summary.contains("schedule"), report.summary)
        let keys = try Self.keys(report)
        XCTAssertEqual(keys["mode"] as? String, "closed")
        for absent in ["target_rate", "scheduled_transitions", "max_lag_ms"] { XCTAssertNil(keys[absent], absent) }
    }

    func testOpenLoopReportNamesTheRateTheScheduleAndTheLag() throws {
        let settings = BenchSettings(servers: ["http://127.0.0.1:8080"], clients: 64, ratePerSecond: 5_000)
        var report = BenchReport(settings: settings, elapsedSeconds: 10)
        report.transitions = 49_990
        report.scheduledTransitions = 50_000
        report.maxLagMillis = 3.25
        let lines = report.summary.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "bench: open loop at 5000/s, 64 clients, 1 server, workflow cookbook, 10.0 s")
        XCTAssertEqual(lines[1], "transitions: 49990 of 50000 scheduled (4999/s), instances started: 0")
        XCTAssertTrue(lines[2].hasPrefix("latency from the due times: p50 "), lines[2])
        XCTAssertEqual(lines[3], "schedule: sent at most 3.25 ms after due")
        let keys = try Self.keys(report)
        XCTAssertEqual(keys["mode"] as? String, "open")
        XCTAssertEqual(keys["target_rate"] as? Double, 5_000)
        XCTAssertEqual(keys["scheduled_transitions"] as? Int, 50_000)
        XCTAssertEqual(keys["max_lag_ms"] as? Double, 3.25)
        XCTAssertTrue(BenchReport(settings: BenchSettings(servers: ["x"], ratePerSecond: 2.5), elapsedSeconds: 1)
            .summary.hasPrefix("bench: open loop at 2.5/s"))
    }

    /// The report as `--json` prints it, as a dictionary.
    static func keys(_ report: BenchReport) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any] ?? [:]
    }
}
