import XCTest
@testable import Engine
import Workflow

/// Hook dispatches in the engine: recorded by the transitions that call for them, finished by
/// the results the leader proposes — the first final result wins, retries are due at times
/// every replica computes alike, and a follow-up transition happens once, caused by the hook.
final class HookDispatchTests: XCTestCase {
    let hooked = load("""
        workflow: deploy
        initial: staged
        states:
          staged:
            on_exit: [{ plugin: notify, with: { phase: leaving } }]
          running:
            on_enter: [{ plugin: notify, with: { phase: entered } }]
          live: {}
          rolled-back: { final: true }
        transitions:
          roll:
            from: staged
            to: running
            hooks:
              - plugin: task
                retry: { attempts: 3, backoff: 10s, max_backoff: 1m }
                on_success: go-live
                on_failure: rollback
          go-live: { from: running, to: live }
          rollback: { from: [staged, running, live], to: rolled-back }
        """)

    private func harness() -> Harness {
        var h = Harness(workflows: [hooked])
        h.start("deploy", id: "d")
        return h
    }

    private func result(_ h: inout Harness, _ id: String, attempt: Int, _ result: HookResult.Result,
                        patch: [String: JSONValue]? = nil) -> HookRecorded {
        guard case .hookRecorded(let recorded) = h.apply(.hookResult(HookResult(
            dispatchID: id, attempt: attempt, result: result, durationMillis: 12, stdout: "out", stderr: "err",
            dataPatch: patch))) else {
            XCTFail("expected a hook outcome")
            return HookRecorded(dispatchID: id, attempt: attempt, status: .failed, index: 0)
        }
        return recorded
    }

    func testATransitionRecordsItsHooksInRunOrderWithDeterministicIDs() throws {
        var h = harness()
        let moved = try XCTUnwrap(h.move("d", "roll").transitioned)
        let pending = h.state.pendingDispatches()
        XCTAssertEqual(pending.map(\.id), ["\(moved.index).1", "\(moved.index).2", "\(moved.index).3"])
        XCTAssertEqual(pending.map(\.stage), [.onExit, .transition, .onEnter])
        XCTAssertEqual(pending.map(\.plugin), ["notify", "task", "notify"])
        XCTAssertEqual(pending.map(\.attempt), [1, 1, 1])
        XCTAssertEqual(h.state.nextDispatch(of: "d")?.id, "\(moved.index).1", "one at a time, in order")
        XCTAssertEqual(h.state.hook(of: pending[0])?.with, ["phase": "leaving"])
    }

    func testTheEffectsSayWhatWasRecordedAndFinished() throws {
        var h = harness()
        h.index += 1
        let applied = h.state.apply(index: h.index, command: .transition(TransitionRequest(instance: "d", name: "roll")))
        let recorded = applied.effects.compactMap { effect -> String? in
            if case .dispatchRecorded(let id, "d", _) = effect { return id } else { return nil }
        }
        XCTAssertEqual(recorded, ["\(h.index).1", "\(h.index).2", "\(h.index).3"])
        h.index += 1
        let finished = h.state.apply(index: h.index, command: .hookResult(HookResult(dispatchID: recorded[0], attempt: 1,
                                                                                   result: .succeeded, durationMillis: 1)))
        XCTAssertEqual(finished.effects, [.dispatchFinished(id: recorded[0], instance: "d", succeeded: true)])
    }

    func testTheFirstFinalResultWinsAndStaleAttemptsChangeNothing() throws {
        var h = harness()
        let index = try XCTUnwrap(h.move("d", "roll").transitioned).index
        XCTAssertEqual(result(&h, "\(index).1", attempt: 1, .succeeded).status, .succeeded)
        // A deposed leader's late result for the same dispatch:
        guard case .ignored = result(&h, "\(index).1", attempt: 1, .failed(exitCode: 1)).status else {
            return XCTFail("a second result must be ignored")
        }
        guard case .ignored = result(&h, "\(index).2", attempt: 2, .succeeded).status else {
            return XCTFail("a result for an attempt that has not started must be ignored")
        }
        let hookEntries = h.state.history(of: "d")!.entries.filter { $0.kind == .hook }
        XCTAssertEqual(hookEntries.count, 1, "ignored results leave no history")
        XCTAssertEqual(hookEntries[0].hook?.result, "succeeded")
        XCTAssertEqual(hookEntries[0].hook?.stdout, "out")
    }

