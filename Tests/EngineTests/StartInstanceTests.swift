import XCTest
@testable import Engine
import Workflow

final class StartInstanceTests: XCTestCase {
    func testStartsAtTheInitialStateWithDefaultsMergedWithData() {
        var h = Harness()
        let outcome = h.start("order", id: "o-17", data: ["customer": .string("ada"), "priority": .string("high")], requestID: "r1")
        XCTAssertEqual(outcome, .instanceStarted(InstanceStarted(id: "o-17", workflow: "order", version: 1, state: "created",
                                                                 revision: 1, index: 3)))
        let instance = h.state.instance(id: "o-17")
        XCTAssertEqual(instance?.state, "created")
        XCTAssertEqual(instance?.data, ["customer": .string("ada"), "priority": .string("high"), "items": .array([])])
        XCTAssertEqual(instance?.createdIndex, 3)
        XCTAssertEqual(instance?.createdAtMillis, h.nowMillis)
        XCTAssertEqual(instance?.isFinal, false)
        XCTAssertEqual(h.state.history(of: "o-17")?.entries, [
            HistoryEntry(kind: .start, index: 3, timeMillis: h.nowMillis, from: nil, to: "created", transition: nil,
                         requestID: "r1", revision: 1),
        ])
    }

    func testNullInStartDataRemovesADefault() {
        var h = Harness()
        h.start("order", id: "o-1", data: ["items": .null])
        XCTAssertEqual(h.state.instance(id: "o-1")?.data, ["priority": .string("normal")])
    }

    func testUnknownWorkflowAndVersion() {
        var h = Harness()
        XCTAssertEqual(h.start("nope", id: "x").rejection, .unknownWorkflow(name: "nope", version: nil))
        XCTAssertEqual(h.start("order", id: "x", version: 2).rejection, .unknownWorkflow(name: "order", version: 2))
        XCTAssertEqual(h.start("order", id: "x", version: 0).rejection?.code, "invalid_argument")
        XCTAssertEqual(h.start("nope", id: "x").rejection?.category, .notFound)
        XCTAssertEqual(h.state.instanceCount, 0)
    }

    func testExplicitVersionPinsAnOlderVersion() {
        var h = Harness()
        h.register(orderV2Definition)
        XCTAssertEqual(h.start("order", id: "old", version: 1).started?.version, 1)
        XCTAssertEqual(h.start("order", id: "new").started?.version, 2)
    }

    func testExistingIdIsRejected() {
        var h = Harness()
        h.start("order", id: "o-1")
        XCTAssertEqual(h.start("cookbook", id: "o-1").rejection, .instanceExists(id: "o-1"))
        XCTAssertEqual(h.state.instance(id: "o-1")?.workflow, "order")
    }

    func testInvalidIdsAreRejected() {
        var h = Harness()
        for id in ["", "has space", "slash/y", String(repeating: "a", count: 129), "ünïcode"] {
            XCTAssertEqual(h.start("order", id: id).rejection?.code, "invalid_argument", id)
        }
        XCTAssertNotNil(h.start("order", id: String(repeating: "a", count: 128)).started)
        XCTAssertNotNil(h.start("order", id: "A-z_0.9:x").started)
    }

    func testInstanceLimitIsEnforced() {
        var h = Harness(settings: EngineSettings(instancesMax: 2))
        h.start("order", id: "a")
        h.start("order", id: "b")
        XCTAssertEqual(h.start("order", id: "c").rejection, .limitExceeded(limit: "instancesMax", max: 2))
    }

    func testOversizedOrTooDeepDataIsRejected() {
        var h = Harness(settings: EngineSettings(instanceDataBytesMax: 100))
        XCTAssertEqual(h.start("order", id: "big", data: ["blob": .string(String(repeating: "x", count: 200))]).rejection?.code,
                       "invalid_data")
        h = Harness()
        func nested(_ levels: Int) -> JSONValue {
            var value: JSONValue = .null
            for _ in 0..<levels { value = .array([value]) }
            return value
        }
        // {"d": [[…[null]…]]}: the object, the arrays and the null each count one level.
        XCTAssertEqual(h.start("order", id: "deep", data: ["d": nested(EngineLimits.jsonDepthMax - 1)]).rejection?.code, "invalid_data")
        XCTAssertNotNil(h.start("order", id: "ok", data: ["d": nested(EngineLimits.jsonDepthMax - 2)]).started)
        // A command built in memory (not decoded) cannot smuggle in a non-finite number.
        XCTAssertEqual(h.state.apply(index: 100, command: .startInstance(StartInstance(workflow: "order", id: "nan", data: ["n": .number(.nan)]))).outcome.rejection?.code, "invalid_data")
        XCTAssertEqual(h.state.instanceCount, 1)
    }

    func testInitialFinalStateStartsFinal() {
        let definition = WorkflowDefinition(name: "done", initial: "end", states: [StateDefinition(name: "end", isFinal: true)],
                                            transitions: [])
        var h = Harness(workflows: [definition])
        h.start("done", id: "d")
        XCTAssertEqual(h.state.instance(id: "d")?.isFinal, true)
        XCTAssertEqual(h.move("d", to: "end").rejection, .instanceFinal(id: "d", state: "end"))
    }
}
