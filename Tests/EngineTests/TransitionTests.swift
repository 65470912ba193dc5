import XCTest
@testable import Engine
import Workflow

final class TransitionTests: XCTestCase {
    private func started() -> Harness {
        var h = Harness()
        h.start("order", id: "o-17")
        return h
    }

    func testTransitionByName() {
        var h = started()
        let outcome = h.move("o-17", "pay", requestID: "r-pay")
        XCTAssertEqual(outcome, .transitioned(Transitioned(id: "o-17", transition: "pay", from: "created", to: "paid",
                                                           revision: 2, index: 4)))
        XCTAssertEqual(outcome.transitioned?.state, "paid")
        let instance = h.state.instance(id: "o-17")
        XCTAssertEqual(instance?.state, "paid")
        XCTAssertEqual(instance?.revision, 2)
        XCTAssertEqual(instance?.updatedIndex, 4)
        XCTAssertEqual(instance?.updatedAtMillis, h.nowMillis)
        XCTAssertEqual(h.state.history(of: "o-17")?.entries.last,
                       HistoryEntry(kind: .transition, index: 4, timeMillis: h.nowMillis, from: "created", to: "paid",
                                    transition: "pay", requestID: "r-pay", revision: 2))
    }

    func testTransitionByTargetState() {
        var h = started()
        XCTAssertEqual(h.move("o-17", to: "paid").transitioned?.transition, "pay")
    }

    func testNameAndMatchingTargetAreAccepted() {
        var h = started()
        XCTAssertEqual(h.move("o-17", "pay", to: "paid").transitioned?.to, "paid")
    }

    func testNameAndDifferentTargetAreRejected() {
        var h = started()
        XCTAssertEqual(h.move("o-17", "pay", to: "shipped").rejection?.code, "invalid_argument")
        XCTAssertEqual(h.state.instance(id: "o-17")?.state, "created")
    }

    func testNeitherNameNorTargetIsRejected() {
        var h = started()
        XCTAssertEqual(h.move("o-17").rejection?.code, "invalid_argument")
    }

    func testTransitionNotAllowedListsTheAllowedOnes() {
        var h = started()
        let rejection = h.move("o-17", "ship").rejection
        XCTAssertEqual(rejection, .transitionNotAllowed(instance: "o-17", state: "created", transition: "ship", to: nil,
                                                        allowed: ["pay", "cancel", "touch"]))
        XCTAssertEqual(rejection?.code, "transition_not_allowed")
        XCTAssertEqual(rejection?.category, .conflict)
        XCTAssertEqual(rejection?.details["allowed"], .array([.string("pay"), .string("cancel"), .string("touch")]))
        XCTAssertEqual(h.state.instance(id: "o-17")?.revision, 1)
    }

    func testNoTransitionToTheTargetState() {
        var h = started()
        XCTAssertEqual(h.move("o-17", to: "delivered").rejection,
                       .transitionNotAllowed(instance: "o-17", state: "created", transition: nil, to: "delivered",
                                             allowed: ["pay", "cancel", "touch"]))
    }

    func testUnknownTransitionAndState() {
        var h = started()
        XCTAssertEqual(h.move("o-17", "fly").rejection,
                       .unknownTransition(instance: "o-17", name: "fly", allowed: ["pay", "cancel", "touch"]))
        XCTAssertEqual(h.move("o-17", to: "moon").rejection,
                       .unknownState(instance: "o-17", state: "moon", allowed: ["paid", "cancelled", "created"]))
    }

    func testAmbiguousTargetListsTheCandidates() {
        var h = started()
        h.move("o-17", "pay")
        h.move("o-17", "ship")
        XCTAssertEqual(h.move("o-17", to: "delivered").rejection,
                       .ambiguousTransition(instance: "o-17", state: "shipped", to: "delivered", candidates: ["deliver", "hand-over"]))
        XCTAssertEqual(h.move("o-17", "hand-over").transitioned?.to, "delivered")
    }

