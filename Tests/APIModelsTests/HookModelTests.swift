import APIModels
import JSON
import XCTest

/// The hook shapes: a history entry's `hook`, the `cause` of a transition a hook took, and
/// `GET /v1/dispatches`.
final class HookModelTests: XCTestCase {
    let run = HookRunInfo(dispatchID: "12.1", plugin: "notify", stage: "on_enter", attempt: 2, result: "failed", exitCode: 3,
                          signal: nil, durationMillis: 41, stdout: "out", stderr: "err\n", stdoutTruncated: false,
                          stderrTruncated: true, note: "attempt 3 of 5 due at 1800000012000", final: false)

    func testHookRunCodingsAgreeAndWriteAbsentValuesAsNull() throws {
        XCTAssertEqual(try assertCodingsAgree(run), #"{"attempt":2,"dispatch_id":"12.1","duration_ms":41,"exit_code":3,"final":false,"# +
                       #""note":"attempt 3 of 5 due at 1800000012000","plugin":"notify","result":"failed","signal":null,"# +
                       #""stage":"on_enter","stderr":"err\n","stderr_truncated":true,"stdout":"out","stdout_truncated":false}"#)
    }

    func testHistoryRecordsCarryHookAndCauseOnlyWhenTheyHaveThem() throws {
        let plain = HistoryRecord(type: "transition", index: 9, requestID: nil, from: "a", to: "b", transition: "go",
                                  revision: 2, at: "2027-01-15T08:00:00.000Z")
        XCTAssertFalse(try assertCodingsAgree(plain).contains("hook"), "entries without a hook are written as before")
        try assertCodingsAgree(HistoryRecord(type: "hook", index: 10, requestID: nil, from: nil, to: "b", transition: "go",
                                             revision: 2, at: "2027-01-15T08:00:01.000Z", hook: run))
        let caused = HistoryRecord(type: "transition", index: 11, requestID: nil, from: "b", to: "c", transition: "fail",
                                   revision: 3, at: "2027-01-15T08:00:02.000Z", cause: "hook 12.1")
        XCTAssertTrue(try assertCodingsAgree(caused).contains(#""cause":"hook 12.1""#))
    }

    func testDispatchListCodingsAgree() throws {
        let pending = DispatchInfo(id: "12.1", instance: "o-1", workflow: "order", version: 1, transition: "pay", plugin: "notify",
                                   stage: "on_enter", state: "pending", attempt: 1, dueAt: "2027-01-15T08:00:00.000Z",
                                   result: nil, recordedIndex: 12)
        let failed = DispatchInfo(id: "3.1", instance: "o-2", workflow: "order", version: 1, transition: nil, plugin: "task",
                                  stage: "on_enter", state: "failed", attempt: 5, dueAt: nil, result: "timed_out",
                                  recordedIndex: 3)
        try assertCodingsAgree(DispatchList(dispatches: [pending, failed]))
        XCTAssertTrue(try assertCodingsAgree(failed).contains(#""due_at":null"#))
    }
}

/// The schedule models: `GET /v1/triggers` and `GET /v1/timeouts`.
final class ScheduleModelTests: XCTestCase {
    func testTriggerListCodingsAgree() throws {
        let start = TriggerInfo(workflow: "deploy", name: "nightly", cron: "30 2 * * *", timezone: "Europe/Berlin",
                                action: "start", transition: nil, whereState: nil, concurrency: "forbid", misfire: "once",
                                maxCatchup: 100, anchorAt: "2027-01-15T08:00:00.123Z", nextFireAt: "2027-01-16T02:30:00+01:00",
                                lastSlotAt: nil, lastFiredIndex: nil, lastInstance: nil, fired: 0, skipped: 0, missed: 0)
        let sweep = TriggerInfo(workflow: "order", name: "sweep", cron: "@every 1m", timezone: "UTC", action: "transition",
                                transition: "cancel", whereState: "created", concurrency: "allow", misfire: "all",
                                maxCatchup: 5, anchorAt: "2027-01-15T08:00:00.000Z", nextFireAt: nil,
                                lastSlotAt: "2027-01-15T08:01:00+00:00", lastFiredIndex: 42, lastInstance: nil,
                                fired: 3, skipped: 1, missed: 2)
        try assertCodingsAgree(TriggerList(triggers: [start, sweep]))
        let text = try assertCodingsAgree(start)
        XCTAssertTrue(text.contains(#""last_slot_at":null"#), text)
        XCTAssertTrue(text.contains(#""where":null"#), text)
    }

    func testTimeoutListCodingsAgree() throws {
        let timeout = TimeoutInfo(instance: "r-1", workflow: "deploy", state: "staged", revision: 4,
                                  dueAt: "2027-01-15T12:00:00.000Z", transition: "abandon", afterMillis: 14_400_000)
        try assertCodingsAgree(TimeoutList(timeouts: [timeout], total: 7))
    }
}
