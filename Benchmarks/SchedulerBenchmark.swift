import Cluster
import Engine
import Foundation
import Histogram
import Logging
import Metrics
import Raft
import Scheduler
import Synchronization
import Workflow

/// `orchestrator-bench scheduler`: what cron triggers and state timeouts cost.
///
/// 1. Cron on a 3-node durable cluster (`LoopbackCluster`: WAL with fsync, TCP loopback, one
///    process): `--workflows` workflows of `--triggers-per-workflow` `transition` triggers
///    `@every 1s` (10,000 by default), the real `CronScheduler` on the leader, run for
///    `--seconds`. Per slot, the lag from the slot's time to its entry being applied on the
///    leader (measured inside the leader's apply); the scheduler's own time
///    (`orchestrator_scheduler_pass_seconds`); the process's CPU against an idle baseline of
///    the same cluster with no triggers; memory per trigger.
/// 2. State timeouts at the engine (no Raft): `--timers` instances started into a state with a
///    timeout against the same without one (arming), leaving it (cancelling), `timerFire`
///    batches (firing); the scheduler tracking that many pending timers; memory per timer.
func runSchedulerBenchmark(_ arguments: [String]) throws {
    var options = SchedulerBenchOptions()
    var index = 0
    while index < arguments.count {
        let flag = arguments[index]
        let value = index + 1 < arguments.count ? arguments[index + 1] : ""
        switch flag {
        case "--seconds": options.seconds = Double(value) ?? options.seconds
        case "--idle-seconds": options.idleSeconds = Double(value) ?? options.idleSeconds
        case "--workflows": options.workflows = Int(value) ?? options.workflows
        case "--triggers-per-workflow": options.triggersPerWorkflow = Int(value) ?? options.triggersPerWorkflow
        case "--instances": options.instances = Int(value) ?? options.instances
        case "--timers": options.timers = Int(value) ?? options.timers
        case "--runs": options.runs = Int(value) ?? options.runs
        case "--part": options.part = value
        case "--dir": options.directory = value
        default:
            throw BenchmarkUsage("unknown option \(flag) (known: --seconds 30 --idle-seconds 10 --workflows 1000 --triggers-per-workflow 10 "
                                 + "--instances 10 --timers 100000 --runs 3 --part all|cron|timers --dir PATH)")
        }
        index += 2
    }
    guard options.seconds > 0, options.idleSeconds > 0, options.workflows >= 1, options.triggersPerWorkflow >= 1,
          options.instances >= 0, options.instances <= options.workflows, options.timers >= 1, options.runs >= 1,
          ["all", "cron", "timers"].contains(options.part) else {
        throw BenchmarkUsage("--seconds, --idle-seconds, --workflows, --triggers-per-workflow, --timers and --runs need positive values, "
                             + "--instances at most --workflows, --part one of all, cron, timers")
    }
    MetricsSystem.bootstrap(BenchMetrics.shared)
    print("scheduler: cron triggers on a 3-node cluster and state timeouts in the engine")
    print("command: swift run -c release orchestrator-bench scheduler --part \(options.part) --seconds \(Int(options.seconds)) "
          + "--idle-seconds \(Int(options.idleSeconds)) --workflows \(options.workflows) --triggers-per-workflow \(options.triggersPerWorkflow) "
          + "--instances \(options.instances) --timers \(options.timers) --runs \(options.runs)")
    print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(loadAverage())")
    let done = DispatchSemaphore(value: 0)
    let failure = Mutex<String?>(nil)
    let settings = options
    Task.detached {
        do {
            if settings.part != "cron" { try await timerBenchmark(settings) }
            if settings.part != "timers" { try await cronBenchmark(settings) }
        } catch {
            failure.withLock { $0 = "\(error)" }
        }
        done.signal()
    }
    done.wait()
    try? FileManager.default.removeItem(atPath: options.directory)
    if let message = failure.withLock({ $0 }) { throw BenchmarkUsage(message) }
}

