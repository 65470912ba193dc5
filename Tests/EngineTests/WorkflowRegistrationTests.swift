import XCTest
@testable import Engine
import Workflow

final class WorkflowRegistrationTests: XCTestCase {
    func testFirstRegistrationIsVersionOne() {
        var h = Harness(workflows: [])
        let outcome = h.register(orderDefinition)
        XCTAssertEqual(outcome, .workflowRegistered(WorkflowRegistered(name: "order", version: 1, hash: orderDefinition.contentHash,
                                                                        created: true, index: 1)))
        XCTAssertEqual(h.state.workflowVersion("order")?.definition, orderDefinition)
        XCTAssertEqual(h.state.workflowVersion("order")?.registeredAtMillis, h.nowMillis)
    }

    func testIdenticalHashIsANoOpReturningTheExistingVersion() {
        var h = Harness(workflows: [])
        h.register(orderDefinition)
        let before = h.state.snapshot()
        let again = h.register(orderDefinition)
        XCTAssertEqual(again.registered, WorkflowRegistered(name: "order", version: 1, hash: orderDefinition.contentHash,
                                                            created: false, index: 1))
        XCTAssertEqual(h.state.workflow(named: "order")?.versions.count, 1)
        // Only the applied index and clock moved.
        var expected = try! EngineState(restoring: before)
        expected.appliedIndex = h.state.appliedIndex
        expected.clockMillis = h.state.clockMillis
        XCTAssertEqual(expected.snapshot(), h.state.snapshot())
    }

    func testChangedDefinitionBecomesTheNextVersion() {
        var h = Harness(workflows: [orderDefinition])
        XCTAssertEqual(h.register(orderV2Definition).registered?.version, 2)
        XCTAssertEqual(h.state.workflowVersion("order")?.version, 2)
        XCTAssertEqual(h.state.workflowVersion("order", version: 1)?.definition, orderDefinition)
        // Re-registering the content of version 1 makes it the latest again, as version 3.
        XCTAssertEqual(h.register(orderDefinition).registered?.version, 3)
        XCTAssertEqual(h.state.workflow(named: "order")?.versions.map(\.hash),
                       [orderDefinition.contentHash, orderV2Definition.contentHash, orderDefinition.contentHash])
    }

    func testNewVersionNeverChangesRunningInstances() {
        var h = Harness(workflows: [orderDefinition])
        h.start("order", id: "o-1")
        h.register(orderV2Definition)
        h.start("order", id: "o-2")
        XCTAssertEqual(h.state.instance(id: "o-1")?.version, 1)
        XCTAssertEqual(h.state.instance(id: "o-2")?.version, 2)
        XCTAssertNotNil(h.move("o-1", "pay").transitioned)
        XCTAssertEqual(h.state.instance(id: "o-1")?.version, 1)
    }

    func testHashMismatchIsRejected() {
        var h = Harness(workflows: [])
        let outcome = h.apply(.registerWorkflow(RegisterWorkflow(definition: orderDefinition, hash: "0000")))
        XCTAssertEqual(outcome.rejection?.code, "invalid_definition")
        XCTAssertTrue(h.state.workflowSummaries().isEmpty)
    }

    func testStructurallyBrokenDefinitionIsRejected() {
        var h = Harness(workflows: [])
        let broken = WorkflowDefinition(name: "broken", initial: "nowhere", states: [StateDefinition(name: "a")], transitions: [])
        XCTAssertEqual(h.register(broken).rejection?.code, "invalid_definition")
        let dangling = WorkflowDefinition(name: "dangling", initial: "a", states: [StateDefinition(name: "a")],
                                          transitions: [TransitionDefinition(name: "go", from: .states(["a"]), to: "b")])
        XCTAssertEqual(h.register(dangling).rejection, .invalidDefinition(workflow: "dangling", reason: "transition 'go' goes to unknown state 'b'"))
    }

    func testWorkflowLimitsAreEnforced() {
        var h = Harness(settings: EngineSettings(workflowsMax: 1, versionsPerWorkflowMax: 1), workflows: [orderDefinition])
        XCTAssertEqual(h.register(cookbookDefinition).rejection, .limitExceeded(limit: "workflowsMax", max: 1))
        XCTAssertEqual(h.register(orderV2Definition).rejection, .limitExceeded(limit: "versionsPerWorkflowMax", max: 1))
    }

    func testSummariesAreSortedByName() {
        let h = Harness()
        XCTAssertEqual(h.state.workflowSummaries().map(\.name), ["cookbook", "order"])
        XCTAssertEqual(h.state.workflow(named: "cookbook")?.latest.version, 1)
        XCTAssertNil(h.state.workflowVersion("order", version: 2))
        XCTAssertNil(h.state.workflowVersion("nope"))
    }
}
