@testable import Cron
import XCTest

/// next() must keep up with 10,000 triggers a second with room to spare.
final class PerformanceTests: XCTestCase {
    func testNextIsFast() throws {
        let cases = [("*/5 * * * *", "UTC"), ("30 2 * * *", "America/New_York"), ("0 9 * * MON-FRI", "Europe/Berlin"),
                     ("0 0 29 2 *", "UTC"), ("15 1 13 * FRI", "Australia/Lord_Howe"), ("@every 90s", "UTC")]
        var report: [String] = []
        for (expression, zone) in cases {
            let schedule = try CronSchedule(expression, timeZone: zone)
            let rounds = 20_000
            var t: Int64 = 1_780_000_000_000
            var sum: Int64 = 0
            let start = ContinuousClock.now
            for _ in 0..<rounds {
                let n = schedule.next(after: t) ?? 0
                sum &+= n
                t += 3_600_000 * 7 + 13_000
            }
            let elapsed = ContinuousClock.now - start
            let nanos = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            report.append("\(expression) in \(zone): \(Int(nanos / Double(rounds))) ns")
            XCTAssertNotEqual(sum, 0)
            // Generous for a debug build on a loaded CI machine; release is far below.
            XCTAssertLessThan(nanos / Double(rounds), 100_000, expression)
        }
        print("next() per call: " + report.joined(separator: "; "))
    }
}
