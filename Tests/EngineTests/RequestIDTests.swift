import XCTest
@testable import Engine
import Workflow

final class RequestIDTests: XCTestCase {
    func testRetryReturnsTheOriginalOutcomeAndChangesNothing() {
        var h = Harness()
        h.start("order", id: "o")
        let first = h.move("o", "pay", requestID: "req-1")
        let snapshotAfterFirst = h.state.snapshot()
        let retry = h.move("o", "pay", requestID: "req-1")
        XCTAssertEqual(retry, first)
        XCTAssertEqual(h.state.instance(id: "o")?.revision, 2)
        XCTAssertEqual(h.state.history(of: "o")?.entries.count, 2)
        // Nothing but the applied index and engine clock moved.
        var expected = try! EngineState(restoring: snapshotAfterFirst)
        expected.appliedIndex = h.state.appliedIndex
        expected.clockMillis = h.state.clockMillis
        XCTAssertEqual(expected.snapshot(), h.state.snapshot())
    }

    func testRetryOfARejectionReturnsTheRejection() {
        var h = Harness()
        h.start("order", id: "o")
        let first = h.move("o", "ship", requestID: "req-1")
        XCTAssertEqual(first.rejection?.code, "transition_not_allowed")
        h.move("o", "pay")
        h.move("o", "ship")
        XCTAssertEqual(h.move("o", "ship", requestID: "req-1"), first)
    }

    func testStartRetryReturnsStartedNotExists() {
        var h = Harness()
        let first = h.start("order", id: "o", requestID: "s-1")
        XCTAssertEqual(h.start("order", id: "o", requestID: "s-1"), first)
        XCTAssertEqual(h.start("order", id: "o", requestID: "s-2").rejection, .instanceExists(id: "o"))
    }

    func testRetryStampedAtAnotherTimeIsStillARetry() {
        var h = Harness()
        h.start("order", id: "o")
        let command = Command.transition(TransitionRequest(instance: "o", name: "pay", requestID: "r"))
        let first = h.state.apply(index: 10, bytes: command.stamped(atMillis: h.nowMillis).encoded())
        let second = h.state.apply(index: 11, bytes: command.stamped(atMillis: h.nowMillis + 5_000).encoded())
        XCTAssertEqual(first.outcome, second.outcome)
        XCTAssertFalse(first.effects.isEmpty)
        XCTAssertEqual(second.effects, [], "a retried request id does nothing the second time, so it has no effects")
    }

    func testReusedIdForADifferentRequestIsAConflict() {
        var h = Harness()
        h.start("order", id: "o")
        h.move("o", "pay", requestID: "req-1")
        XCTAssertEqual(h.move("o", "cancel", requestID: "req-1").rejection, .requestIDConflict(requestID: "req-1"))
        XCTAssertEqual(h.move("o", "pay", data: ["x": .number(1)], requestID: "req-1").rejection?.code, "request_id_conflict")
        XCTAssertEqual(h.state.instance(id: "o")?.state, "paid")
    }

    func testInvalidRequestIdIsRejected() {
        var h = Harness()
        XCTAssertEqual(h.start("order", id: "o", requestID: "bad id").rejection?.code, "invalid_argument")
        XCTAssertEqual(h.state.instanceCount, 0)
        XCTAssertEqual(h.state.requestIDCount, 0)
    }

    func testOldestIdsAreForgottenPastTheCount() {
        var h = Harness(settings: EngineSettings(requestIDsMax: 3))
        h.start("cookbook", id: "c")
        for (number, name) in ["second", "third", "first", "second"].enumerated() {
            h.move("c", name, requestID: "r\(number)")
        }
        XCTAssertEqual(h.state.requestIDCount, 3)
        XCTAssertNil(h.state.outcome(forRequestID: "r0"))
        XCTAssertNotNil(h.state.outcome(forRequestID: "r1"))
        // r0 is forgotten: the same request now applies again.
        XCTAssertEqual(h.move("c", "second", requestID: "r0").rejection?.code, "transition_not_allowed")
    }

    func testIdsAreForgottenAfterTheRetentionWindow() {
        var h = Harness(settings: EngineSettings(requestIDRetentionMillis: 10_000))
        h.stepMillis = 1_000
        h.start("cookbook", id: "c", requestID: "old")
        let recordedAt = h.nowMillis
        // Exactly at the window's end the id is still retained…
        h.nowMillis = recordedAt + 10_000 - h.stepMillis
        h.move("c", "second")
        XCTAssertNotNil(h.state.outcome(forRequestID: "old"))
        // …one millisecond later it is gone.
        h.nowMillis = recordedAt + 10_001 - h.stepMillis
        h.move("c", "third")
        XCTAssertNil(h.state.outcome(forRequestID: "old"))
        XCTAssertEqual(h.state.requestIDCount, 0)
    }

    func testEngineClockNeverGoesBack() {
        var h = Harness()
        h.start("cookbook", id: "c")
        let high = h.state.clockMillis
        // A new leader with a clock 1 minute behind.
        h.nowMillis -= 60_000
        h.move("c", "second")
        XCTAssertEqual(h.state.clockMillis, high)
        XCTAssertEqual(h.state.history(of: "c")?.entries.last?.timeMillis, high)
    }

    func testManyIdsStayBoundedAndConsistent() {
        var h = Harness(settings: EngineSettings(requestIDsMax: 500))
        h.start("cookbook", id: "c")
        let ring = ["second", "third", "first"]
        for number in 0..<5_000 { h.move("c", ring[number % 3], requestID: "r\(number)") }
        XCTAssertEqual(h.state.requestIDCount, 500)
        XCTAssertNotNil(h.state.outcome(forRequestID: "r4999"))
        XCTAssertNil(h.state.outcome(forRequestID: "r4499"))
        XCTAssertNotNil(h.state.outcome(forRequestID: "r4500"))
        let restored = try! EngineState(restoring: h.state.snapshot(), settings: h.state.settings)
        XCTAssertEqual(restored.snapshot(), h.state.snapshot())
    }
}
