import XCTest
@testable import Engine
import Workflow

final class ReplicatedEngineTests: XCTestCase {
    func testLocalConsensusStampsIndexesAndApplies() async throws {
        let engine = ReplicatedEngine()
        let consensus = LocalConsensus(engine: engine, clock: { 1_000 })
        let registered = try await consensus.propose(.registerWorkflow(RegisterWorkflow(definition: cookbookDefinition)))
        XCTAssertEqual(registered.index, 1)
        XCTAssertEqual(registered.outcome.registered?.version, 1)
        let started = try await consensus.propose(.startInstance(StartInstance(workflow: "cookbook", id: "demo")))
        XCTAssertEqual(started.outcome.started?.index, 2)
        let moved = try await consensus.propose(.transition(TransitionRequest(instance: "demo", name: "second", requestID: "r")))
        XCTAssertEqual(moved.outcome.transitioned?.index, 3)
        let retried = try await consensus.propose(.transition(TransitionRequest(instance: "demo", name: "second", requestID: "r")))
        XCTAssertEqual(retried.outcome, moved.outcome)
        XCTAssertEqual(retried.index, 4)
        try await consensus.readBarrier()
        let seam: any Consensus = consensus
        let isLeader = await seam.isLeader
        XCTAssertTrue(isLeader)
        XCTAssertEqual(engine.instance(id: "demo")?.state, "second")
        XCTAssertEqual(engine.instance(id: "demo")?.createdAtMillis, 1_000)
        XCTAssertEqual(engine.appliedIndex, 4)
        XCTAssertEqual(engine.history(of: "demo")?.entries.count, 2)
        XCTAssertEqual(engine.workflowSummaries().map(\.name), ["cookbook"])
        XCTAssertEqual(engine.workflowVersion("cookbook")?.version, 1)
        XCTAssertEqual(engine.instances(workflow: "cookbook").instances.count, 1)
        XCTAssertEqual(engine.instanceCounts(), ["cookbook": ["second": 1]])
    }

    func testConcurrentProposalsApplyEachExactlyOnce() async throws {
        let engine = ReplicatedEngine()
        let consensus = LocalConsensus(engine: engine, clock: { 5 })
        _ = try await consensus.propose(.registerWorkflow(RegisterWorkflow(definition: cookbookDefinition)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    let id = "w\(worker)"
                    _ = try await consensus.propose(.startInstance(StartInstance(workflow: "cookbook", id: id)))
                    for step in 0..<30 {
                        let names = ["second", "third", "first"]
                        let outcome = try await consensus.propose(.transition(TransitionRequest(
                            instance: id, name: names[step % 3], requestID: "\(id)-\(step)")))
                        XCTAssertTrue(outcome.outcome.isAccepted)
                    }
                }
            }
            try await group.waitForAll()
        }
        XCTAssertEqual(engine.appliedIndex, 1 + 8 * 31)
        for worker in 0..<8 {
            XCTAssertEqual(engine.instance(id: "w\(worker)")?.revision, 31)
        }
    }

    func testConsensusErrorsSayWhetherTheCommandMayHaveApplied() {
        XCTAssertTrue(ConsensusError.noLeader.definitelyNotApplied)
        XCTAssertTrue(ConsensusError.notLeader(leaderHint: "n2").definitelyNotApplied)
        XCTAssertTrue(ConsensusError.shuttingDown.definitelyNotApplied)
        XCTAssertFalse(ConsensusError.outcomeUnknown(reason: "leader lost").definitelyNotApplied)
        XCTAssertEqual("\(ConsensusError.notLeader(leaderHint: "n2"))", "this node is not the leader; the leader is n2")
    }
}
