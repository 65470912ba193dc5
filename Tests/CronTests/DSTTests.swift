@testable import Cron
import XCTest

/// The three DST rules (docs/scheduling.md, "Daylight saving time"), in four zones.
final class DSTTests: XCTestCase {
    // MARK: Rule 1: a fixed time in a spring-forward gap fires once, right after the gap.

    func testFixedTimeInGapFiresAtFirstInstantAfterIt() {
        XCTAssertEqual(nextTimes("30 2 * * *", "America/New_York", from: "2026-03-07T12:00", count: 3),
                       ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"])
        XCTAssertEqual(nextTimes("0,30 2 * * *", "America/New_York", from: "2026-03-08T00:00", count: 2),
                       ["2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"])
        XCTAssertEqual(nextTimes("0 2,3 * * *", "America/New_York", from: "2026-03-08T00:00", count: 2),
                       ["2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"])
        XCTAssertEqual(nextTimes("15 2 * * *", "Europe/Berlin", from: "2026-03-29T00:00", count: 2),
                       ["2026-03-29T03:00:00+02:00", "2026-03-30T02:15:00+02:00"])
        XCTAssertEqual(previousTimes("30 2 * * *", "America/New_York", before: "2026-03-09T00:00", count: 2),
                       ["2026-03-08T03:00:00-04:00", "2026-03-07T02:30:00-05:00"])
    }

    func testLordHoweHalfHourGap() {
        // 02:00 +10:30 → 02:30 +11:00 on 2026-10-04: 02:00–02:29 do not exist.
        XCTAssertEqual(nextTimes("15 2 * * *", "Australia/Lord_Howe", from: "2026-10-04T00:00", count: 2),
                       ["2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"])
        // A fixed hour with a minute wildcard: the skipped half hour fires once at 02:30, then
        // every minute of the half hour that exists.
        XCTAssertEqual(nextTimes("* 2 * * *", "Australia/Lord_Howe", from: "2026-10-04T01:58", count: 3),
                       ["2026-10-04T02:30:00+11:00", "2026-10-04T02:31:00+11:00", "2026-10-04T02:32:00+11:00"])
        // Real time: the minutes of the missing half hour do not occur.
        XCTAssertEqual(nextTimes("*/10 * * * *", "Australia/Lord_Howe", from: "2026-10-04T01:45", count: 3),
                       ["2026-10-04T01:50:00+10:30", "2026-10-04T02:30:00+11:00", "2026-10-04T02:40:00+11:00"])
    }

    // MARK: Rule 2: a fixed time repeated by a fall-back fires once, at its first occurrence.

    func testFixedTimeRepeatedByFallBackFiresOnce() {
        // croniter fires this twice (01:30-04:00 and 01:30-05:00): the one documented difference.
        XCTAssertEqual(nextTimes("30 1 * * *", "America/New_York", from: "2026-10-31T12:00", count: 2),
                       ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"])
        // From inside the second copy of the hour: the first occurrence is past, so tomorrow.
        XCTAssertEqual(nextTimes("0 1 * * *", "America/New_York", from: "2026-11-01T01:30:00-05:00", count: 1),
                       ["2026-11-02T01:00:00-05:00"])
        XCTAssertEqual(nextTimes("30 2 * * *", "Europe/Berlin", from: "2026-10-25T00:00", count: 2),
                       ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"])
        XCTAssertEqual(previousTimes("30 1 * * *", "America/New_York", before: "2026-11-02T00:00", count: 2),
                       ["2026-11-01T01:30:00-04:00", "2026-10-31T01:30:00-04:00"])
    }

    func testLordHoweHalfHourFallBack() {
        // 02:00 +11:00 → 01:30 +10:30 on 2026-04-05: 01:30–01:59 happen twice.
        XCTAssertEqual(nextTimes("*/10 1 * * *", "Australia/Lord_Howe", from: "2026-04-05T01:20", count: 4),
                       ["2026-04-05T01:30:00+11:00", "2026-04-05T01:40:00+11:00", "2026-04-05T01:50:00+11:00",
                        "2026-04-06T01:00:00+10:30"])
        XCTAssertEqual(nextTimes("*/10 * * * *", "Australia/Lord_Howe", from: "2026-04-05T01:45", count: 4),
                       ["2026-04-05T01:50:00+11:00", "2026-04-05T01:30:00+10:30", "2026-04-05T01:40:00+10:30",
                        "2026-04-05T01:50:00+10:30"])
    }

    // MARK: Rule 3: a wildcard or stepped hour field follows real time.

    func testRealTimeSchedulesSkipGapsAndRepeatOverlaps() {
        XCTAssertEqual(nextTimes("0 */2 * * *", "America/New_York", from: "2026-03-07T23:10", count: 3),
                       ["2026-03-08T00:00:00-05:00", "2026-03-08T04:00:00-04:00", "2026-03-08T06:00:00-04:00"])
        XCTAssertEqual(nextTimes("30 * * * *", "America/New_York", from: "2026-03-08T00:10", count: 3),
                       ["2026-03-08T00:30:00-05:00", "2026-03-08T01:30:00-05:00", "2026-03-08T03:30:00-04:00"])
        XCTAssertEqual(nextTimes("*/30 * * * *", "America/New_York", from: "2026-11-01T00:10", count: 6),
                       ["2026-11-01T00:30:00-04:00", "2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00",
                        "2026-11-01T01:00:00-05:00", "2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00"])
        XCTAssertEqual(nextTimes("@hourly", "Europe/Berlin", from: "2026-10-25T01:30", count: 3),
                       ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00"])
        XCTAssertEqual(previousTimes("*/30 * * * *", "America/New_York", before: "2026-11-01T02:00:00-05:00", count: 4),
                       ["2026-11-01T01:30:00-05:00", "2026-11-01T01:00:00-05:00", "2026-11-01T01:30:00-04:00",
                        "2026-11-01T01:00:00-04:00"])
    }

    func testZoneWithoutDSTHasNoSurprises() {
        XCTAssertEqual(nextTimes("30 2 * * *", "Asia/Kolkata", from: "2026-03-08T00:00", count: 2),
                       ["2026-03-08T02:30:00+05:30", "2026-03-09T02:30:00+05:30"])
        XCTAssertEqual(nextTimes("0 0 1 1 *", "Asia/Kolkata", from: "2039-06-01T00:00", count: 1),
                       ["2040-01-01T00:00:00+05:30"])
    }
}