struct SchedulerBenchOptions: Sendable {
    var seconds = 30.0
    var idleSeconds = 10.0
    var workflows = 1_000
    var triggersPerWorkflow = 10
    var instances = 10
    var timers = 100_000
    var runs = 3
    var part = "all"
    var directory = FileManager.default.temporaryDirectory.appendingPathComponent("orch-bench-scheduler-\(getpid())").path
    var triggers: Int { workflows * triggersPerWorkflow }
}

// MARK: - Part 1: cron triggers on a cluster

/// A workflow of `triggers` `@every 1s` triggers that alternate between moving instances
/// `idle → busy` and `busy → idle`: every trigger fires every second whether or not an
/// instance is there, and an instance (when the benchmark starts one) moves once per trigger.
private func cronWorkflowYAML(name: String, triggers: Int) -> String {
    var text = """
        workflow: \(name)
        initial: idle
        states:
          idle: {}
          busy: {}
        transitions:
          tick: { from: idle, to: busy }
          tock: { from: busy, to: idle }
        triggers:

        """
    for trigger in 0..<triggers {
        let (transition, state) = trigger % 2 == 0 ? ("tick", "idle") : ("tock", "busy")
        text += "  - { name: t\(trigger), cron: \"@every 1s\", transition: \(transition), where: { state: \(state) } }\n"
    }
    return text
}

private func loadDefinition(_ yaml: String, file: String) throws -> WorkflowDefinition {
    let loaded = WorkflowLoader.load(text: yaml, file: file)
    guard let definition = loaded.definition else {
        throw BenchmarkUsage("\(file): \(loaded.diagnostics.prefix(3).map(\.description).joined(separator: "; "))")
    }
    return definition
}

/// The engine as a node's state machine (what `serve` runs), timing each applied cron slot
/// against the wall clock as it is applied: slot time → applied on this node.
final class LagRecordingMachine: ReplicatedStateMachine {
    let engine = ReplicatedEngine()
    let recording = Atomic<Bool>(false)
    /// Microseconds from a slot's time to its apply here.
    let lags = Mutex(Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three))

    func apply(index: LogIndex, term: Term, command: [UInt8]) -> any Sendable {
        let applied = engine.apply(index: index, term: term, bytes: command)
        if recording.load(ordering: .relaxed) {
            let now = wallMicros()
            lags.withLock { histogram in
                for effect in applied.effects {
                    if case .cronFired(_, _, let slot) = effect { _ = histogram.record(UInt64(max(0, now - slot * 1_000))) }
                }
            }
        }
        return applied
    }

    func snapshot() -> [UInt8] { engine.snapshot().bytes }

    func snapshotSource() -> @Sendable () -> [UInt8] {
        let copy = engine.current()
        return { copy.snapshot() }
    }

    func restore(from snapshot: [UInt8]) throws { try engine.restore(snapshot) }
}

/// The system's time of day (what `serve`'s `SystemClock` is).
struct BenchWallClock: WallClock {
    var nowMillis: Int64 { Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down)) }

    func sleep(untilMillis deadline: Int64) async throws {
        while true {
            let remaining = deadline - nowMillis
            if remaining <= 0 { return }
            try await Task.sleep(for: .milliseconds(min(remaining, 1_000)))
        }
    }
}

private func wallMicros() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1_000
}

/// Proposes `command` on `node` the way `ClusterConsensus` does: stamped with the clock,
/// encoded, the engine's own outcome handed back.
private func clusterPropose(_ command: Command, on node: ClusterNode, clock: any WallClock) async throws(ConsensusError) -> Committed {
    let proposed: Proposed
    do {
        proposed = try await node.propose(command.stamped(atMillis: clock.nowMillis).encoded())
    } catch ClusterError.deposed(let term, let current) {
        throw ConsensusError.deposed(term: term, currentTerm: current)
    } catch {
        throw ConsensusError.outcomeUnknown(reason: "\(error)")
    }
    guard let applied = proposed.result as? Applied else { throw ConsensusError.outcomeUnknown(reason: "no engine outcome") }
    return Committed(index: proposed.index, outcome: applied.outcome)
}