    func testStarTransitionLeavesEveryNonFinalState() {
        for path in [[String](), ["pay"], ["pay", "ship"], ["pay", "ship", "escalate"]] {
            var h = started()
            for step in path { XCTAssertNotNil(h.move("o-17", step).transitioned) }
            XCTAssertEqual(h.move("o-17", "cancel").transitioned?.to, "cancelled", "after \(path)")
        }
    }

    func testFinalStateRejectsEverything() {
        var h = started()
        h.move("o-17", "cancel")
        XCTAssertEqual(h.state.instance(id: "o-17")?.isFinal, true)
        XCTAssertEqual(h.move("o-17", "cancel").rejection, .instanceFinal(id: "o-17", state: "cancelled"))
        XCTAssertEqual(h.move("o-17", to: "created").rejection?.code, "instance_final")
    }

    func testSelfLoopTransitionBumpsRevision() {
        var h = started()
        let outcome = h.move("o-17", "touch")
        XCTAssertEqual(outcome.transitioned?.from, "created")
        XCTAssertEqual(outcome.transitioned?.to, "created")
        XCTAssertEqual(h.state.instance(id: "o-17")?.revision, 2)
    }

    func testExpectationIsCheckedFirst() {
        var h = started()
        XCTAssertEqual(h.move("o-17", "pay", expect: "paid").rejection,
                       .expectationFailed(instance: "o-17", expected: "paid", actual: "created"))
        XCTAssertEqual(h.move("o-17", "pay", expect: "created").transitioned?.to, "paid")
        h.move("o-17", "cancel")
        // Even on a final instance, a failed expectation reports the actual state.
        XCTAssertEqual(h.move("o-17", "pay", expect: "paid").rejection?.code, "expectation_failed")
    }

    func testUnknownInstance() {
        var h = started()
        XCTAssertEqual(h.move("o-404", "pay").rejection, .unknownInstance(id: "o-404"))
        XCTAssertEqual(h.move("o-404", "pay").rejection?.category, .notFound)
    }

    func testDataPatchIsAShallowMerge() {
        var h = Harness()
        h.start("order", id: "o", data: ["address": .object(["city": .string("Oslo"), "zip": .string("0150")])])
        h.move("o", "pay", data: ["address": .object(["city": .string("Bergen")]), "paid": .bool(true), "items": .null])
        XCTAssertEqual(h.state.instance(id: "o")?.data, [
            "priority": .string("normal"),
            "address": .object(["city": .string("Bergen")]),
            "paid": .bool(true),
        ])
    }

    func testRejectedTransitionDoesNotApplyItsPatch() {
        var h = started()
        h.move("o-17", "ship", data: ["x": .number(1)])
        XCTAssertNil(h.state.instance(id: "o-17")?.data["x"])
    }

    func testOversizedPatchIsRejected() {
        var h = Harness(settings: EngineSettings(instanceDataBytesMax: 200))
        h.start("order", id: "o")
        XCTAssertEqual(h.move("o", "pay", data: ["blob": .string(String(repeating: "y", count: 300))]).rejection?.code, "invalid_data")
        XCTAssertEqual(h.state.instance(id: "o")?.state, "created")
    }

    func testInstancesFollowTheirPinnedVersion() {
        // Version 2 drops 'touch'; instances of version 1 keep it.
        let v2 = load(orderYAML.replacingOccurrences(of: "  touch: { from: [created, paid], to: created }\n", with: ""))
        var h = Harness(workflows: [orderDefinition])
        h.start("order", id: "v1")
        h.register(v2)
        h.start("order", id: "v2")
        XCTAssertNotNil(h.move("v1", "touch").transitioned)
        XCTAssertEqual(h.move("v2", "touch").rejection?.code, "unknown_transition")
    }

    func testCookbookRing() {
        var h = Harness()
        h.start("cookbook", id: "demo")
        for target in ["second", "third", "first", "second"] {
            XCTAssertEqual(h.move("demo", target).transitioned?.to, target)
        }
        XCTAssertEqual(h.state.instance(id: "demo")?.revision, 5)
    }
}
