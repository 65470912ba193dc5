import XCTest
import Engine
import Logging
import Scheduler
import Synchronization
import Workflow

/// Each slot fires once across a leader change at every point around a fire: the old
/// leader's proposal lost before the log, committed with its answer lost, still in flight
/// when the new leader fires the slot (and committed after it), or committed normally; and
/// the new leader starting at the slot, a little later, after the misfire grace, and a whole
/// interval later. The new leader is a second scheduler started on the same engine, as a
/// leader service is after an election; the old one is cancelled, as on being deposed.
final class SchedulerFailoverTests: XCTestCase {
    static let yaml = """
        workflow: beat
        initial: alive
        states:
          alive: {}
          done: { final: true }
        transitions:
          tick: { from: alive, to: alive }
          finish: { from: alive, to: done }
        triggers:
          - name: spawn
            cron: "@every 1m"
            start: {}
          - name: pulse
            cron: "@every 1m"
            transition: tick
            where: { state: alive }
            misfire: all

        """

    /// What happens to the old leader's proposals of cron slots once the fault is on.
    enum Fault: String, CaseIterable {
        /// Refused before reaching the log (the node lost leadership first).
        case lostBeforeLog
        /// Committed, but the answer never came back (the leader died after replicating).
        case committedAnswerLost
        /// Held in flight and committed only after the new leader fired the same slot.
        case committedLate
        /// Committed and answered; the leader dies right after.
        case committed
    }

    /// Counts and holds the old leader's faulty proposals.
    final class OldLeader: Sendable {
        let fault: Fault
        private let state = Mutex<(on: Bool, attempts: Int, held: [Command])>((false, 0, []))
        init(fault: Fault) { self.fault = fault }

        func turnOn() { state.withLock { $0.on = true } }
        var attempts: Int { state.withLock { $0.attempts } }
        var held: [Command] { state.withLock { $0.held } }

        func propose(_ command: Command, _ consensus: LocalConsensus) async throws(ConsensusError) -> Committed {
            let faulty: Bool = state.withLock { state in
                guard state.on, case .cronFire = command else { return false }
                state.attempts += 1
                if fault == .committedLate { state.held.append(command) }
                return true
            }
            guard faulty else { return try await consensus.propose(command, fencedOn: nil) }
            switch fault {
            case .lostBeforeLog:
                throw ConsensusError.leaderChanged
            case .committedAnswerLost:
                _ = try await consensus.propose(command, fencedOn: nil)
                throw ConsensusError.outcomeUnknown(reason: "leader died after replicating")
            case .committedLate:
                // In flight until this leader is deposed (the task cancelled).
                try? await Task.sleep(for: .seconds(3_600))
                throw ConsensusError.outcomeUnknown(reason: "deposed with the entry in flight")
            case .committed:
                return try await consensus.propose(command, fencedOn: nil)
            }
        }
    }

    private let start: Int64 = 1_796_180_400_000   // 2026-12-02T03:00:00Z

