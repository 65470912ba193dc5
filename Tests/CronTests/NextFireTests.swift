@testable import Cron
import XCTest

/// Fire times in UTC: month ends, leap years, the day-field rule, names, @every, previous().
final class NextFireTests: XCTestCase {
    func testEveryMinuteAndStrictlyAfter() {
        XCTAssertEqual(nextTimes("* * * * *", from: "2026-01-01T00:00:00Z", count: 2),
                       ["2026-01-01T00:01:00+00:00", "2026-01-01T00:02:00+00:00"])
        XCTAssertEqual(nextTimes("* * * * *", from: "2026-01-01T00:00:59.999Z", count: 1), ["2026-01-01T00:01:00+00:00"])
        XCTAssertEqual(nextTimes("* * * * *", from: "2026-01-01T00:00:00.001Z", count: 1), ["2026-01-01T00:01:00+00:00"])
    }

    func testMonthEndsAndLeapYears() {
        XCTAssertEqual(nextTimes("0 0 31 * *", from: "2026-01-31T00:00:00Z", count: 3),
                       ["2026-03-31T00:00:00+00:00", "2026-05-31T00:00:00+00:00", "2026-07-31T00:00:00+00:00"])
        XCTAssertEqual(nextTimes("0 0 29 2 *", from: "2027-01-01T00:00:00Z", count: 2),
                       ["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"])
        XCTAssertEqual(nextTimes("0 12 28-31 2 *", from: "2100-02-27T00:00:00Z", count: 2),
                       ["2100-02-28T12:00:00+00:00", "2101-02-28T12:00:00+00:00"])
        XCTAssertEqual(nextTimes("59 23 31 12 *", from: "2026-06-01T00:00:00Z", count: 1), ["2026-12-31T23:59:00+00:00"])
    }

    func testNeverFiringExpressionsAnswerNil() throws {
        XCTAssertNil(try CronSchedule("0 0 30 2 *").next(after: 0))
        XCTAssertNil(try CronSchedule("0 0 31 4,6,9,11 *").next(after: 0))
        XCTAssertNil(try CronSchedule("0 0 30 2 *").previous(before: 1_780_000_000_000))
    }

    func testDayOfMonthOrDayOfWeek() {
        // The 13th or any Friday (2026-02-13 is a Friday).
        XCTAssertEqual(nextTimes("0 0 13 * FRI", from: "2026-02-01T00:00:00Z", count: 4),
                       ["2026-02-06T00:00:00+00:00", "2026-02-13T00:00:00+00:00",
                        "2026-02-20T00:00:00+00:00", "2026-02-27T00:00:00+00:00"])
        // Restricted day-of-week only: Mondays.
        XCTAssertEqual(nextTimes("0 9 * * 1", from: "2026-03-01T00:00:00Z", count: 2),
                       ["2026-03-02T09:00:00+00:00", "2026-03-09T09:00:00+00:00"])
        // The 1st, or a Sunday: `*/2` in day-of-week is restricted, so OR.
        XCTAssertEqual(nextTimes("0 0 1 * */7", from: "2026-03-01T00:00:00Z", count: 3),
                       ["2026-03-08T00:00:00+00:00", "2026-03-15T00:00:00+00:00", "2026-03-22T00:00:00+00:00"])
    }

    func testSundayAsZeroOrSevenAndNames() {
        let sundays = ["2026-03-01T00:00:00+00:00", "2026-03-08T00:00:00+00:00"]
        XCTAssertEqual(nextTimes("0 0 * * 0", from: "2026-02-28T00:00:00Z", count: 2), sundays)
        XCTAssertEqual(nextTimes("0 0 * * 7", from: "2026-02-28T00:00:00Z", count: 2), sundays)
        XCTAssertEqual(nextTimes("0 0 * * sun", from: "2026-02-28T00:00:00Z", count: 2), sundays)
        XCTAssertEqual(nextTimes("0 0 1 jul,DEC *", from: "2026-02-28T00:00:00Z", count: 2),
                       ["2026-07-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00"])
    }