private func cronBenchmark(_ options: SchedulerBenchOptions) async throws {
    print("")
    print("== cron: \(options.triggers) triggers `@every 1s` (\(options.workflows) workflows × \(options.triggersPerWorkflow) `transition` triggers), "
          + "\(options.instances) instances they move, 3 nodes, WAL with fsync, TCP loopback, one process, 100 ms ticks")
    let definitions = try (0..<options.workflows).map { index in
        try loadDefinition(cronWorkflowYAML(name: String(format: "cron-%05d", index), triggers: options.triggersPerWorkflow),
                           file: "cron-\(index).yaml")
    }
    triggerEngineCost(definitions)
    let syncRate = rawSyncRate(directory: options.directory)
    print(String(format: "raw fdatasync (4 KiB pwrite + fdatasync) on %@: %.0f /s (%.0f µs each)", options.directory as NSString, syncRate,
                 1e6 / max(syncRate, 1)))
    let clock = BenchWallClock()
    let machines = Mutex<[NodeID: LagRecordingMachine]>([:])
    // Ticks as `serve` has them (100 ms, an election after 1 s without a leader).
    let cluster = try await LoopbackCluster.start(directory: options.directory, tickMillis: 100) { id in
        let machine = LagRecordingMachine()
        machines.withLock { $0[id] = machine }
        return machine
    }
    let leader = try await cluster.leader()
    let machine = machines.withLock { $0[leader.id]! }
    let logger = Logger(label: "bench-scheduler")
    let scheduler = Task {
        try await CronScheduler().run(engine: machine.engine, clock: clock,
                                      propose: { (command: Command) async throws(ConsensusError) -> Committed in
                                          try await clusterPropose(command, on: leader, clock: clock)
                                      }, logger: logger)
    }
    _ = try await clusterPropose(.startInstance(StartInstance(workflow: "none", id: "warm-up")), on: leader, clock: clock)
    try await Task.sleep(for: .seconds(1))

    // Idle: the same cluster and scheduler with no trigger.
    let passes = BenchMetrics.shared.timer("orchestrator_scheduler_pass_seconds")
    let idle = try await measureWindow(seconds: options.idleSeconds, passes: passes)
    print(String(format: "idle (no triggers, %.0f s): process CPU %.1f%% of a core; scheduler passes %.1f/s, %.3f%% of a core",
                 options.idleSeconds, idle.cpuPercent, idle.passesPerSecond, idle.passPercent))

    // Register the workflows one entry at a time, as `serve` registers a directory (each is
    // anchored at its own registration time, so the triggers' phases spread over the second).
    let memoryBefore = MemoryUse.now()
    let snapshotBefore = machine.engine.snapshot().bytes.count
    let registerStart = ContinuousClock.now
    var lastIndex: UInt64 = 0
    for definition in definitions {
        let committed = try await clusterPropose(.registerWorkflow(RegisterWorkflow(definition: definition)), on: leader, clock: clock)
        guard case .workflowRegistered = committed.outcome else { throw BenchmarkUsage("registering \(definition.name): \(committed.outcome)") }
        lastIndex = committed.index
    }
    let registerTime = ContinuousClock.now - registerStart
    for id in 0..<options.instances {
        let committed = try await clusterPropose(.startInstance(StartInstance(workflow: String(format: "cron-%05d", id), id: "moved-\(id)")),
                                          on: leader, clock: clock)
        lastIndex = committed.index
    }
    for _ in 0..<400 where cluster.nodes.contains(where: { $0.status.appliedIndex < lastIndex }) {
        try await Task.sleep(for: .milliseconds(25))
    }
    // The scheduler runs on this node only (the server would start one on the new leader).
    guard leader.status.role == .leader else {
        throw BenchmarkUsage("node \(leader.id) lost the lead while registering (a node-loop turn longer than the election timeout?)")
    }
    let memoryAfter = MemoryUse.now()
    let snapshotAfter = machine.engine.snapshot().bytes.count
    let triggerStates = machine.engine.triggerStates()
    let phases = Set(triggerStates.map { (($0.anchorMillis % 1_000) + 1_000) % 1_000 }).count
    print(String(format: "registered %d workflows (%d triggers) in %.2f s; distinct anchor phases within the second: %d",
                 options.workflows, triggerStates.count, toSeconds(registerTime), phases))
    print(String(format: "memory per trigger, whole process (3 replicas, 3 logs, scheduler): RSS after malloc_trim %.0f B; "
                 + "snapshot (one replica): %.0f B per trigger",
                 Double(memoryAfter.rssBytes - memoryBefore.rssBytes) / Double(options.triggers),
                 Double(snapshotAfter - snapshotBefore) / Double(options.triggers)))

    // Warm up (the first slots, the scheduler's schedule cache), then measure.
    try await Task.sleep(for: .seconds(3))
    let firedBefore = machine.engine.triggerStates().reduce(0) { $0 + $1.fired }
    let missedBefore = machine.engine.triggerStates().reduce(0) { $0 + $1.missed }
    let commitLag = BenchMetrics.shared.timer("orchestrator_cron_fire_lag_seconds")
    commitLag.reset()
    machine.lags.withLock { $0.reset() }
    let leaderChanges = leader.status.leaderChanges
    machine.recording.store(true, ordering: .relaxed)
    let busy = try await measureWindow(seconds: options.seconds, passes: passes)
    machine.recording.store(false, ordering: .relaxed)
    guard leader.status.role == .leader, leader.status.leaderChanges == leaderChanges else {
        throw BenchmarkUsage("node \(leader.id) lost the lead during the run")
    }
    let fired = Int(machine.engine.triggerStates().reduce(0) { $0 + $1.fired } - firedBefore)
    let missed = Int(machine.engine.triggerStates().reduce(0) { $0 + $1.missed } - missedBefore)
    let lags = machine.lags.withLock { $0 }
    func ms(_ micros: UInt64) -> String { String(format: "%.1f", Double(micros) / 1_000) }
    print(String(format: "run %.0f s: %d slots fired (%.0f/s; expected %d/s), %d missed", options.seconds, fired,
                 Double(fired) / busy.wallSeconds, options.triggers, missed))
    print("fire lag, slot time → applied on the leader (\(lags.totalCount) slots): p50 \(ms(lags.valueAtPercentile(50))) ms, "
          + "p90 \(ms(lags.valueAtPercentile(90))) ms, p99 \(ms(lags.valueAtPercentile(99))) ms, "
          + "p99.9 \(ms(lags.valueAtPercentile(99.9))) ms, max \(ms(lags.max)) ms")
    let scheduled = commitLag.histogram()
    print("fire lag as the scheduler sees it (orchestrator_cron_fire_lag_seconds, ms resolution, after the commit returns): "
          + "p50 \(ms(scheduled.valueAtPercentile(50))) ms, p99 \(ms(scheduled.valueAtPercentile(99))) ms, max \(ms(scheduled.max)) ms")
    let passHistogram = busy.passHistogram
    print(String(format: "scheduler passes: %.1f/s, each p50 %@ ms p99 %@ ms max %@ ms; %.2f%% of a core (%.2f µs per slot)",
                 busy.passesPerSecond, ms(passHistogram.valueAtPercentile(50)) as NSString,
                 ms(passHistogram.valueAtPercentile(99)) as NSString, ms(passHistogram.max) as NSString, busy.passPercent,
                 busy.passSeconds * 1e6 / Double(max(fired, 1))))
    print(String(format: "process CPU (3 nodes + scheduler): %.1f%% of a core, %.1f%% above idle (%.1f µs per slot)",
                 busy.cpuPercent, busy.cpuPercent - idle.cpuPercent,
                 (busy.cpuPercent - idle.cpuPercent) / 100 * busy.wallSeconds * 1e6 / Double(max(fired, 1))))
    scheduler.cancel()
    _ = await scheduler.result
    await cluster.shutdown()
}

