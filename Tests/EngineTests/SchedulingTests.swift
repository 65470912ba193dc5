import XCTest
@testable import Engine
import Workflow

/// Cron slots and state timeouts inside apply: a slot fires at most once whoever proposes it,
/// the fan-out happens in apply, and a timeout fires only while the instance still sits in
/// the state it armed the timer for.
final class SchedulingTests: XCTestCase {
    static let jobsYAML = """
        workflow: jobs
        initial: queued
        states:
          queued:
            timeout: { after: 10m, transition: expire }
          running: {}
          done: { final: true }
          expired: { final: true }
        transitions:
          run: { from: queued, to: running }
          finish: { from: running, to: done }
          expire: { from: queued, to: expired }
          requeue: { from: [queued, running], to: queued }
          abort: { from: "*", to: expired }
        triggers:
          - name: sweep
            cron: "*/5 * * * *"
            transition: abort
            where: { state: running }
          - name: spawn
            cron: "@hourly"
            start: { source: cron }
            concurrency: forbid
          - name: any
            cron: "@daily"
            transition: abort

        """
    let jobs = load(SchedulingTests.jobsYAML)

    private func harness() -> Harness { Harness(workflows: [jobs]) }

    private func fire(_ h: inout Harness, _ trigger: String, at slot: Int64, missed: Int = 0) -> CronFired.Status? {
        guard case .cronFired(let fired) = h.apply(.cronFire(CronFire(slots: [
            CronSlot(workflow: "jobs", trigger: trigger, slotMillis: slot, missed: missed)]))) else { return nil }
        return fired.results.first?.status
    }

    func testRegistrationAnchorsEachTriggerAndANewVersionKeepsOrReanchorsIt() throws {
        var h = harness()
        let registeredAt = h.nowMillis
        XCTAssertEqual(h.state.triggerStates.map(\.name), ["any", "spawn", "sweep"])
        XCTAssertEqual(h.state.trigger(workflow: "jobs", name: "sweep")?.anchorMillis, registeredAt)
        let slot = h.nowMillis + 500
        h.nowMillis += 1_000
        XCTAssertEqual(fire(&h, "sweep", at: slot), .fired(started: nil, moved: 0, notMoved: 0))

        // v2 changes sweep's expression, keeps spawn, drops any.
        let v2 = load(SchedulingTests.jobsYAML.replacingOccurrences(of: "*/5 * * * *", with: "*/10 * * * *")
            .replacingOccurrences(of: "  - name: any\n    cron: \"@daily\"\n    transition: abort\n", with: ""))
        h.register(v2)
        let sweep = try XCTUnwrap(h.state.trigger(workflow: "jobs", name: "sweep"))
        XCTAssertEqual(sweep.anchorMillis, h.nowMillis, "a changed expression starts its slots afresh")
        XCTAssertEqual(sweep.lastSlotMillis, slot, "but remembers what it fired")
        XCTAssertEqual(h.state.trigger(workflow: "jobs", name: "spawn")?.anchorMillis, registeredAt)
        XCTAssertNil(h.state.trigger(workflow: "jobs", name: "any"))
        XCTAssertEqual(fire(&h, "any", at: h.nowMillis), .ignored(reason: "workflow 'jobs' has no trigger named 'any'"))
    }

    func testASlotFiresAtMostOnceAndNeverBeforeItsTimeOrItsAnchor() throws {
        var h = harness()
        let anchor = h.nowMillis
        let slot = anchor + 3_600_000
        h.nowMillis = slot + 200
        guard case .fired(let started?, 0, 0) = fire(&h, "spawn", at: slot) else { return XCTFail("spawn should start an instance") }
        XCTAssertEqual(started, EngineState.cronInstanceID(workflow: "jobs", trigger: "spawn", slotMillis: slot))
        let instance = try XCTUnwrap(h.state.instance(id: started))
        XCTAssertEqual(instance.data["source"], .string("cron"))
        XCTAssertEqual(h.state.history(of: started)?.entries.first?.cause, "cron spawn \(Timestamp.rfc3339(millis: slot))")

        // The same slot again (a retry, or a second leader), and an earlier one: nothing happens.
        let before = h.state.instanceCount
        guard case .ignored = fire(&h, "spawn", at: slot), case .ignored = fire(&h, "spawn", at: slot - 1) else {
            return XCTFail("a repeated or earlier slot must be ignored")
        }
        XCTAssertEqual(h.state.instanceCount, before)
        // A slot after the entry's own time, and one at the anchor, are refused too.
        guard case .ignored = fire(&h, "sweep", at: h.nowMillis + 60_000), case .ignored = fire(&h, "sweep", at: anchor) else {
            return XCTFail("future and pre-anchor slots must be ignored")
        }
        let record = try XCTUnwrap(h.state.trigger(workflow: "jobs", name: "spawn"))
        XCTAssertEqual(record.lastSlotMillis, slot)
        XCTAssertEqual(record.fired, 1)
        XCTAssertEqual(record.lastInstance, started)
    }

