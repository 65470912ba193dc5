import Cron
import Engine
import Logging
import Metrics
import Workflow

/// Turns cron triggers and state timeouts into proposals on the leader: the half of
/// scheduling that lives outside apply. Whether a slot or a timer still fires is decided by
/// apply (`Command.cronFire`, `Command.timerFire`), so this keeps nothing a new leader would
/// need: on start it reads every trigger's last fired slot and every armed timer from the
/// engine, then follows the effect stream.
///
/// - Each pass takes every trigger's next slot after its last fired one. A slot at most
///   `misfireGraceMillis` old is on time and fires; older ones were missed (no leader, or the
///   clock jumped) and the trigger's `misfire` policy decides: `skip` drops them, `once` fires
///   the latest, `all` fires up to `max_catchup` of the latest, oldest first.
/// - Due slots go out together, at most `CronFire.slotsMax` per entry, one entry at a time,
///   so a trigger's slots reach the log in order. A proposal whose fate is unknown is simply
///   proposed again on the next pass: a slot already fired is ignored by apply.
/// - Time comes only from `clock`; a reading that moves back, or forward by more than
///   `clockJumpMillis` beyond the expected wake-up, is logged (slots stay monotonic: apply
///   never fires a slot at or before the last one).
///
/// ```swift
/// try await CronScheduler().run(engine: engine, clock: clock, propose: { try await proposer.propose($0) }, logger: logger)
/// ```
public struct CronScheduler: Sendable {
    public struct Settings: Sendable {
        /// How late a slot may fire and still count as on time. Default 10 s.
        public var misfireGraceMillis: Int64 = 10_000
        /// A clock reading further than this from the expected one is logged. Default 60 s.
        public var clockJumpMillis: Int64 = 60_000
        /// Longest sleep between passes (a safety net; effects and due times wake it). Default 60 s.
        public var idleWakeMillis: Int64 = 60_000
        public init() {}
    }

    public let settings: Settings

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    private enum Event: Sendable {
        case effects(CommittedEffects)
        case effectsEnded((any Error)?)
        case wake
    }

