import Engine
import Foundation
import Logging
@testable import Plugins
import Synchronization
import Workflow
import XCTest

/// The dispatcher over a real engine (`LocalConsensus`, always the leader) with real plugin
/// subprocesses and a manual clock for the retry due times.
final class HookDispatcherTests: PluginTestCase {
    private func definition(_ yaml: String) throws -> WorkflowDefinition {
        let loaded = WorkflowLoader.load(text: yaml, file: "test.yaml")
        return try XCTUnwrap(loaded.definition, "\(loaded.diagnostics)")
    }

    /// Runs the dispatcher in the background until the returned task is cancelled.
    private func dispatch(_ consensus: LocalConsensus, clock: ManualClock) -> Task<Void, any Error> {
        let dispatcher = HookDispatcher(catalog: PluginCatalog.discover(in: pluginsDirectory), runner: runner())
        return Task {
            try await dispatcher.run(engine: consensus.engine, clock: clock,
                                     propose: { (command: Command) async throws(ConsensusError) -> Committed in
                                         try await consensus.propose(command, fencedOn: LocalConsensus.term)
                                     },
                                     logger: Logger(label: "test"))
        }
    }

    private func eventually(_ seconds: Double = 10, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1_000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    private func hookRuns(_ engine: ReplicatedEngine, _ instance: String) -> [HookRunRecord] {
        engine.history(of: instance)?.entries.compactMap(\.hook) ?? []
    }

    func testAFailingHookIsRetriedOnItsScheduleThenOnFailureHappensOnce() async throws {
        try script("plugins/fail", "echo attempt $ORCH_ATTEMPT >&2\nexit 3")
        let clock = ManualClock(nowMillis: 1_800_000_000_000)
        let consensus = LocalConsensus(engine: ReplicatedEngine(), clock: clock)
        _ = try await consensus.propose(.registerWorkflow(RegisterWorkflow(definition: try definition("""
            workflow: w
            initial: a
            states: { a: {}, b: {}, broken: { final: true } }
            transitions:
              go:
                from: a
                to: b
                hooks: [{ plugin: fail, retry: { attempts: 3, backoff: 10s, max_backoff: 1m }, on_failure: give-up }]
              give-up: { from: b, to: broken }
            """))))
        _ = try await consensus.propose(.startInstance(StartInstance(workflow: "w", id: "i")))
        _ = try await consensus.propose(.transition(TransitionRequest(instance: "i", name: "go")))
        let engine = consensus.engine
        let running = dispatch(consensus, clock: clock)
        defer { running.cancel() }

        var ok = try await eventually { self.hookRuns(engine, "i").count == 1 }
        XCTAssertTrue(ok, "the first attempt ran at once")
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertEqual(hookRuns(engine, "i").count, 1, "the retry waits for its due time on the clock")
        clock.advance(byMillis: 12_000)
        ok = try await eventually { self.hookRuns(engine, "i").count == 2 }
        XCTAssertTrue(ok, "the second attempt ran once its due time came")
        clock.advance(byMillis: 24_000)
        ok = try await eventually { engine.instance(id: "i")?.state == "broken" }
        XCTAssertTrue(ok, "on_failure was taken after the last attempt")
        let runs = hookRuns(engine, "i")
        XCTAssertEqual(runs.map(\.attempt), [1, 2, 3])
        XCTAssertEqual(runs.map(\.exitCode), [3, 3, 3])
        XCTAssertEqual(runs.last?.final, true)
        XCTAssertTrue(runs[1].stderr.contains("attempt 2"), runs[1].stderr)
        let followUps = engine.history(of: "i")!.entries.filter { $0.transition == "give-up" && $0.kind == .transition }
        XCTAssertEqual(followUps.count, 1)
        XCTAssertEqual(engine.pendingDispatches(), [])
    }

    func testOneInstancesHooksRunOneAfterAnotherAndOtherInstancesInParallel() async throws {
        let log = root + "/order.log"
        try script("plugins/slow", "echo \"start $ORCH_INSTANCE $ORCH_DISPATCH_ID\" >> \(log)\nsleep 0.3\necho \"end $ORCH_INSTANCE $ORCH_DISPATCH_ID\" >> \(log)")
        let clock = ManualClock(nowMillis: 1_800_000_000_000)
        let consensus = LocalConsensus(engine: ReplicatedEngine(), clock: clock)
        _ = try await consensus.propose(.registerWorkflow(RegisterWorkflow(definition: try definition("""
            workflow: w
            initial: a
            states:
              a: { on_exit: [{ plugin: slow }] }
              b: { on_enter: [{ plugin: slow }] }
            transitions:
              go: { from: a, to: b, hooks: [{ plugin: slow }] }
            """))))
        for id in ["x", "y"] {
            _ = try await consensus.propose(.startInstance(StartInstance(workflow: "w", id: id)))
            _ = try await consensus.propose(.transition(TransitionRequest(instance: id, name: "go")))
        }
        let engine = consensus.engine
        let running = dispatch(consensus, clock: clock)
        defer { running.cancel() }
        let done = try await eventually(15) { engine.pendingDispatches().isEmpty }
        XCTAssertTrue(done)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        for instance in ["x", "y"] {
            let mine = lines.filter { $0.split(separator: " ")[1] == instance }
            XCTAssertEqual(mine.count, 6)
            for pair in stride(from: 0, to: mine.count, by: 2) {
                XCTAssertTrue(mine[pair].hasPrefix("start") && mine[pair + 1].hasPrefix("end"), "\(instance) overlapped: \(mine)")
                XCTAssertEqual(mine[pair].split(separator: " ")[2], mine[pair + 1].split(separator: " ")[2])
            }
            let order = mine.filter { $0.hasPrefix("start") }.map { String($0.split(separator: " ")[2]) }
            let index = String(order[0].split(separator: ".")[0])
            XCTAssertEqual(order, ["\(index).1", "\(index).2", "\(index).3"], "on_exit, hooks, on_enter, in order")
        }
        let firstEnd = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("end") })
        XCTAssertEqual(lines[..<firstEnd].filter { $0.hasPrefix("start") }.count, 2, "the two instances ran in parallel")
    }

    func testAHookNamingNoPluginFailsWithAClearReasonAndNothingIsStuck() async throws {
        let clock = ManualClock(nowMillis: 1_800_000_000_000)
        let consensus = LocalConsensus(engine: ReplicatedEngine(), clock: clock)
        _ = try await consensus.propose(.registerWorkflow(RegisterWorkflow(definition: try definition("""
            workflow: w
            initial: a
            states: { a: {}, b: { on_enter: [{ plugin: missing }] } }
            transitions: { go: { from: a, to: b } }
            """))))
        _ = try await consensus.propose(.startInstance(StartInstance(workflow: "w", id: "i")))
        _ = try await consensus.propose(.transition(TransitionRequest(instance: "i", name: "go")))
        let engine = consensus.engine
        let running = dispatch(consensus, clock: clock)
        defer { running.cancel() }
        let ok = try await eventually { engine.pendingDispatches().isEmpty }
        XCTAssertTrue(ok)
        let run = try XCTUnwrap(hookRuns(engine, "i").first)
        XCTAssertEqual(run.result, "could_not_start")
        XCTAssertTrue(run.note.contains("no plugin named 'missing'"), run.note)
        XCTAssertEqual(engine.failedDispatches().map(\.dispatch.plugin), ["missing"])
    }
}
