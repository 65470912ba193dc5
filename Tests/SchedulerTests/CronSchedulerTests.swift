import XCTest
import Engine
import Logging
import Scheduler
import Synchronization
import Workflow

/// The scheduler on a manual clock against a real engine: slots fire once each, across a
/// "leader change" (one scheduler stopped, another started), missed slots follow the misfire
/// policy, and state timeouts fire when due.
final class CronSchedulerTests: XCTestCase {
    static let yaml = """
        workflow: tick
        initial: open
        states:
          open:
            timeout: { after: 10m, transition: expire }
          expired: { final: true }
        transitions:
          expire: { from: open, to: expired }
        triggers:
          - name: every-minute
            cron: "@every 1m"
            start: {}
          - name: caught-up
            cron: "* * * * *"
            transition: expire
            where: { state: open }
            misfire: all
            max_catchup: 3

        """

    private let start: Int64 = 1_796_180_400_000   // 2026-12-02T03:00:00Z, a whole minute

    private func setUp(clock: ManualClock, yaml: String = CronSchedulerTests.yaml) async throws -> (ReplicatedEngine, LocalConsensus) {
        let engine = ReplicatedEngine()
        let consensus = LocalConsensus(engine: engine, clock: clock)
        let loaded = WorkflowLoader.load(text: yaml, file: "tick.yaml")
        let definition = try XCTUnwrap(loaded.definition, "\(loaded.diagnostics)")
        _ = try await consensus.propose(.registerWorkflow(RegisterWorkflow(definition: definition)), fencedOn: nil)
        return (engine, consensus)
    }

    private func runScheduler(_ engine: ReplicatedEngine, _ consensus: LocalConsensus, _ clock: ManualClock) -> Task<Void, any Error> {
        Task {
            try await CronScheduler().run(engine: engine, clock: clock, propose: { (command: Command) async throws(ConsensusError) -> Committed in
                try await consensus.propose(command, fencedOn: nil)
            }, logger: Logger(label: "test"))
        }
    }

    private func eventually(_ seconds: Double = 10, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        return condition()
    }

    private func started(_ engine: ReplicatedEngine) -> [String] {
        engine.current().instances(workflow: "tick").instances.map(\.id)
    }

    func testEachSlotFiresOnceAcrossASchedulerHandOver() async throws {
        let clock = ManualClock(nowMillis: start)
        let (engine, consensus) = try await setUp(clock: clock)
        var scheduler = runScheduler(engine, consensus, clock)
        for minute in 1...3 {
            clock.advance(byMillis: 60_000)
            let ok = try await eventually { started(engine).count == minute }
            XCTAssertTrue(ok, "minute \(minute): \(started(engine))")
        }
        // Hand over at a slot: the old scheduler is gone, a new one starts from the engine.
        scheduler.cancel()
        _ = await scheduler.result
        clock.advance(byMillis: 60_000)
        scheduler = runScheduler(engine, consensus, clock)
        let handedOver = try await eventually { started(engine).count == 4 }
        XCTAssertTrue(handedOver, "\(started(engine))")
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertEqual(started(engine).count, 4, "no slot fires twice")
        let every = try XCTUnwrap(engine.current().trigger(workflow: "tick", name: "every-minute"))
        XCTAssertEqual(every.fired, 4)
        XCTAssertEqual(every.lastSlotMillis, start + 4 * 60_000 + (every.anchorMillis - start))
        scheduler.cancel()
        _ = await scheduler.result
    }