    func testTheInstanceIDOfAStartNamesWorkflowTriggerAndUTCTime() {
        XCTAssertEqual(EngineState.cronInstanceID(workflow: "reports", trigger: "hourly", slotMillis: 1_796_180_400_000),
                       "reports.hourly.20261202T030000Z")
        XCTAssertEqual(EngineState.cronInstanceID(workflow: "r", trigger: "t", slotMillis: 1_796_180_400_250), "r.t.20261202T030000.250Z")
        let long = EngineState.cronInstanceID(workflow: String(repeating: "w", count: 100), trigger: String(repeating: "t", count: 60),
                                              slotMillis: 0)
        XCTAssertTrue(EngineLimits.isValidID(long), long)
        XCTAssertTrue(long.hasPrefix("cron.") && long.hasSuffix(".19700101T000000Z"), long)
    }

    func testForbidSkipsWhileThePreviousInstanceRunsAndRecordsTheSkip() throws {
        var h = harness()
        let first = h.nowMillis + 1
        h.nowMillis += 10
        guard case .fired(let id?, _, _) = fire(&h, "spawn", at: first) else { return XCTFail("first fire starts") }
        guard case .skipped(let reason) = fire(&h, "spawn", at: first + 1) else { return XCTFail("second fire is skipped") }
        XCTAssertTrue(reason.contains(id) && reason.contains("forbid"), reason)
        h.move(id, "expire")
        guard case .fired(let next?, _, _) = fire(&h, "spawn", at: first + 2) else { return XCTFail("fires again once final") }
        XCTAssertNotEqual(next, id)
        let record = try XCTUnwrap(h.state.trigger(workflow: "jobs", name: "spawn"))
        XCTAssertEqual([record.fired, record.skipped], [3, 1])
        XCTAssertEqual(record.lastSlotMillis, first + 2, "a skipped slot is consumed too")
    }

    func testReplaceAppliesItsTransitionToThePreviousInstanceFirst() throws {
        let reports = load("""
            workflow: reports
            initial: running
            states:
              running: {}
              review: {}
              superseded: { final: true }
            transitions:
              supersede: { from: running, to: superseded }
              hold: { from: running, to: review }
            triggers:
              - name: hourly
                cron: "@hourly"
                start: {}
                concurrency: replace
                replace_transition: supersede

            """)
        var h = Harness(workflows: [reports])
        func fire(at slot: Int64) -> CronFired.Status? {
            guard case .cronFired(let fired) = h.apply(.cronFire(CronFire(slots: [
                CronSlot(workflow: "reports", trigger: "hourly", slotMillis: slot)]))) else { return nil }
            return fired.results.first?.status
        }
        let slot = h.nowMillis + 1
        h.nowMillis += 10
        guard case .fired(let first?, 0, 0) = fire(at: slot) else { return XCTFail("the first fire starts an instance") }
        guard case .fired(let second?, 1, 0) = fire(at: slot + 1) else { return XCTFail("the second fire replaces the first") }
        XCTAssertEqual(h.state.instance(id: first)?.state, "superseded")
        XCTAssertEqual(h.state.history(of: first)?.entries.last?.cause,
                       "cron hourly \(Timestamp.rfc3339(millis: slot + 1)) (replace)", "the replaced instance names the fire")
        XCTAssertEqual(h.state.instance(id: second)?.state, "running")

        // When the previous instance cannot take the transition, it is left as it is and the
        // new one starts all the same (counted as not moved).
        h.move(second, "hold")
        guard case .fired(let third?, 0, 1) = fire(at: slot + 2) else { return XCTFail("the third fire starts despite the hold") }
        XCTAssertEqual(h.state.instance(id: second)?.state, "review")
        XCTAssertEqual(h.state.instance(id: third)?.state, "running")
        XCTAssertEqual(h.state.trigger(workflow: "reports", name: "hourly")?.lastInstance, third)
    }

    func testATransitionTriggerMovesEveryMatchingInstanceOldestFirstWithTheFireAsCause() throws {
        var h = harness()
        for id in ["c", "a", "b", "q"] { h.start("jobs", id: id) }
        for id in ["c", "a", "b"] { h.move(id, "run") }
        h.move("b", "finish")
        var effects: [Effect] = []
        h.index += 1
        h.nowMillis += 1_000
        let slot = h.nowMillis - 10
        let applied = h.state.apply(index: h.index, command: .cronFire(CronFire(slots: [
            CronSlot(workflow: "jobs", trigger: "sweep", slotMillis: slot)], proposedAtMillis: h.nowMillis)))
        effects = applied.effects
        guard case .cronFired(let fired) = applied.outcome else { return XCTFail("\(applied.outcome)") }
        XCTAssertEqual(fired.results.first?.status, .fired(started: nil, moved: 2, notMoved: 0))
        let moved = effects.compactMap { effect -> String? in
            if case .instanceMoved(let id, _, _, _, _, _) = effect { return id }
            return nil
        }
        XCTAssertEqual(moved, ["c", "a"], "in start order, only instances in 'running'")
        XCTAssertEqual(h.state.instance(id: "q")?.state, "queued")
        XCTAssertEqual(h.state.history(of: "a")?.entries.last?.cause, "cron sweep \(Timestamp.rfc3339(millis: slot))")
        XCTAssertEqual(effects.last, .cronFired(workflow: "jobs", trigger: "sweep", slotMillis: slot))

        // Without `where`: every live instance where the transition is allowed ("*": all non-final).
        h.nowMillis += 1_000
        XCTAssertEqual(fire(&h, "any", at: h.nowMillis - 1), .fired(started: nil, moved: 1, notMoved: 0))
        XCTAssertEqual(h.state.instance(id: "q")?.state, "expired")
    }