    private func eventually(_ seconds: Double = 10, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(2))
        }
        return condition()
    }

    private func scheduler(_ engine: ReplicatedEngine, _ clock: ManualClock,
                           _ propose: @escaping @Sendable (Command) async throws(ConsensusError) -> Committed) -> Task<Void, any Error> {
        Task { try await CronScheduler().run(engine: engine, clock: clock, propose: propose, logger: Logger(label: "test")) }
    }

    func testEachSlotFiresOnceWhateverPointTheLeaderChangesAt() async throws {
        // How long after the faulty slot the new leader's scheduler starts.
        let gaps: [Int64] = [0, 5_000, 15_000, 61_000]
        for fault in Fault.allCases {
            for gap in gaps {
                try await run(fault: fault, gapMillis: gap)
            }
        }
    }

    private func run(fault: Fault, gapMillis: Int64) async throws {
        let label = "fault \(fault.rawValue), new leader \(gapMillis) ms after the slot"
        let clock = ManualClock(nowMillis: start)
        let engine = ReplicatedEngine()
        let consensus = LocalConsensus(engine: engine, clock: clock)
        let loaded = WorkflowLoader.load(text: Self.yaml, file: "beat.yaml")
        let definition = try XCTUnwrap(loaded.definition, "\(loaded.diagnostics)")
        _ = try await consensus.propose(.registerWorkflow(RegisterWorkflow(definition: definition)), fencedOn: nil)
        _ = try await consensus.propose(.startInstance(StartInstance(workflow: "beat", id: "watch")), fencedOn: nil)
        let anchor = try XCTUnwrap(engine.current().trigger(workflow: "beat", name: "pulse")).anchorMillis
        func slot(_ k: Int64) -> Int64 { anchor + k * 60_000 }
        func lastSlot(_ trigger: String) -> Int64? { engine.current().trigger(workflow: "beat", name: trigger)?.lastSlotMillis }

        // Slot 1 fires normally on the old leader; slot 2 meets the fault.
        let old = OldLeader(fault: fault)
        let first = scheduler(engine, clock) { (command: Command) async throws(ConsensusError) -> Committed in
            try await old.propose(command, consensus)
        }
        clock.set(millis: slot(1))
        var ok = try await eventually { lastSlot("pulse") == slot(1) && lastSlot("spawn") == slot(1) }
        XCTAssertTrue(ok, "\(label): slot 1 fired on the old leader")
        old.turnOn()
        clock.set(millis: slot(2))
        ok = try await eventually { old.attempts >= 1 }
        XCTAssertTrue(ok, "\(label): the old leader proposed slot 2")
        first.cancel()
        _ = await first.result

        // The new leader takes over `gapMillis` after slot 2.
        clock.set(millis: slot(2) + gapMillis)
        let current = slot(2) + gapMillis >= slot(3) ? Int64(3) : 2
        let second = scheduler(engine, clock) { (command: Command) async throws(ConsensusError) -> Committed in
            try await consensus.propose(command, fencedOn: nil)
        }
        ok = try await eventually { lastSlot("pulse") == slot(current) && lastSlot("spawn") == slot(current) }
        XCTAssertTrue(ok, "\(label): the new leader fired through slot \(current): pulse \(String(describing: lastSlot("pulse")))")
        // The old leader's entry still in flight commits now, after the new leader fired it.
        for command in old.held { _ = try await consensus.propose(command, fencedOn: nil) }
        // One more slot on the new leader.
        clock.set(millis: slot(current + 1))
        ok = try await eventually { lastSlot("pulse") == slot(current + 1) && lastSlot("spawn") == slot(current + 1) }
        XCTAssertTrue(ok, "\(label): slot \(current + 1) fired")
        second.cancel()
        _ = await second.result

        let last = current + 1
        // pulse (misfire: all) moved `watch` once per slot, in order: none twice, none missed.
        let causes = engine.history(of: "watch")?.entries.compactMap(\.cause) ?? []
        let expected = (1...last).map { "cron pulse \(Timestamp.rfc3339(millis: slot($0)))" }
        XCTAssertEqual(causes, expected, label)
        // spawn (misfire: once) started one instance per slot; when slot 2 was still unfired
        // and slot 3 was due by then, only the latest missed slot fires and slot 2 counts as missed.
        let slot2FiredByOld = fault == .committed || fault == .committedAnswerLost
        let spawnSlots: [Int64] = (1...last).filter { k in !(k == 2 && current == 3 && !slot2FiredByOld) }
        let spawned = engine.current().instances(workflow: "beat").instances.map(\.id).filter { $0 != "watch" }
        XCTAssertEqual(spawned, spawnSlots.map { EngineState.cronInstanceID(workflow: "beat", trigger: "spawn", slotMillis: slot($0)) },
                       label)
        let spawn = try XCTUnwrap(engine.current().trigger(workflow: "beat", name: "spawn"))
        XCTAssertEqual(spawn.fired, UInt64(spawnSlots.count), label)
        XCTAssertEqual(spawn.missed, UInt64(last) - UInt64(spawnSlots.count), label)
        let pulse = try XCTUnwrap(engine.current().trigger(workflow: "beat", name: "pulse"))
        XCTAssertEqual(pulse.fired, UInt64(last), label)
        XCTAssertEqual(pulse.missed, 0, label)
    }
}
