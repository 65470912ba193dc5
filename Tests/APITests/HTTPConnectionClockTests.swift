@testable import API
import XCTest

/// The phases of one connection and the deadline each sets, on made-up times (ms → ns).
final class HTTPConnectionClockTests: XCTestCase {
    private let limits = HTTPListenerLimits(requestHeadTimeoutMillis: 10_000, bodyReadTimeoutMillis: 30_000,
                                            idleTimeoutMillis: 60_000)

    private func ms(_ value: UInt64) -> UInt64 { value * 1_000_000 }

    func testTheHeadDeadlineRunsFromTheOpeningWhateverArrives() {
        var clock = HTTPConnectionClock(limits: limits, openedAtNanos: ms(1_000))
        XCTAssertEqual(clock.nextDeadline?.timeout, .head)
        XCTAssertEqual(clock.nextDeadline?.atNanos, ms(11_000))
        // A trickle of bytes does not move it.
        for t in stride(from: UInt64(2_000), through: 9_000, by: 1_000) { clock.bytesArrived(atNanos: ms(t)) }
        XCTAssertEqual(clock.nextDeadline?.atNanos, ms(11_000))
        XCTAssertEqual(clock.turn, .waitingForHead(sinceNanos: ms(1_000)))
    }

    func testABodyMustKeepMovingWhileTheServerReads() {
        var clock = HTTPConnectionClock(limits: limits, openedAtNanos: 0)
        clock.headRead(atNanos: ms(100))
        XCTAssertEqual(clock.turn, .readingBody(sinceNanos: ms(100)))
        XCTAssertEqual(clock.nextDeadline?.timeout, .body)
        XCTAssertEqual(clock.nextDeadline?.atNanos, ms(30_100))
        clock.bytesArrived(atNanos: ms(5_000))
        XCTAssertEqual(clock.nextDeadline?.atNanos, ms(35_000))
        // The server stops asking for bytes (its handler is busy): no deadline…
        clock.readCompleted()
        XCTAssertNil(clock.nextDeadline)
        XCTAssertEqual(clock.turn, .answering)
        // …until it asks again, which restarts the stall clock.
        clock.readRequested(atNanos: ms(50_000))
        XCTAssertEqual(clock.nextDeadline?.atNanos, ms(80_000))
    }

    func testNoTimeoutWhileTheServerAnswersThenIdleUntilTheNextByte() {
        var clock = HTTPConnectionClock(limits: limits, openedAtNanos: 0)
        clock.headRead(atNanos: ms(10))
        clock.endRead()
        XCTAssertNil(clock.nextDeadline, "the handler's own limits apply while it answers")
        XCTAssertEqual(clock.turn, .answering)
        clock.responseEnded(atNanos: ms(2_000))
        XCTAssertEqual(clock.turn, .waitingForHead(sinceNanos: ms(2_000)))
        XCTAssertEqual(clock.nextDeadline?.timeout, .idle)
        XCTAssertEqual(clock.nextDeadline?.atNanos, ms(62_000))
        clock.bytesArrived(atNanos: ms(40_000))
        XCTAssertEqual(clock.nextDeadline?.timeout, .head)
        XCTAssertEqual(clock.nextDeadline?.atNanos, ms(50_000))
    }

    func testAPipelinedHeadGetsItsDeadlineFromTheEndOfThePreviousResponse() {
        var clock = HTTPConnectionClock(limits: limits, openedAtNanos: 0)
        clock.headRead(atNanos: ms(10))
        clock.endRead()
        clock.bytesArrived(atNanos: ms(20))
        XCTAssertNil(clock.nextDeadline)
        clock.responseEnded(atNanos: ms(25_000))
        XCTAssertEqual(clock.nextDeadline?.timeout, .head)
        XCTAssertEqual(clock.nextDeadline?.atNanos, ms(35_000))
    }

    func testAClientThatStopsReadingItsAnswerRunsTheWriteTimeoutInAnyPhase() {
        var clock = HTTPConnectionClock(limits: limits, openedAtNanos: 0)
        clock.headRead(atNanos: ms(10))
        clock.endRead()
        XCTAssertNil(clock.nextDeadline)
        clock.writabilityChanged(writable: false, atNanos: ms(1_000))
        XCTAssertEqual(clock.nextDeadline?.timeout, .write)
        XCTAssertEqual(clock.nextDeadline?.atNanos, ms(31_000))
        // Still full later: the stall counts from when it began.
        clock.writabilityChanged(writable: false, atNanos: ms(5_000))
        XCTAssertEqual(clock.nextDeadline?.atNanos, ms(31_000))
        clock.writabilityChanged(writable: true, atNanos: ms(6_000))
        XCTAssertNil(clock.nextDeadline)
        // Waiting for the next head with the last answer stuck: whichever runs out first.
        clock.responseEnded(atNanos: ms(7_000))
        clock.writabilityChanged(writable: false, atNanos: ms(8_000))
        XCTAssertEqual(clock.nextDeadline?.timeout, .write)
        XCTAssertEqual(clock.nextDeadline?.atNanos, ms(38_000))
    }
}