    func testFailuresRetryWithBackoffAndOnFailureHappensOnceWithTheHookAsCause() throws {
        var h = harness()
        let index = try XCTUnwrap(h.move("d", "roll").transitioned).index
        _ = result(&h, "\(index).1", attempt: 1, .succeeded)
        let task = "\(index).2"
        let first = result(&h, task, attempt: 1, .retryableFailure)
        guard case .willRetry(2, let due2) = first.status else { return XCTFail("\(first.status)") }
        XCTAssertGreaterThanOrEqual(due2 - h.nowMillis, 10_000, "backoff 10s")
        XCTAssertLessThanOrEqual(due2 - h.nowMillis, 12_000, "at most 20% jitter")
        XCTAssertEqual(h.state.dispatch(id: task)?.dueAtMillis, due2, "the due time lives in the engine")
        let second = result(&h, task, attempt: 2, .timedOut)
        guard case .willRetry(3, let due3) = second.status else { return XCTFail("\(second.status)") }
        XCTAssertGreaterThanOrEqual(due3 - h.nowMillis, 20_000, "the backoff doubles")
        XCTAssertEqual(result(&h, task, attempt: 3, .failed(exitCode: 2)).status, .failed)
        XCTAssertEqual(h.state.instance(id: "d")?.state, "rolled-back", "on_failure was taken")
        guard case .ignored = result(&h, task, attempt: 3, .failed(exitCode: 2)).status else {
            return XCTFail("a repeated final result must be ignored")
        }
        let history = h.state.history(of: "d")!.entries
        let rollbacks = history.filter { $0.transition == "rollback" && $0.kind == .transition }
        XCTAssertEqual(rollbacks.count, 1, "the follow-up happened exactly once")
        XCTAssertEqual(rollbacks[0].cause, "hook \(task)")
        XCTAssertEqual(h.state.failedDispatchList().map(\.dispatch.id), [task])
        // The running state's on_enter hook was recorded by roll and still runs: it belongs to
        // the committed transition that recorded it.
        XCTAssertEqual(h.state.pendingDispatches().map(\.id), ["\(index).3"])
    }

    func testSuccessMergesTheDataPatchAndTakesOnSuccess() throws {
        var h = harness()
        let index = try XCTUnwrap(h.move("d", "roll").transitioned).index
        _ = result(&h, "\(index).1", attempt: 1, .succeeded)
        _ = result(&h, "\(index).2", attempt: 1, .succeeded, patch: ["build": "42"])
        XCTAssertEqual(h.state.instance(id: "d")?.data["build"], "42")
        XCTAssertEqual(h.state.instance(id: "d")?.state, "live")
        XCTAssertEqual(h.state.history(of: "d")!.entries.last?.cause, nil, "the hook entry is written after the follow-up")
        let caused = h.state.history(of: "d")!.entries.first { $0.transition == "go-live" }
        XCTAssertEqual(caused?.cause, "hook \(index).2")
    }

    func testRetryDelaysAreTheSameOnEveryReplicaAndCapped() {
        let policy = Workflow.RetryPolicy(attempts: 10, backoff: WorkflowDuration(milliseconds: 1_000),
                                          maxBackoff: WorkflowDuration(milliseconds: 5_000))
        for attempt in 2...10 {
            let a = EngineState.retryDelayMillis(policy, dispatchID: "7.1", nextAttempt: attempt)
            XCTAssertEqual(a, EngineState.retryDelayMillis(policy, dispatchID: "7.1", nextAttempt: attempt))
            XCTAssertLessThanOrEqual(a, 5_000)
            XCTAssertGreaterThanOrEqual(a, policy.delay(beforeAttempt: attempt).milliseconds)
        }
        XCTAssertNotEqual(EngineState.retryDelayMillis(policy, dispatchID: "7.1", nextAttempt: 2),
                          EngineState.retryDelayMillis(policy, dispatchID: "8.1", nextAttempt: 2),
                          "the jitter spreads dispatches apart")
    }

    func testPendingDispatchesAndHookHistorySurviveASnapshot() throws {
        var h = harness()
        let index = try XCTUnwrap(h.move("d", "roll").transitioned).index
        _ = result(&h, "\(index).1", attempt: 1, .signalled(signal: 9))
        _ = result(&h, "\(index).1", attempt: 1, .couldNotStart(reason: "plugin 'notify' is not executable"))
        let bytes = h.state.snapshot()
        let restored = try EngineState(restoring: bytes)
        XCTAssertEqual(restored.snapshot(), bytes)
        XCTAssertEqual(restored.pendingDispatches(), h.state.pendingDispatches())
        XCTAssertEqual(restored.history(of: "d"), h.state.history(of: "d"))
        XCTAssertTrue(restored.history(of: "d")!.entries.contains { $0.hook?.note.contains("could not start") == true } == false,
                      "the second result was for a dispatch already failed, so it was ignored")
    }
}