    func testMacros() {
        XCTAssertEqual(nextTimes("@yearly", from: "2026-05-05T00:00:00Z", count: 1), ["2027-01-01T00:00:00+00:00"])
        XCTAssertEqual(nextTimes("@monthly", from: "2026-05-05T00:00:00Z", count: 1), ["2026-06-01T00:00:00+00:00"])
        XCTAssertEqual(nextTimes("@weekly", from: "2026-05-05T00:00:00Z", count: 1), ["2026-05-10T00:00:00+00:00"])
        XCTAssertEqual(nextTimes("@hourly", from: "2026-05-05T10:00:00Z", count: 1), ["2026-05-05T11:00:00+00:00"])
    }

    func testEverySlotsFollowTheAnchor() throws {
        let schedule = try CronSchedule("@every 90s")
        let anchor = ms("2026-01-01T00:00:10Z")
        XCTAssertEqual(schedule.next(after: anchor, anchorMillis: anchor), anchor + 90_000)
        XCTAssertEqual(schedule.next(after: anchor + 89_999, anchorMillis: anchor), anchor + 90_000)
        XCTAssertEqual(schedule.next(after: anchor + 90_000, anchorMillis: anchor), anchor + 180_000)
        // Before the anchor: the first slot after it.
        XCTAssertEqual(schedule.next(after: anchor - 1_000_000, anchorMillis: anchor), anchor + 90_000)
        XCTAssertNil(schedule.previous(before: anchor + 90_000, anchorMillis: anchor))
        XCTAssertEqual(schedule.previous(before: anchor + 90_001, anchorMillis: anchor), anchor + 90_000)
        XCTAssertEqual(schedule.previous(before: anchor + 1_000_000, anchorMillis: anchor), anchor + 990_000)
        // Without an anchor: multiples of the interval since the epoch.
        XCTAssertEqual(try CronSchedule("@every 1h").next(after: ms("2026-01-01T10:20:00Z")), ms("2026-01-01T11:00:00Z"))
        XCTAssertNil(try CronSchedule("@every 1h").next(after: .max - 10))
    }

    func testPreviousMirrorsNext() {
        XCTAssertEqual(previousTimes("0 0 29 2 *", before: "2029-01-01T00:00:00Z", count: 1), ["2028-02-29T00:00:00+00:00"])
        XCTAssertEqual(previousTimes("*/15 * * * *", before: "2026-01-01T00:00:00Z", count: 3),
                       ["2025-12-31T23:45:00+00:00", "2025-12-31T23:30:00+00:00", "2025-12-31T23:15:00+00:00"])
        XCTAssertEqual(previousTimes("0 0 13 * FRI", before: "2026-02-14T00:00:00Z", count: 2),
                       ["2026-02-13T00:00:00+00:00", "2026-02-06T00:00:00+00:00"])
        XCTAssertEqual(previousTimes("0 0 * * *", before: "2026-03-01T00:00:00.001Z", count: 1), ["2026-03-01T00:00:00+00:00"])
    }

    /// previous(next(t)) and next(previous(t)) agree over random expressions, in DST zones too.
    func testPreviousAndNextAreInverseOnRandomSchedules() throws {
        var random = SeededRandom(seed: 7)
        for index in 0..<600 {
            let zone = DifferentialTests.zones[index % DifferentialTests.zones.count]
            let c = DifferentialTests.randomCase(&random)
            let schedule = try CronSchedule(c.expression, timeZone: zone)
            var t = c.fromMillis
            for _ in 0..<4 {
                guard let n = schedule.next(after: t) else { break }
                if let p = schedule.previous(before: n), p > t {
                    XCTFail("\(c.expression) in \(zone): previous(before: next(after: \(t)) = \(n)) = \(p) is after \(t)")
                }
                XCTAssertEqual(schedule.next(after: n - 1), n, "\(c.expression) in \(zone)")
                if let p = schedule.previous(before: n) { XCTAssertEqual(schedule.next(after: p), n, "\(c.expression) in \(zone) at \(p)") }
                t = n
            }
        }
    }
}
