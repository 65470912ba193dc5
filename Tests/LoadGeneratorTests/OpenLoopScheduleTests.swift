@testable import LoadGenerator
import XCTest

/// The open-loop arithmetic, without a server: when each ticket is due, how many fall due in
/// a run, and latency and lag counted from the due time.
final class OpenLoopScheduleTests: XCTestCase {
    func testTicketsAreDueEveryOneOverRateSecondsFromTheOrigin() {
        let schedule = OpenLoopSchedule(ratePerSecond: 1_000)
        XCTAssertEqual((0..<5).map { schedule.intendedNanos(ticket: $0) }, [0, 1_000_000, 2_000_000, 3_000_000, 4_000_000])
        XCTAssertEqual(OpenLoopSchedule(ratePerSecond: 0.5).intendedNanos(ticket: 3), 6_000_000_000)
        XCTAssertEqual(OpenLoopSchedule(ratePerSecond: 3).intendedNanos(ticket: 1), 333_333_333, "rounded down to the ns")
    }

    func testDueTimesDoNotDriftOverALongRun() {
        let schedule = OpenLoopSchedule(ratePerSecond: 1_000_000)
        XCTAssertEqual(schedule.intendedNanos(ticket: 3_600_000_000), 3_600_000_000_000, "an hour at the highest rate")
        let thirds = OpenLoopSchedule(ratePerSecond: 3)
        XCTAssertEqual(thirds.intendedNanos(ticket: 3 * 3_600), 3_600_000_000_000)
    }

    func testTicketsDueWithinADurationCountTheStartButNotTheEnd() {
        let schedule = OpenLoopSchedule(ratePerSecond: 200)
        XCTAssertEqual(schedule.ticketsDue(withinNanos: 1_000_000_000), 200, "0 s … 0.995 s")
        XCTAssertEqual(schedule.ticketsDue(withinNanos: 1_000_000_001), 201, "and the one due at exactly 1 s")
        XCTAssertEqual(schedule.ticketsDue(withinNanos: 1), 1, "ticket 0 is due at once")
        XCTAssertEqual(schedule.ticketsDue(withinNanos: 0), 0)
        XCTAssertEqual(OpenLoopSchedule(ratePerSecond: 3).ticketsDue(withinNanos: 10_000_000_000), 30)
        XCTAssertEqual(OpenLoopSchedule(ratePerSecond: 0.25).ticketsDue(withinNanos: 10_000_000_000), 3, "0, 4 and 8 s")
    }

    func testLatencyCountsFromTheDueTimeNotTheSendTime() {
        let schedule = OpenLoopSchedule(ratePerSecond: 100)   // ticket 10 is due at 100 ms
        // A server stall: ticket 10 could only be sent at 600 ms and was answered at 602 ms.
        XCTAssertEqual(schedule.lagNanos(ticket: 10, sentNanos: 600_000_000), 500_000_000)
        XCTAssertEqual(schedule.latencyNanos(ticket: 10, answeredNanos: 602_000_000), 502_000_000,
                       "the 500 ms it waited count, not only the 2 ms on the wire")
        // On time: sent when due, no lag; latency is the answer's time alone.
        XCTAssertEqual(schedule.lagNanos(ticket: 10, sentNanos: 100_000_000), 0)
        XCTAssertEqual(schedule.latencyNanos(ticket: 10, answeredNanos: 103_000_000), 3_000_000)
        // Never negative (a clock read before the due time).
        XCTAssertEqual(schedule.lagNanos(ticket: 10, sentNanos: 99_000_000), 0)
        XCTAssertEqual(schedule.latencyNanos(ticket: 10, answeredNanos: 0), 0)
    }
}