    func testMissedSlotsFollowTheMisfirePolicy() async throws {
        let clock = ManualClock(nowMillis: start)
        let (engine, consensus) = try await setUp(clock: clock)
        // No leader for ten minutes, then a scheduler starts.
        clock.advance(byMillis: 10 * 60_000 + 30_000)
        let scheduler = runScheduler(engine, consensus, clock)
        let caughtUp = try await eventually {
            engine.current().trigger(workflow: "tick", name: "caught-up")?.fired == 3
                && engine.current().trigger(workflow: "tick", name: "every-minute")?.fired == 1
        }
        XCTAssertTrue(caughtUp)
        let once = try XCTUnwrap(engine.current().trigger(workflow: "tick", name: "every-minute"))
        XCTAssertEqual(once.missed, 9, "misfire once: the latest of ten slots, nine counted missed")
        let all = try XCTUnwrap(engine.current().trigger(workflow: "tick", name: "caught-up"))
        XCTAssertEqual(all.missed, 7, "misfire all with max_catchup 3: the three latest of ten")
        XCTAssertEqual(all.lastSlotMillis, start + 10 * 60_000)
        scheduler.cancel()
        _ = await scheduler.result
    }

    /// Counts proposals, failing the first cron fire (as a saturated leader answers `busy`).
    private final class FailFirstCronFire: Sendable {
        let cronFires = Mutex(0)

        var count: Int { cronFires.withLock { $0 } }

        /// Whether this cron-fire proposal is the first, which fails.
        func fails(_ command: Command) -> Bool {
            guard case .cronFire = command else { return false }
            return cronFires.withLock { count in
                count += 1
                return count == 1
            }
        }
    }

    func testASlotWhoseProposalFailedIsProposedAgain() async throws {
        let clock = ManualClock(nowMillis: start)
        let (engine, consensus) = try await setUp(clock: clock)
        let proposals = FailFirstCronFire()
        let scheduler = Task {
            try await CronScheduler().run(engine: engine, clock: clock, propose: { (command: Command) async throws(ConsensusError) -> Committed in
                if proposals.fails(command) { throw .busy(reason: "test: the leader is saturated", retryAfterMillis: 200) }
                return try await consensus.propose(command, fencedOn: nil)
            }, logger: Logger(label: "test"))
        }
        // The first minute's slots (both triggers, one entry) are refused: not applied.
        clock.advance(byMillis: 60_000)
        let refused = try await eventually { proposals.count == 1 && clock.sleeperCount > 0 }
        XCTAssertTrue(refused)
        XCTAssertEqual(engine.current().trigger(workflow: "tick", name: "every-minute")?.fired, 0)
        // A second later (past the scheduler's 200 ms back-off, long before the next slot) they fire.
        clock.advance(byMillis: 1_000)
        let retried = try await eventually(2) {
            engine.current().trigger(workflow: "tick", name: "every-minute")?.fired == 1
                && engine.current().trigger(workflow: "tick", name: "caught-up")?.fired == 1
        }
        XCTAssertTrue(retried, "the refused slots were proposed again; cron proposals: \(proposals.count)")
        clock.advance(byMillis: 60_000)
        let next = try await eventually(2) { engine.current().trigger(workflow: "tick", name: "every-minute")?.fired == 2 }
        XCTAssertTrue(next)
        for name in ["every-minute", "caught-up"] {
            let trigger = try XCTUnwrap(engine.current().trigger(workflow: "tick", name: name))
            XCTAssertEqual(trigger.lastSlotMillis, start + 2 * 60_000, name)
            XCTAssertEqual(trigger.missed, 0, "\(name): no slot was lost")
        }
        let slotIDs = started(engine).sorted()
        XCTAssertEqual(slotIDs, [EngineState.cronInstanceID(workflow: "tick", trigger: "every-minute", slotMillis: start + 60_000),
                                 EngineState.cronInstanceID(workflow: "tick", trigger: "every-minute", slotMillis: start + 120_000)])
        scheduler.cancel()
        _ = await scheduler.result
    }

    func testAStateTimeoutFiresWhenDue() async throws {
        let clock = ManualClock(nowMillis: start + 1)
        let untriggered = String(Self.yaml[..<Self.yaml.range(of: "triggers:")!.lowerBound])
        let (engine, consensus) = try await setUp(clock: clock, yaml: untriggered)
        _ = try await consensus.propose(.startInstance(StartInstance(workflow: "tick", id: "t1")), fencedOn: nil)
        let scheduler = runScheduler(engine, consensus, clock)
        clock.advance(byMillis: 9 * 60_000)
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertEqual(engine.instance(id: "t1")?.state, "open")
        clock.advance(byMillis: 60_000)
        let expired = try await eventually { engine.instance(id: "t1")?.state == "expired" }
        XCTAssertTrue(expired)
        let causes = engine.history(of: "t1")?.entries.compactMap(\.cause) ?? []
        XCTAssertEqual(causes, ["timeout of state 'open' after 10m"])
        scheduler.cancel()
        _ = await scheduler.result
    }