/// The registrations applied to one engine state, no Raft: what a replica pays for them, the
/// longest single apply (a node-loop turn), and memory and snapshot bytes per trigger.
private func triggerEngineCost(_ definitions: [WorkflowDefinition]) {
    let entries = definitions.map { Command.registerWorkflow(RegisterWorkflow(definition: $0, proposedAtMillis: 1_796_180_400_000)).encoded() }
    let triggers = definitions.reduce(0) { $0 + $1.triggers.count }
    let memoryBefore = MemoryUse.now()
    var state = EngineState()
    var longest: UInt64 = 0
    let start = threadCPUNanos()
    for (index, bytes) in entries.enumerated() {
        let t0 = threadCPUNanos()
        _ = state.apply(index: UInt64(index + 1), bytes: bytes)
        longest = max(longest, threadCPUNanos() - t0)
    }
    let total = threadCPUNanos() - start
    let memory = MemoryUse.now().rssBytes - memoryBefore.rssBytes
    let bytes = entries.reduce(0) { $0 + $1.count }
    let snapshotBytes = state.snapshot().count
    // Ten seconds of slots, every trigger once a second, `CronFire.slotsMax` per entry (no instances).
    let slots = definitions.flatMap { definition in definition.triggers.map { (definition.name, $0.name) } }
    var index = UInt64(entries.count + 1)
    var fireNanos: UInt64 = 0
    var encodeNanos: UInt64 = 0
    for second in 1...10 {
        let at: Int64 = 1_796_180_400_000 + Int64(second) * 1_000
        for first in stride(from: 0, to: slots.count, by: CronFire.slotsMax) {
            let batch = slots[first..<min(slots.count, first + CronFire.slotsMax)].map { CronSlot(workflow: $0.0, trigger: $0.1, slotMillis: at) }
            let e0 = threadCPUNanos()
            let bytes = Command.cronFire(CronFire(slots: batch, proposedAtMillis: at)).encoded()
            let t0 = threadCPUNanos()
            _ = state.apply(index: index, bytes: bytes)
            fireNanos += threadCPUNanos() - t0
            encodeNanos += t0 - e0
            index += 1
        }
    }
    print(String(format: "one replica (EngineState, no Raft): applying the %d registrations (%.1f MB of entries) takes %.0f ms of CPU "
                 + "(%.1f µs per trigger, longest single apply %.1f ms); %.0f B of memory and %.0f snapshot bytes per trigger",
                 definitions.count, Double(bytes) / 1e6, Double(total) / 1e6, Double(total) / 1e3 / Double(triggers),
                 Double(longest) / 1e6, Double(memory) / Double(triggers), Double(snapshotBytes) / Double(triggers)))
    print(String(format: "  cronFire, %d slots per entry, no instance to move: apply %.2f µs per slot, encoding the entry %.2f µs per slot",
                 CronFire.slotsMax, Double(fireNanos) / 1e3 / Double(10 * slots.count), Double(encodeNanos) / 1e3 / Double(10 * slots.count)))
}