    /// Schedules until cancelled (the node was deposed or stops). Throws
    /// `EffectStreamError.fellBehind` when it could not keep up with the effect stream (the
    /// caller restarts it, from the engine state).
    public func run(engine: ReplicatedEngine, clock: any WallClock,
                    propose: @escaping @Sendable (Command) async throws(ConsensusError) -> Committed,
                    logger: Logger) async throws {
        let (state, effects) = engine.subscribe(where: { effect in
            switch effect {
            case .workflowRegistered, .cronFired, .timerArmed, .timerCancelled: true
            default: false
            }
        })
        var timers: [String: (revision: UInt64, dueAtMillis: Int64)] = [:]
        for timer in state.pendingTimers { timers[timer.instance] = (timer.revision, timer.dueAtMillis) }
        var plan = TriggerPlan(settings: settings, logger: logger)
        let metrics = SchedulerMetrics()
        logger.info("scheduler started", metadata: ["triggers": "\(state.triggerStates.count)", "timers": "\(timers.count)"])
        let (events, inbox) = AsyncStream<Event>.makeStream()
        var wake: (atMillis: Int64, task: Task<Void, Never>)?
        defer { wake?.task.cancel() }
        var expectedNow = clock.nowMillis
        // The pass's own work (what it computed, not the commits it waited for), for
        // `orchestrator_scheduler_pass_seconds`: from the event that woke it to its next wait.
        let monotonic = ContinuousClock()
        var passStart = monotonic.now
        var waited = Duration.zero

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await batch in effects { inbox.yield(.effects(batch)) }
                    inbox.yield(.effectsEnded(nil))
                } catch {
                    inbox.yield(.effectsEnded(error))
                }
            }
            var iterator = events.makeAsyncIterator()
            while !Task.isCancelled {
                let now = clock.nowMillis
                if now < expectedNow - 1_000 {
                    logger.warning("the clock went back", metadata: ["by_ms": "\(expectedNow - now)"])
                } else if now > expectedNow + settings.clockJumpMillis {
                    logger.warning("the clock jumped forward", metadata: ["by_ms": "\(now - expectedNow)"])
                }

                // Cron slots.
                let (slots, nextSlot) = plan.due(triggers: engine.triggerStates(), definitions: { engine.workflowVersion($0)?.definition },
                                                 now: now)
                var index = 0
                while index < slots.count {
                    let batch = Array(slots[index..<min(slots.count, index + CronFire.slotsMax)])
                    index += batch.count
                    do throws(ConsensusError) {
                        let proposed = monotonic.now
                        defer { waited += monotonic.now - proposed }
                        let committed = try await propose(.cronFire(CronFire(slots: batch)))
                        let at = clock.nowMillis
                        for slot in batch { metrics.fired(lagMillis: at - slot.slotMillis, missed: slot.missed) }
                        if case .cronFired(let fired) = committed.outcome {
                            for result in fired.results { plan.noteFired(result) }
                        }
                    } catch {
                        if case .deposed = error { return }
                        logger.warning("proposing cron slots failed; they are proposed again on the next pass",
                                       metadata: ["slots": "\(batch.count)", "error": "\(error)"])
                        let backOff = monotonic.now
                        try await clock.sleep(untilMillis: clock.nowMillis + 200)
                        waited += monotonic.now - backOff
                        break
                    }
                }

                // State timeouts.
                let due = timers.filter { $0.value.dueAtMillis <= now }
                    .sorted { $0.value.dueAtMillis != $1.value.dueAtMillis ? $0.value.dueAtMillis < $1.value.dueAtMillis : $0.key < $1.key }
                var start = 0
                while start < due.count {
                    let batch = due[start..<min(due.count, start + TimerFire.timersMax)]
                    start += batch.count
                    do throws(ConsensusError) {
                        let proposed = monotonic.now
                        defer { waited += monotonic.now - proposed }
                        _ = try await propose(.timerFire(TimerFire(timers: batch.map { TimerSlot(instance: $0.key, revision: $0.value.revision) })))
                        let at = clock.nowMillis
                        for (instance, timer) in batch {
                            metrics.timerFired(lagMillis: at - timer.dueAtMillis)
                            if timers[instance]?.revision == timer.revision { timers[instance] = nil }
                        }
                    } catch {
                        if case .deposed = error { return }
                        logger.warning("proposing timeouts failed; they are proposed again on the next pass",
                                       metadata: ["timers": "\(batch.count)", "error": "\(error)"])
                        let backOff = monotonic.now
                        try await clock.sleep(untilMillis: clock.nowMillis + 200)
                        waited += monotonic.now - backOff
                        break
                    }
                }
                metrics.pendingTimers.record(timers.count)

                // Sleep until the next slot or timer, or until the effects change something.
                let nextTimer = timers.values.lazy.map(\.dueAtMillis).min()
                let afterNow = clock.nowMillis
                var wakeAt = min(nextSlot ?? .max, nextTimer ?? .max, afterNow + settings.idleWakeMillis)
                if slots.count >= CronFire.slotsMax || due.count >= TimerFire.timersMax { wakeAt = afterNow }
                expectedNow = max(afterNow, wakeAt)
                if wake?.atMillis != wakeAt {
                    wake?.task.cancel()
                    let deadline = wakeAt
                    wake = (deadline, Task {
                        if (try? await clock.sleep(untilMillis: deadline)) != nil { inbox.yield(.wake) }
                    })
                }
                metrics.passTime.recordNanoseconds(Int64(max(.zero, monotonic.now - passStart - waited) / .nanoseconds(1)))
                guard let event = await iterator.next() else { return }
                passStart = monotonic.now
                waited = .zero
                switch event {
                case .effects(let batch):
                    for effect in batch.effects {
                        switch effect {
                        case .timerArmed(let instance, let revision, let dueAt): timers[instance] = (revision, dueAt)
                        case .timerCancelled(let instance, let revision):
                            if timers[instance]?.revision == revision { timers[instance] = nil }
                        default: break
                        }
                    }
                    expectedNow = clock.nowMillis
                case .effectsEnded(let error):
                    group.cancelAll()
                    if let error { throw error }
                    return
                case .wake:
                    wake = nil
                }
            }
        }
    }
}

/// Which slots are due, per trigger: parsed schedules (cached by expression and zone) and
/// how far each trigger has been considered (so `skip` does not recount what it dropped).
struct TriggerPlan {
    let settings: CronScheduler.Settings
    let logger: Logger
    private var schedules: [String: CronSchedule?] = [:]
    /// Slots at or before this were handled by this scheduler (fired or skipped), per trigger.
    private var consideredThrough: [String: Int64] = [:]