    /// The scheduler reads triggers once and then follows registrations: a workflow registered
    /// while it runs is scheduled, and a version that drops the trigger stops it.
    func testTriggersOfAWorkflowRegisteredLaterFollowItsVersions() async throws {
        let clock = ManualClock(nowMillis: start)
        let untriggered = String(Self.yaml[..<Self.yaml.range(of: "triggers:")!.lowerBound])
        let (engine, consensus) = try await setUp(clock: clock, yaml: untriggered)
        let scheduler = runScheduler(engine, consensus, clock)
        try await Task.sleep(for: .milliseconds(20))
        let later = """
            workflow: later
            initial: open
            states:
              open: {}
            transitions:
              again: { from: open, to: open }
            triggers:
              - { name: every-minute, cron: "@every 1m", start: {} }

            """
        let register = { (yaml: String) async throws in
            let definition = try XCTUnwrap(WorkflowLoader.load(text: yaml, file: "later.yaml").definition)
            _ = try await consensus.propose(.registerWorkflow(RegisterWorkflow(definition: definition)), fencedOn: nil)
        }
        try await register(later)
        let laterStarted = { engine.current().instances(workflow: "later").instances.count }
        for minute in 1...2 {
            clock.advance(byMillis: 60_000)
            let fired = try await eventually { laterStarted() == minute }
            XCTAssertTrue(fired, "minute \(minute): \(laterStarted())")
        }
        try await register(String(later[..<later.range(of: "triggers:")!.lowerBound]))
        try await Task.sleep(for: .milliseconds(20))
        clock.advance(byMillis: 60_000)
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertEqual(laterStarted(), 2, "the trigger was dropped by version 2")
        scheduler.cancel()
        _ = await scheduler.result
    }

    /// A timer cancelled by leaving the state does not fire; one armed again on re-entry fires
    /// at its new time, not the first one's.
    func testATimeoutArmedAgainFiresAtItsNewTime() async throws {
        let clock = ManualClock(nowMillis: start + 1)
        let yaml = """
            workflow: tick
            initial: open
            states:
              open:
                timeout: { after: 10m, transition: expire }
              parked: {}
              expired: { final: true }
            transitions:
              expire: { from: open, to: expired }
              park: { from: open, to: parked }
              reopen: { from: parked, to: open }

            """
        let (engine, consensus) = try await setUp(clock: clock, yaml: yaml)
        for id in ["t1", "t2"] {
            _ = try await consensus.propose(.startInstance(StartInstance(workflow: "tick", id: id)), fencedOn: nil)
        }
        let scheduler = runScheduler(engine, consensus, clock)
        clock.advance(byMillis: 5 * 60_000)
        for id in ["t1", "t2"] {
            _ = try await consensus.propose(.transition(TransitionRequest(instance: id, name: "park")), fencedOn: nil)
        }
        clock.advance(byMillis: 60_000)
        _ = try await consensus.propose(.transition(TransitionRequest(instance: "t1", name: "reopen")), fencedOn: nil)
        clock.advance(byMillis: 5 * 60_000)   // past the first timer's time
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertEqual(engine.instance(id: "t1")?.state, "open")
        XCTAssertEqual(engine.instance(id: "t2")?.state, "parked")
        clock.advance(byMillis: 5 * 60_000)   // the second timer's time
        let expired = try await eventually { engine.instance(id: "t1")?.state == "expired" }
        XCTAssertTrue(expired)
        XCTAssertEqual(engine.instance(id: "t2")?.state, "parked")
        scheduler.cancel()
        _ = await scheduler.result
    }
}