struct Window {
    var wallSeconds: Double
    var cpuPercent: Double
    var passSeconds: Double
    var passCount: Int
    var passHistogram: Histogram<UInt64>
    var passesPerSecond: Double { Double(passCount) / wallSeconds }
    var passPercent: Double { passSeconds / wallSeconds * 100 }
}

/// Process CPU and the scheduler's pass time over `seconds` of wall time.
private func measureWindow(seconds: Double, passes: SummingTimer) async throws -> Window {
    passes.reset()
    let cpuStart = processCPUNanos()
    let start = ContinuousClock.now
    try await Task.sleep(for: .milliseconds(Int(seconds * 1_000)))
    let wall = ContinuousClock.now - start
    let cpu = Double(processCPUNanos() - cpuStart) / 1e9
    let (count, total) = passes.totals()
    return Window(wallSeconds: toSeconds(wall), cpuPercent: cpu / toSeconds(wall) * 100, passSeconds: Double(total) / 1e9, passCount: count,
                  passHistogram: passes.histogram())
}

// MARK: - Part 2: state timeouts in the engine

private let timedYAML = """
    workflow: timed
    initial: waiting
    states:
      waiting:
        timeout: { after: 1h, transition: expire }
      done: { final: true }
      expired: { final: true }
    transitions:
      expire: { from: waiting, to: expired }
      leave: { from: waiting, to: done }

    """

private let untimedYAML = timedYAML.replacingOccurrences(of: "workflow: timed", with: "workflow: plain")
    .replacingOccurrences(of: "  waiting:\n    timeout: { after: 1h, transition: expire }\n", with: "  waiting: {}\n")

