import XCTest
import Engine
import Logging
import Scheduler
import Workflow

/// The retention sweeper on a manual clock: finished instances go once their retention has
/// passed (the workflow's own, else the cluster default), running ones never, and a new
/// sweeper carries on from the engine alone.
final class RetentionSweeperTests: XCTestCase {
    static let yaml = """
        workflow: jobs
        initial: queued
        retention: 10m
        states:
          queued: {}
          done: { final: true }
        transitions:
          finish: { from: queued, to: done }
        """
    static let plain = """
        workflow: plain
        initial: open
        states:
          open: {}
          closed: { final: true }
        transitions:
          close: { from: open, to: closed }
        """

    private let start: Int64 = 1_796_180_400_000

    private func eventually(_ seconds: Double = 10, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        return condition()
    }

    func testFinishedInstancesGoAfterTheirRetentionAndRunningOnesStay() async throws {
        let clock = ManualClock(nowMillis: start)
        let engine = ReplicatedEngine()
        let consensus = LocalConsensus(engine: engine, clock: clock)
        for yaml in [Self.yaml, Self.plain] {
            let definition = try XCTUnwrap(WorkflowLoader.load(text: yaml, file: "w.yaml").definition)
            _ = try await consensus.propose(.registerWorkflow(RegisterWorkflow(definition: definition)), fencedOn: nil)
        }
        for number in 0..<1_500 {
            _ = try await consensus.propose(.startInstance(StartInstance(workflow: "jobs", id: "j\(number)")), fencedOn: nil)
            if number % 3 != 0 {
                _ = try await consensus.propose(.transition(TransitionRequest(instance: "j\(number)", name: "finish")), fencedOn: nil)
            }
        }
        _ = try await consensus.propose(.startInstance(StartInstance(workflow: "plain", id: "p1")), fencedOn: nil)
        _ = try await consensus.propose(.transition(TransitionRequest(instance: "p1", name: "close")), fencedOn: nil)

        var settings = RetentionSweeper.Settings(defaultRetentionMillis: 60 * 60_000)
        settings.intervalMillis = 1_000
        let sweeper = Task {
            try await RetentionSweeper(settings: settings).run(engine: engine, clock: clock, propose: { command async throws(ConsensusError) -> Committed in
                try await consensus.propose(command, fencedOn: nil)
            }, logger: Logger(label: "test"))
        }
        defer { sweeper.cancel() }
        // Advance the clock only while the sweeper sleeps on it: an advance before it goes to
        // sleep would leave it waiting for a time the manual clock never reaches.
        var asleep = try await eventually { clock.sleeperCount == 1 }
        XCTAssertTrue(asleep)
        XCTAssertEqual(engine.current().instanceCount, 1_501, "nothing is past its retention yet")

        clock.advance(byMillis: 10 * 60_000 + 1_000)
        var gone = try await eventually { engine.current().instanceCount == 501 }
        XCTAssertTrue(gone, "the 1,000 finished jobs go after 10 minutes: \(engine.current().instanceCount) left")
        XCTAssertNil(engine.instance(id: "j1"))
        XCTAssertNotNil(engine.instance(id: "j0"), "a running instance stays")
        XCTAssertNotNil(engine.instance(id: "p1"), "plain has no retention of its own: the cluster's hour applies")

        asleep = try await eventually { clock.sleeperCount == 1 }
        XCTAssertTrue(asleep)
        clock.advance(byMillis: 50 * 60_000)
        gone = try await eventually { engine.instance(id: "p1") == nil }
        XCTAssertTrue(gone, "after the cluster default the plain workflow's finished instance goes too")
        XCTAssertEqual(engine.current().instanceCount, 500)
        sweeper.cancel()
        _ = await sweeper.result
    }
}