    func testAStateTimeoutIsArmedOnEntryCancelledOnExitAndFiresOnlyAtItsRevision() throws {
        var h = harness()
        h.start("jobs", id: "j")
        let armed = try XCTUnwrap(h.state.timer(of: "j"))
        XCTAssertEqual(armed.revision, 1)
        XCTAssertEqual(armed.dueAtMillis, h.nowMillis + 600_000)
        XCTAssertEqual(armed.transition, "expire")

        // Not due yet: ignored, still armed.
        guard case .timerFired(let early) = h.apply(.timerFire(TimerFire(timers: [TimerSlot(instance: "j", revision: 1)]))),
              case .ignored = early.results.first?.status else { return XCTFail("an early fire is ignored") }
        XCTAssertNotNil(h.state.timer(of: "j"))

        // Leaving the state cancels it; coming back arms a new one at the new revision.
        h.move("j", "run")
        XCTAssertNil(h.state.timer(of: "j"))
        h.move("j", "requeue")
        let rearmed = try XCTUnwrap(h.state.timer(of: "j"))
        XCTAssertEqual(rearmed.revision, 3)
        h.nowMillis = rearmed.dueAtMillis + 5
        guard case .timerFired(let stale) = h.apply(.timerFire(TimerFire(timers: [TimerSlot(instance: "j", revision: 1)]))),
              case .ignored = stale.results.first?.status else { return XCTFail("the old revision's fire is ignored") }
        XCTAssertEqual(h.state.instance(id: "j")?.state, "queued")

        guard case .timerFired(let fired) = h.apply(.timerFire(TimerFire(timers: [TimerSlot(instance: "j", revision: 3)]))) else {
            return XCTFail("expected a timer outcome")
        }
        XCTAssertEqual(fired.results.first?.status, .fired(transition: "expire", from: "queued", to: "expired"))
        XCTAssertEqual(h.state.history(of: "j")?.entries.last?.cause, "timeout of state 'queued' after 10m")
        XCTAssertNil(h.state.timer(of: "j"))
        guard case .timerFired(let again) = h.apply(.timerFire(TimerFire(timers: [TimerSlot(instance: "j", revision: 3)]))),
              case .ignored = again.results.first?.status else { return XCTFail("firing twice changes nothing") }
    }

    func testTimerEffectsTellTheSchedulerWhatToWatch() throws {
        var h = harness()
        h.index += 1
        h.nowMillis += 1
        let started = h.state.apply(index: h.index, command: .startInstance(StartInstance(workflow: "jobs", id: "e", proposedAtMillis: h.nowMillis)))
        XCTAssertTrue(started.effects.contains(.timerArmed(instance: "e", revision: 1, dueAtMillis: h.nowMillis + 600_000)))
        h.index += 1
        let moved = h.state.apply(index: h.index, command: .transition(TransitionRequest(instance: "e", name: "run", proposedAtMillis: h.nowMillis)))
        XCTAssertTrue(moved.effects.contains(.timerCancelled(instance: "e", revision: 1)))
        XCTAssertFalse(moved.effects.contains { if case .timerArmed = $0 { true } else { false } })
    }

    func testTriggersAndTimersSurviveASnapshotByteForByte() throws {
        var h = harness()
        for id in ["x", "y"] { h.start("jobs", id: id) }
        h.move("y", "run")
        h.nowMillis += 10_000
        _ = fire(&h, "spawn", at: h.nowMillis - 5_000, missed: 2)
        let bytes = h.state.snapshot()
        let restored = try EngineState(restoring: bytes)
        XCTAssertEqual(restored.snapshot(), bytes)
        XCTAssertEqual(restored.triggerStates, h.state.triggerStates)
        XCTAssertEqual(restored.pendingTimers, h.state.pendingTimers)
        XCTAssertEqual(restored.trigger(workflow: "jobs", name: "spawn")?.missed, 2)
        XCTAssertEqual(restored.liveInstances(of: "jobs", in: "running"), ["y"])
        XCTAssertEqual(restored.pendingTimers.map(\.instance).sorted(), h.state.pendingTimers.map(\.instance).sorted())
    }
}