/// An engine state with `timed` and `plain` registered at `startMillis`, and the next index.
private func timerEngine(startMillis: Int64) throws -> (EngineState, UInt64) {
    var state = EngineState()
    for (index, yaml) in [timedYAML, untimedYAML].enumerated() {
        let definition = try loadDefinition(yaml, file: "timer-\(index).yaml")
        let applied = state.apply(index: UInt64(index + 1),
                                  command: .registerWorkflow(RegisterWorkflow(definition: definition, proposedAtMillis: startMillis)))
        guard case .workflowRegistered = applied.outcome else { throw BenchmarkUsage("registering \(definition.name): \(applied.outcome)") }
    }
    return (state, 3)
}

/// Encoded entries: starts of `count` instances of `workflow`, one per entry.
private func startEntries(_ workflow: String, count: Int, atMillis: Int64) -> [[UInt8]] {
    (0..<count).map { Command.startInstance(StartInstance(workflow: workflow, id: "\(workflow)-\($0)", proposedAtMillis: atMillis)).encoded() }
}

private func transitionEntries(_ workflow: String, _ name: String, count: Int, atMillis: Int64) -> [[UInt8]] {
    (0..<count).map { Command.transition(TransitionRequest(instance: "\(workflow)-\($0)", name: name, proposedAtMillis: atMillis)).encoded() }
}

/// Applies `entries` from `index` on, returning this thread's CPU time (ns); traps on a rejection.
private func applyAll(_ entries: [[UInt8]], to state: inout EngineState, index: inout UInt64) -> UInt64 {
    let start = threadCPUNanos()
    for bytes in entries {
        let applied = state.apply(index: index, bytes: bytes)
        if case .rejected(let why) = applied.outcome { fatalError("entry \(index) rejected: \(why)") }
        index += 1
    }
    return threadCPUNanos() - start
}

private func timerBenchmark(_ options: SchedulerBenchOptions) async throws {
    let n = options.timers
    let start: Int64 = 1_796_180_400_000   // 2026-12-02T03:00:00Z
    print("")
    print("== state timeouts: \(n) instances into a state with a 1h timeout (workflow `timed`) vs the same state without (`plain`); "
          + "engine only (EngineState.apply of encoded entries, one thread); CPU time, median of \(options.runs) runs")
    let timedStarts = startEntries("timed", count: n, atMillis: start + 1)
    let untimedStarts = startEntries("plain", count: n, atMillis: start + 1)
    let timedLeaves = transitionEntries("timed", "leave", count: n, atMillis: start + 2)
    let untimedLeaves = transitionEntries("plain", "leave", count: n, atMillis: start + 2)
    let untimedExpires = transitionEntries("plain", "expire", count: n, atMillis: start + 2)
    let fireAt = start + 3_600_000 + 1_000
    let timerFires = stride(from: 0, to: n, by: TimerFire.timersMax).map { first in
        Command.timerFire(TimerFire(timers: (first..<min(n, first + TimerFire.timersMax)).map { TimerSlot(instance: "timed-\($0)", revision: 1) },
                                    proposedAtMillis: fireAt)).encoded()
    }

    var arm: [Double] = [], plainStart: [Double] = [], cancel: [Double] = [], plainLeave: [Double] = []
    var fire: [Double] = [], plainExpire: [Double] = [], memory: [Double] = [], snapshot: [Double] = []
    for _ in 0..<options.runs {
        // Timed: arm, then fire. Untimed: start, then the same transition by hand.
        var (timed, timedIndex) = try timerEngine(startMillis: start)
        let timedMemory0 = MemoryUse.now().rssBytes
        arm.append(Double(applyAll(timedStarts, to: &timed, index: &timedIndex)) / Double(n))
        let timedMemory = MemoryUse.now().rssBytes - timedMemory0
        guard timed.pendingTimerCount == n else { throw BenchmarkUsage("\(timed.pendingTimerCount) timers armed, expected \(n)") }
        let timedSnapshot = timed.snapshot().count
        var (untimed, untimedIndex) = try timerEngine(startMillis: start)
        let untimedMemory0 = MemoryUse.now().rssBytes
        plainStart.append(Double(applyAll(untimedStarts, to: &untimed, index: &untimedIndex)) / Double(n))
        let untimedMemory = MemoryUse.now().rssBytes - untimedMemory0
        memory.append(Double(timedMemory - untimedMemory) / Double(n))
        snapshot.append(Double(timedSnapshot - untimed.snapshot().count) / Double(n))
        fire.append(Double(applyAll(timerFires, to: &timed, index: &timedIndex)) / Double(n))
        guard timed.pendingTimerCount == 0 else { throw BenchmarkUsage("\(timed.pendingTimerCount) timers left after firing") }
        plainExpire.append(Double(applyAll(untimedExpires, to: &untimed, index: &untimedIndex)) / Double(n))

        // Cancel: leave the state before the timeout.
        var (timed2, timedIndex2) = try timerEngine(startMillis: start)
        _ = applyAll(timedStarts, to: &timed2, index: &timedIndex2)
        cancel.append(Double(applyAll(timedLeaves, to: &timed2, index: &timedIndex2)) / Double(n))
        guard timed2.pendingTimerCount == 0 else { throw BenchmarkUsage("\(timed2.pendingTimerCount) timers left after leaving") }
        var (untimed2, untimedIndex2) = try timerEngine(startMillis: start)
        _ = applyAll(untimedStarts, to: &untimed2, index: &untimedIndex2)
        plainLeave.append(Double(applyAll(untimedLeaves, to: &untimed2, index: &untimedIndex2)) / Double(n))
    }
    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    func us(_ nanos: Double) -> String { String(format: "%.2f µs", nanos / 1_000) }
    print("arm    : start into the timed state \(us(median(arm))) vs plain \(us(median(plainStart))) → arming costs \(us(median(arm) - median(plainStart))) per timeout")
    print("cancel : leave the timed state \(us(median(cancel))) vs plain \(us(median(plainLeave))) → cancelling costs \(us(median(cancel) - median(plainLeave))) per timeout")
    print("fire   : timerFire, \(TimerFire.timersMax) per entry, \(us(median(fire))) per timeout vs the same transition as one command per instance \(us(median(plainExpire)))")
    print(String(format: "memory : %.0f B per pending timer (RSS after malloc_trim, timed − plain); snapshot %.0f B per pending timer",
                 median(memory), median(snapshot)))

    try await schedulerTimerBenchmark(options, start: start)
}

