import XCTest
@testable import Engine
import Workflow

final class ReplicatedEngineTests: XCTestCase {
    func testAuthenticationTurnsOnWithTheFirstTokenAndSurvivesARestore() throws {
        let engine = ReplicatedEngine()
        XCTAssertFalse(engine.authenticationEnabled)
        _ = engine.apply(index: 1, term: 1, command: .createToken(CreateToken(
            id: "aaaaaaaaaaaa", role: .read, name: "x", digest: [UInt8](repeating: 1, count: 32), proposedAtMillis: 1)))
        XCTAssertFalse(engine.authenticationEnabled, "a refused first token (not admin) turns nothing on")
        _ = engine.apply(index: 2, term: 1, command: .createToken(CreateToken(
            id: "aaaaaaaaaaaa", role: .admin, name: "x", digest: [UInt8](repeating: 1, count: 32), proposedAtMillis: 2)))
        XCTAssertTrue(engine.authenticationEnabled)
        let restored = ReplicatedEngine()
        try restored.restore(engine.snapshot().bytes)
        XCTAssertTrue(restored.authenticationEnabled)
        XCTAssertTrue(ReplicatedEngine(state: engine.current()).authenticationEnabled)
    }

    func testLocalConsensusStampsIndexesAndApplies() async throws {
        let engine = ReplicatedEngine()
        let consensus = LocalConsensus(engine: engine, clock: ManualClock(nowMillis: 1_000))
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
        XCTAssertTrue(seam.isLeader)
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
        let consensus = LocalConsensus(engine: engine, clock: ManualClock(nowMillis: 5))
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

    func testLocalConsensusRefusesAProposalFencedOnAnotherTerm() async throws {
        let engine = ReplicatedEngine()
        let consensus = LocalConsensus(engine: engine, clock: ManualClock(nowMillis: 1))
        do {
            _ = try await consensus.propose(.registerWorkflow(RegisterWorkflow(definition: cookbookDefinition)), fencedOn: 7)
            XCTFail("a proposal fenced on a term this node does not lead in must be refused")
        } catch {
            XCTAssertEqual(error, .deposed(term: 7, currentTerm: LocalConsensus.term))
        }
        XCTAssertEqual(engine.appliedIndex, 0, "the refused proposal never reached the log")
        let committed = try await consensus.propose(.registerWorkflow(RegisterWorkflow(definition: cookbookDefinition)),
                                                    fencedOn: LocalConsensus.term)
        XCTAssertEqual(committed.index, 1)
    }

    func testSubscriptionStartsRightAfterTheStateItCameWith() async throws {
        let engine = ReplicatedEngine()
        let consensus = LocalConsensus(engine: engine, clock: ManualClock(nowMillis: 1))
        _ = try await consensus.propose(.registerWorkflow(RegisterWorkflow(definition: cookbookDefinition)))
        let (state, effects) = engine.subscribe()
        XCTAssertEqual(state.appliedIndex, 1)
        XCTAssertEqual(effects.after, 1)
        _ = try await consensus.propose(.startInstance(StartInstance(workflow: "cookbook", id: "a")))
        _ = try await consensus.propose(.transition(TransitionRequest(instance: "a", name: "nope")))   // rejected: no effects
        _ = try await consensus.propose(.transition(TransitionRequest(instance: "a", name: "second")))
        var iterator = effects.makeAsyncIterator()
        let first = try await iterator.next()
        XCTAssertEqual(first, CommittedEffects(index: 2, term: 1, effects: [
            .instanceStarted(id: "a", workflow: "cookbook", version: 1, state: "first")]))
        let second = try await iterator.next()
        XCTAssertEqual(second, CommittedEffects(index: 4, term: 1, effects: [
            .instanceMoved(id: "a", workflow: "cookbook", transition: "second", from: "first", to: "second", revision: 2)]))
    }

    func testAFilteredSubscriptionGetsOnlyTheBatchesItAsksFor() async throws {
        let engine = ReplicatedEngine()
        let consensus = LocalConsensus(engine: engine, clock: ManualClock(nowMillis: 1))
        _ = try await consensus.propose(.registerWorkflow(RegisterWorkflow(definition: cookbookDefinition)))
        let (_, finished) = engine.subscribe(where: { if case .instanceStarted = $0 { true } else { false } })
        _ = try await consensus.propose(.startInstance(StartInstance(workflow: "cookbook", id: "a")))
        _ = try await consensus.propose(.transition(TransitionRequest(instance: "a", name: "second")))
        _ = try await consensus.propose(.startInstance(StartInstance(workflow: "cookbook", id: "b")))
        engine.effects.finishAll()
        var indexes: [UInt64] = []
        for try await batch in finished { indexes.append(batch.index) }
        XCTAssertEqual(indexes, [2, 4], "the move at index 3 was not handed over (nor did it wake the subscriber)")
    }

    func testASubscriberThatFallsBehindIsToldAndApplyNeverWaits() async throws {
        let engine = ReplicatedEngine(effects: EffectStream(bufferedBatchesMax: 4))
        let consensus = LocalConsensus(engine: engine, clock: ManualClock(nowMillis: 1))
        _ = try await consensus.propose(.registerWorkflow(RegisterWorkflow(definition: cookbookDefinition)))
        let (_, effects) = engine.subscribe()
        for n in 0..<10 { _ = try await consensus.propose(.startInstance(StartInstance(workflow: "cookbook", id: "i\(n)"))) }
        XCTAssertEqual(engine.appliedIndex, 11, "apply went on although nobody read the stream")
        var delivered: [UInt64] = []
        do {
            for try await batch in effects { delivered.append(batch.index) }
            XCTFail("the stream should end with fellBehind")
        } catch let error as EffectStreamError {
            XCTAssertEqual(error, .fellBehind(index: 6))
        }
        XCTAssertEqual(delivered, [2, 3, 4, 5], "what was buffered is delivered before the error")
        XCTAssertEqual(engine.effects.subscriberCount, 0)
    }

    func testConsensusErrorsSayWhetherTheCommandMayHaveApplied() {
        XCTAssertTrue(ConsensusError.busy(reason: "full", retryAfterMillis: 1_000).definitelyNotApplied)
        XCTAssertTrue(ConsensusError.leaderChanged.definitelyNotApplied)
        XCTAssertTrue(ConsensusError.deposed(term: 2, currentTerm: 3).definitelyNotApplied)
        XCTAssertTrue(ConsensusError.commandTooLarge(bytes: 9, max: 8).definitelyNotApplied)
        XCTAssertFalse(ConsensusError.readUnavailable(reason: "no quorum").definitelyNotApplied)
        XCTAssertTrue(ConsensusError.noLeader.definitelyNotApplied)
        XCTAssertTrue(ConsensusError.notLeader(leaderHint: "n2").definitelyNotApplied)
        XCTAssertTrue(ConsensusError.shuttingDown.definitelyNotApplied)
        XCTAssertFalse(ConsensusError.outcomeUnknown(reason: "leader lost").definitelyNotApplied)
        XCTAssertEqual("\(ConsensusError.notLeader(leaderHint: "n2"))", "this node is not the leader; the leader is n2")
    }
}