    init(settings: CronScheduler.Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Most slots counted when telling how many a misfire dropped.
    static let countMax = 100_000

    mutating func due(triggers: [TriggerState], definitions: (String) -> WorkflowDefinition?, now: Int64)
        -> (slots: [CronSlot], nextSlotMillis: Int64?) {
        var slots: [CronSlot] = []
        var nextSlot: Int64?
        var latest: [String: WorkflowDefinition] = [:]
        for record in triggers {
            if latest[record.workflow] == nil { latest[record.workflow] = definitions(record.workflow) }
            guard let trigger = latest[record.workflow]?.trigger(named: record.name),
                  let schedule = schedule(for: trigger) else { continue }
            let key = "\(record.workflow)/\(record.name)"
            let anchor = record.anchorMillis
            let after = max(record.slotsAfterMillis, consideredThrough[key] ?? .min)
            guard let first = schedule.next(after: after, anchorMillis: anchor) else { continue }
            guard first <= now else {
                nextSlot = min(nextSlot ?? .max, first)
                continue
            }
            let grace = now - settings.misfireGraceMillis
            if first >= grace {
                slots.append(CronSlot(workflow: record.workflow, trigger: record.name, slotMillis: first))
                consideredThrough[key] = first
                continue
            }
            // Missed slots: the misfire policy decides.
            guard let newest = schedule.previous(before: now + 1, anchorMillis: anchor), newest > after else { continue }
            switch trigger.misfire {
            case .skip:
                // Drop every slot older than the grace; the on-time ones fire on the next pass.
                let stale = schedule.previous(before: grace, anchorMillis: anchor) ?? after
                let dropped = Self.count(schedule, after: after, through: stale, anchor: anchor)
                consideredThrough[key] = stale
                logger.info("missed cron slots skipped (misfire: skip)",
                            metadata: ["trigger": "\(key)", "slots": "\(dropped)", "newest": "\(Timestamp.rfc3339(millis: stale))"])
                nextSlot = min(nextSlot ?? .max, now)
            case .once:
                let missed = Self.count(schedule, after: after, through: newest, anchor: anchor) - 1
                slots.append(CronSlot(workflow: record.workflow, trigger: record.name, slotMillis: newest, missed: max(0, missed)))
                consideredThrough[key] = newest
            case .all:
                var picked: [Int64] = [newest]
                while picked.count < trigger.maxCatchup,
                      let earlier = schedule.previous(before: picked[picked.count - 1], anchorMillis: anchor), earlier > after {
                    picked.append(earlier)
                }
                let total = Self.count(schedule, after: after, through: newest, anchor: anchor)
                var missed = max(0, total - picked.count)
                for slot in picked.reversed() {
                    slots.append(CronSlot(workflow: record.workflow, trigger: record.name, slotMillis: slot, missed: missed))
                    missed = 0
                }
                consideredThrough[key] = newest
            }
        }
        return (slots, nextSlot)
    }

    /// After a proposal committed: a slot apply ignored (fired already by an earlier leader)
    /// needs nothing; the engine's record is the truth from the next pass on.
    mutating func noteFired(_ result: CronFired.SlotResult) {
        if case .ignored(let reason) = result.status {
            logger.debug("cron slot ignored", metadata: ["trigger": "\(result.workflow)/\(result.trigger)", "reason": "\(reason)"])
        }
    }

    private mutating func schedule(for trigger: TriggerDefinition) -> CronSchedule? {
        let key = "\(trigger.cron)\u{0}\(trigger.timezone)"
        if let cached = schedules[key] { return cached }
        do {
            let schedule = try CronSchedule(trigger.cron, timeZone: trigger.timezone)
            schedules[key] = schedule
            return schedule
        } catch {
            // Validated when the workflow was loaded; a zone missing on this node is the likely cause.
            logger.error("cron trigger cannot be scheduled on this node", metadata: ["trigger": "\(trigger.name)", "error": "\(error)"])
            schedules[key] = .some(nil)
            return nil
        }
    }

    /// How many slots lie in (after, through], counted up to `countMax`.
    static func count(_ schedule: CronSchedule, after: Int64, through: Int64, anchor: Int64) -> Int {
        guard through > after else { return 0 }
        if let interval = schedule.intervalMillis {
            let firstK = (after - anchor) / interval + 1
            let lastK = (through - anchor) / interval
            return Int(min(Int64(countMax), max(0, lastK - firstK + 1)))
        }
        var count = 0
        var cursor = after
        while count < countMax, let next = schedule.next(after: cursor), next <= through {
            count += 1
            cursor = next
        }
        return count
    }
}

/// The scheduler's metrics (swift-metrics).
struct SchedulerMetrics: Sendable {
    /// From a slot's time to its entry committing: how late cron fires.
    let fireLag = Metrics.Timer(label: "orchestrator_cron_fire_lag_seconds")
    let fires = Counter(label: "orchestrator_cron_slots_proposed_total")
    let missedSlots = Counter(label: "orchestrator_cron_slots_missed_total")
    /// From a timeout's due time to its entry committing.
    let timerLag = Metrics.Timer(label: "orchestrator_timer_fire_lag_seconds")
    let pendingTimers = Gauge(label: "orchestrator_timers_pending")
    /// One pass's own work: handling the effects that woke it, computing due slots and timers,
    /// building proposals and the next wake-up; the time waiting for proposals to commit is
    /// left out. Summed over a run, how much of a core the scheduler took.
    let passTime = Metrics.Timer(label: "orchestrator_scheduler_pass_seconds")

    func fired(lagMillis: Int64, missed: Int) {
        fireLag.recordMilliseconds(max(0, lagMillis))
        fires.increment()
        if missed > 0 { missedSlots.increment(by: missed) }
    }

    func timerFired(lagMillis: Int64) {
        timerLag.recordMilliseconds(max(0, lagMillis))
    }
}