/// The scheduler following `n` pending timers: its start, its passes while starts keep
/// arming more (each one's effects wake it), and firing them all.
private func schedulerTimerBenchmark(_ options: SchedulerBenchOptions, start: Int64) async throws {
    let n = options.timers
    let extra = 2_000
    print("scheduler with pending timers (ManualClock, LocalConsensus: apply inline, no Raft); \(extra) further starts proposed one at a time, "
          + "each arming one more timer and waking the scheduler:")
    let passes = BenchMetrics.shared.timer("orchestrator_scheduler_pass_seconds")
    for pending in [0, n] {
        var (state, index) = try timerEngine(startMillis: start)
        _ = applyAll(startEntries("timed", count: pending, atMillis: start + 1), to: &state, index: &index)
        let clock = ManualClock(nowMillis: start + 10)
        let engine = ReplicatedEngine(state: state)
        state = EngineState()
        let consensus = LocalConsensus(engine: engine, clock: clock)
        passes.reset()
        let started = ContinuousClock.now
        let scheduler = Task {
            try await CronScheduler().run(engine: engine, clock: clock,
                                          propose: { (command: Command) async throws(ConsensusError) -> Committed in
                                              try await consensus.propose(command, fencedOn: nil)
                                          }, logger: Logger(label: "bench-timers"))
        }
        while passes.totals().count == 0 { try await Task.sleep(for: .milliseconds(1)) }
        let startup = ContinuousClock.now - started
        let startupPass = passes.totals().total

        // Starts that arm one more timer each, proposed one at a time.
        passes.reset()
        let proposeStart = ContinuousClock.now
        for i in 0..<extra {
            _ = try await consensus.propose(.startInstance(StartInstance(workflow: "timed", id: "more-\(i)")), fencedOn: nil)
        }
        let deadline = ContinuousClock.now + .seconds(120)
        while passes.totals().count < extra && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        let armWall = ContinuousClock.now - proposeStart
        let armed = passes.totals()
        let armHistogram = passes.histogram()

        // Everything due: the scheduler proposes timerFire batches until none is pending.
        passes.reset()
        let fireStart = ContinuousClock.now
        clock.set(millis: start + 3_600_000 + 60_000)
        while engine.current().pendingTimerCount > 0 && ContinuousClock.now < fireStart + .seconds(300) {
            try await Task.sleep(for: .milliseconds(5))
        }
        let fireWall = ContinuousClock.now - fireStart
        try await Task.sleep(for: .milliseconds(50))
        let fired = passes.totals()
        let left = engine.current().pendingTimerCount
        scheduler.cancel()
        _ = await scheduler.result
        let total = pending + extra
        print(String(format: "  %6d pending: start (read them all) %.1f ms (first pass %.1f ms); per woken pass p50 %.3f ms p99 %.3f ms "
                     + "(%d passes, %.2f s of scheduler time, %.2f s wall for %d starts); fire all %d: %.2f s wall, scheduler's own %.2f s "
                     + "(%.2f µs per timer, %d passes)%@",
                     pending, toSeconds(startup) * 1_000, Double(startupPass) / 1e6,
                     Double(armHistogram.valueAtPercentile(50)) / 1_000, Double(armHistogram.valueAtPercentile(99)) / 1_000,
                     armed.count, Double(armed.total) / 1e9, toSeconds(armWall), extra, total, toSeconds(fireWall), Double(fired.total) / 1e9,
                     Double(fired.total) / 1e3 / Double(total), fired.count, left > 0 ? " — \(left) NOT FIRED" as NSString : "" as NSString))
    }
}

