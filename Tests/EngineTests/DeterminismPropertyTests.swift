import XCTest
@testable import Engine
import Workflow

/// Random command sequences against the determinism and snapshot properties. Each test
/// prints its seed on failure; rerun with `ENGINE_TEST_SEED=<seed>` to reproduce.
final class DeterminismPropertyTests: XCTestCase {
    /// A random but plausible log: registrations, starts, transitions by name and by state,
    /// expectations, patches, retries, reused ids, garbage and empty entries.
    private func randomLog(count: Int, generator: inout SeededGenerator) -> [[UInt8]] {
        let definitions = [orderDefinition, cookbookDefinition, orderV2Definition]
        let names = ["pay", "ship", "deliver", "hand-over", "escalate", "cancel", "touch", "second", "third", "first", "fly"]
        let states = ["created", "paid", "shipped", "escalated", "delivered", "cancelled", "first", "second", "third", "moon"]
        var log: [[UInt8]] = []
        var time: Int64 = 1_700_000_000_000
        var earlier: [Command] = []
        func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &generator)] }
        func maybe(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &generator) < probability }
        func instanceID() -> String { "i\(Int.random(in: 0..<12, using: &generator))" }
        func requestID() -> String? { maybe(0.6) ? "r\(Int.random(in: 0..<400, using: &generator))" : nil }
        func data() -> [String: JSONValue]? {
            guard maybe(0.3) else { return nil }
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...3, using: &generator) {
                members["k\(Int.random(in: 0..<5, using: &generator))"] = pick([.null, .bool(true), .number(Double(Int.random(in: -9...9, using: &generator))),
                                                                                .string("s"), .array([.number(1)]), .object(["x": .null])])
            }
            return members
        }
        for _ in 0..<count {
            // Leader clocks jump around; the engine clock must not.
            time += Int64.random(in: -2_000...60_000, using: &generator)
            let roll = Int.random(in: 0..<100, using: &generator)
            var command: Command
            switch roll {
            case 0..<4: command = .registerWorkflow(RegisterWorkflow(definition: pick(definitions), requestID: requestID()))
            case 4..<20:
                command = .startInstance(StartInstance(workflow: pick(["order", "cookbook", "nope"]),
                                                       version: maybe(0.1) ? Int.random(in: 0...3, using: &generator) : nil,
                                                       id: instanceID(), data: data(), requestID: requestID()))
            case 20..<85:
                command = .transition(TransitionRequest(instance: instanceID(), name: maybe(0.7) ? pick(names) : nil,
                                                        to: maybe(0.4) ? pick(states) : nil, expect: maybe(0.15) ? pick(states) : nil,
                                                        dataPatch: data(), requestID: requestID()))
            case 85..<88:
                // Cron slots (some repeated, some for unknown triggers) and timers (some stale).
                command = .cronFire(CronFire(slots: (0..<Int.random(in: 1...3, using: &generator)).map { _ in
                    CronSlot(workflow: pick(["order", "cookbook"]), trigger: pick(["nightly", "hourly", "none"]),
                             slotMillis: time - Int64.random(in: 0...90_000_000, using: &generator),
                             missed: Int.random(in: 0...2, using: &generator))
                }))
            case 88..<90:
                command = .timerFire(TimerFire(timers: [TimerSlot(instance: instanceID(), revision: UInt64.random(in: 1...6, using: &generator))]))
            case 90..<93 where !earlier.isEmpty:
                command = pick(earlier)  // a retry, possibly much later
            case 93..<96:
                log.append([])
                continue
            default:
                var bytes = (earlier.last ?? .startInstance(StartInstance(workflow: "order", id: "g"))).encoded()
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                log.append(bytes)
                continue
            }
            command = command.stamped(atMillis: time)
            earlier.append(command)
            log.append(command.encoded())
        }
        return log
    }

    private var settings: EngineSettings {
        EngineSettings(requestIDsMax: 150, requestIDRetentionMillis: 3_600_000, historyEntriesPerInstanceMax: 20, instancesMax: 10)
    }

    func testTwoEnginesApplyingTheSameLogHaveIdenticalSnapshots() throws {
        let seed = testSeed(0x5eed_0001)
        for round in 0..<8 {
            var generator = SeededGenerator(seed: seed &+ UInt64(round))
            let log = randomLog(count: 600, generator: &generator)
            var a = EngineState(settings: settings)
            var b = EngineState(settings: settings)
            for (offset, bytes) in log.enumerated() {
                let index = UInt64(offset + 1)
                let outcomeA = a.apply(index: index, bytes: bytes)
                // B applies decoded commands (the in-memory path) where they decode.
                let outcomeB = (try? Command.decode(bytes)).map { b.apply(index: index, command: $0) } ?? b.apply(index: index, bytes: bytes)
                XCTAssertEqual(outcomeA, outcomeB, "seed \(seed &+ UInt64(round)), entry \(index)")
            }
            XCTAssertEqual(a.snapshot(), b.snapshot(), "seed \(seed &+ UInt64(round))")
            XCTAssertGreaterThan(a.instanceCount, 0)
        }
    }

    /// The effects are part of apply's deterministic result: three replicas applying the same
    /// random log publish identical effect streams, and each entry's effects describe exactly
    /// what its outcome says happened.
    func testThreeEnginesPublishIdenticalEffectsForTheSameLog() async throws {
        let seed = testSeed(0x5eed_0004)
        for round in 0..<4 {
            let roundSeed = seed &+ UInt64(round)
            var generator = SeededGenerator(seed: roundSeed)
            let log = randomLog(count: 400, generator: &generator)
            let engines = (0..<3).map { _ in ReplicatedEngine(settings: settings) }
            let subscriptions = engines.map { $0.subscribe().effects }
            var expected: [CommittedEffects] = []
            for (offset, bytes) in log.enumerated() {
                let index = UInt64(offset + 1)
                let term = UInt64(1 + offset / 100)
                let results = engines.map { $0.apply(index: index, term: term, bytes: bytes) }
                XCTAssertEqual(results[0], results[1], "seed \(roundSeed) entry \(index)")
                XCTAssertEqual(results[0], results[2], "seed \(roundSeed) entry \(index)")
                let applied = results[0]
                // A repeated request id returns its first outcome (with that entry's index) and
                // does nothing, so it has no effects.
                switch applied.outcome {
                case .transitioned(let moved) where moved.index == index:
                    XCTAssertEqual(applied.effects.first, .instanceMoved(
                        id: moved.id, workflow: engines[0].instance(id: moved.id)!.workflow, transition: moved.transition,
                        from: moved.from, to: moved.to, revision: moved.revision), "seed \(roundSeed) entry \(index)")
                case .instanceStarted(let started) where started.index == index:
                    XCTAssertEqual(applied.effects.first, .instanceStarted(id: started.id, workflow: started.workflow,
                                                                           version: started.version, state: started.state))
                case .workflowRegistered(let registered) where registered.created && registered.index == index:
                    XCTAssertEqual(applied.effects, [.workflowRegistered(name: registered.name, version: registered.version,
                                                                         hash: registered.hash)])
                default:
                    XCTAssertEqual(applied.effects, [], "seed \(roundSeed) entry \(index): \(applied.outcome) has no effects")
                }
                if !applied.effects.isEmpty { expected.append(CommittedEffects(index: index, term: term, effects: applied.effects)) }
            }
            XCTAssertGreaterThan(expected.count, 15, "the random log should start and move instances")
            for engine in engines { engine.effects.finishAll() }
            for subscription in subscriptions {
                var published: [CommittedEffects] = []
                for try await batch in subscription { published.append(batch) }
                XCTAssertEqual(published, expected, "seed \(roundSeed)")
            }
        }
    }

    func testRestoreAtAnyPointThenApplyingTheRestEqualsApplyingAll() throws {
        let seed = testSeed(0x5eed_0002)
        for round in 0..<6 {
            let roundSeed = seed &+ UInt64(round)
            var generator = SeededGenerator(seed: roundSeed)
            let log = randomLog(count: 500, generator: &generator)
            var whole = EngineState(settings: settings)
            var snapshots: [Int: [UInt8]] = [:]
            let cuts = Set((0..<5).map { _ in Int.random(in: 0...log.count, using: &generator) })
            for (offset, bytes) in log.enumerated() {
                if cuts.contains(offset) { snapshots[offset] = whole.snapshot() }
                _ = whole.apply(index: UInt64(offset + 1), bytes: bytes)
            }
            if cuts.contains(log.count) { snapshots[log.count] = whole.snapshot() }
            let expected = whole.snapshot()
            XCTAssertEqual(try EngineState(restoring: expected, settings: settings).snapshot(), expected, "seed \(roundSeed)")
            for (cut, snapshot) in snapshots {
                var resumed = try EngineState(restoring: snapshot, settings: settings)
                XCTAssertEqual(resumed.snapshot(), snapshot, "seed \(roundSeed) cut \(cut): snapshot→restore→snapshot")
                for offset in cut..<log.count { _ = resumed.apply(index: UInt64(offset + 1), bytes: log[offset]) }
                XCTAssertEqual(resumed.snapshot(), expected, "seed \(roundSeed) cut \(cut)")
            }
        }
    }

    func testInvariantsHoldAlongRandomLogs() {
        let seed = testSeed(0x5eed_0003)
        var generator = SeededGenerator(seed: seed)
        let log = randomLog(count: 1_500, generator: &generator)
        var state = EngineState(settings: settings)
        var lastClock = Int64.min
        for (offset, bytes) in log.enumerated() {
            let before = state
            let outcome = state.apply(index: UInt64(offset + 1), bytes: bytes).outcome
            XCTAssertGreaterThanOrEqual(state.clockMillis, lastClock, "seed \(seed)")
            lastClock = state.clockMillis
            if case .rejected = outcome {
                // A rejection changes no instance.
                XCTAssertEqual(before.instances, state.instances, "seed \(seed) entry \(offset + 1)")
            }
            if case .transitioned(let moved) = outcome {
                let instance = state.instance(id: moved.id)!
                let definition = state.workflowVersion(instance.workflow, version: instance.version)!.definition
                XCTAssertTrue(definition.allows(moved.transition, from: moved.from), "seed \(seed)")
                XCTAssertEqual(instance.state, moved.to)
            }
        }
        XCTAssertLessThanOrEqual(state.instanceCount, 10)
        XCTAssertLessThanOrEqual(state.requestIDCount, 150)
        for instance in state.instances(limit: 1000).instances {
            let history = state.history(of: instance.id)!
            XCTAssertLessThanOrEqual(history.entries.count, 20)
            XCTAssertEqual(history.entries.last?.to, instance.state)
            XCTAssertEqual(history.entries.last?.revision, instance.revision)
            XCTAssertEqual(UInt64(history.entries.count) + history.droppedCount, instance.revision)
        }
    }

    func testRandomBytesNeverCrash() {
        let seed = testSeed(0x5eed_0004)
        var generator = SeededGenerator(seed: seed)
        var state = Harness().state
        let valid = CodecTests.sampleCommands.map { $0.encoded() } + [EngineState().snapshot()]
        for round in 0..<3_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0..<64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                if round % 4 == 0, !bytes.isEmpty { bytes[0] = 1 }
            } else {
                bytes = valid[round % valid.count]
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            _ = state.apply(index: UInt64(round + 10), bytes: bytes)
            _ = try? Outcome.decode(bytes)
            _ = try? EngineState(restoring: bytes)
        }
    }
}