// MARK: - Measuring

private func toSeconds(_ duration: Duration) -> Double {
    let (whole, attoseconds) = duration.components
    return Double(whole) + Double(attoseconds) / 1e18
}

private func threadCPUNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

private func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}

/// The resident set size after `malloc_trim(0)` (glibc hands free pages of every arena back
/// first, so what stays resident is mostly what is allocated). `mallinfo2` is not visible
/// from Swift's Glibc module; `malloc_trim` is looked up with `dlsym`.
struct MemoryUse {
    var rssBytes: Int

    private static let trim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(nil, "malloc_trim") else { return nil }   // RTLD_DEFAULT
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()

    static func now() -> MemoryUse {
        _ = trim?(0)
        var rss = 0
        if let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let fields = text.split(separator: " ")
            if fields.count > 1, let pages = Int(fields[1]) { rss = pages * Int(sysconf(Int32(_SC_PAGESIZE))) }
        }
        return MemoryUse(rssBytes: rss)
    }
}

/// A swift-metrics backend that keeps only timers, as count, sum and an HdrHistogram (µs):
/// enough to read the scheduler's own metrics back.
final class BenchMetrics: MetricsFactory {
    static let shared = BenchMetrics()
    private let timers = Mutex<[String: SummingTimer]>([:])

    func timer(_ label: String) -> SummingTimer {
        timers.withLock { timers in
            if let timer = timers[label] { return timer }
            let timer = SummingTimer()
            timers[label] = timer
            return timer
        }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { NOOPMetricsHandler.instance }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { NOOPMetricsHandler.instance }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { timer(label) }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

final class SummingTimer: TimerHandler {
    private let state = Mutex<(count: Int, total: Int64, histogram: Histogram<UInt64>)>(
        (0, 0, Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)))

    func recordNanoseconds(_ duration: Int64) {
        state.withLock { state in
            state.count += 1
            state.total += duration
            _ = state.histogram.record(UInt64(max(0, duration / 1_000)))
        }
    }

    func reset() {
        state.withLock { state in
            state.count = 0
            state.total = 0
            state.histogram.reset()
        }
    }

    /// Recordings and their sum in nanoseconds.
    func totals() -> (count: Int, total: Int64) { state.withLock { ($0.count, $0.total) } }

    /// The recordings in microseconds.
    func histogram() -> Histogram<UInt64> { state.withLock { $0.histogram } }
}
