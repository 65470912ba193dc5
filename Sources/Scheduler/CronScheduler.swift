import Cron
import Engine
import HeapModule
import Logging
import Metrics
import Workflow

/// Turns cron triggers and state timeouts into proposals on the leader: the half of
/// scheduling that lives outside apply. Whether a slot or a timer still fires is decided by
/// apply (`Command.cronFire`, `Command.timerFire`), so this keeps nothing a new leader would
/// need: on start it reads every trigger's last fired slot and every armed timer from the
/// engine, then follows the effect stream.
///
/// - Each pass takes every trigger's next slot after its last fired one, for the triggers
///   that have one due. A slot at most `misfireGraceMillis` old is on time and fires; older
///   ones were missed (no leader, or the clock jumped) and the trigger's `misfire` policy
///   decides: `skip` drops them, `once` fires the latest, `all` fires up to `max_catchup` of
///   the latest, oldest first.
/// - A pass costs what is due, not what is armed: the triggers are read once on start and
///   then followed through the effects (registrations, fired slots), each trigger's next slot
///   kept in a heap; the same for the armed timers.
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
        /// The wake-up task `generation` slept until its time.
        case wake(generation: UInt64)
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
        var timers = TimerQueue(state.pendingTimers)
        var plan = TriggerPlan(settings: settings, logger: logger)
        let records = state.triggerStates
        plan.load(records, definitions: { engine.workflowVersion($0)?.definition })
        let metrics = SchedulerMetrics()
        logger.info("scheduler started", metadata: ["triggers": "\(records.count)", "timers": "\(timers.count)"])
        let (events, inbox) = AsyncStream<Event>.makeStream()
        var wake: (atMillis: Int64, task: Task<Void, Never>)?
        // A wake-up task replaced after it had already woken leaves a stale `.wake` in the
        // inbox: skipped, so it neither runs a pass nor drops the current task unreplaced
        // (which left two wake-up chains running, and then more, each a pass per wake-up).
        var wakeGeneration: UInt64 = 0
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

                // Cron slots. A refused or unknown batch, and those after it, are due again at
                // once: the next pass comes right after the back-off.
                var retrySoon = false
                let (slots, nextSlot) = plan.due(now: now)
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
                                       metadata: ["slots": "\(slots.count - index + batch.count)", "error": "\(error)"])
                        plan.retry(slots[(index - batch.count)...])
                        retrySoon = true
                        let backOff = monotonic.now
                        try await clock.sleep(untilMillis: clock.nowMillis + 200)
                        waited += monotonic.now - backOff
                        break
                    }
                }

                // State timeouts.
                let due = timers.takeDue(now: now)
                var start = 0
                while start < due.count {
                    let batch = due[start..<min(due.count, start + TimerFire.timersMax)]
                    start += batch.count
                    do throws(ConsensusError) {
                        let proposed = monotonic.now
                        defer { waited += monotonic.now - proposed }
                        _ = try await propose(.timerFire(TimerFire(timers: batch.map { TimerSlot(instance: $0.instance, revision: $0.revision) })))
                        let at = clock.nowMillis
                        for timer in batch {
                            metrics.timerFired(lagMillis: at - timer.dueAtMillis)
                            timers.remove(instance: timer.instance, revision: timer.revision)
                        }
                    } catch {
                        if case .deposed = error { return }
                        logger.warning("proposing timeouts failed; they are proposed again on the next pass",
                                       metadata: ["timers": "\(batch.count)", "error": "\(error)"])
                        timers.putBack(due[(start - batch.count)...])
                        let backOff = monotonic.now
                        try await clock.sleep(untilMillis: clock.nowMillis + 200)
                        waited += monotonic.now - backOff
                        break
                    }
                }
                metrics.pendingTimers.record(timers.count)

                // Sleep until the next slot or timer, or until the effects change something.
                let nextTimer = timers.nextDueMillis()
                let afterNow = clock.nowMillis
                var wakeAt = min(nextSlot ?? .max, nextTimer ?? .max, afterNow + settings.idleWakeMillis)
                if slots.count >= CronFire.slotsMax || due.count >= TimerFire.timersMax || retrySoon { wakeAt = afterNow }
                expectedNow = max(afterNow, wakeAt)
                if wake?.atMillis != wakeAt {
                    wake?.task.cancel()
                    let deadline = wakeAt
                    wakeGeneration += 1
                    let generation = wakeGeneration
                    wake = (deadline, Task {
                        if (try? await clock.sleep(untilMillis: deadline)) != nil { inbox.yield(.wake(generation: generation)) }
                    })
                }
                metrics.passTime.recordNanoseconds(Int64(max(.zero, monotonic.now - passStart - waited) / .nanoseconds(1)))
                guard var event = await iterator.next() else { return }
                while case .wake(let generation) = event, generation != wakeGeneration {
                    guard let next = await iterator.next() else { return }
                    event = next
                }
                passStart = monotonic.now
                waited = .zero
                switch event {
                case .effects(let batch):
                    for effect in batch.effects {
                        switch effect {
                        case .timerArmed(let instance, let revision, let dueAt): timers.arm(instance: instance, revision: revision, dueAtMillis: dueAt)
                        case .timerCancelled(let instance, let revision): timers.remove(instance: instance, revision: revision)
                        case .workflowRegistered(let name, _, _):
                            plan.reload(workflow: name, definition: engine.workflowVersion(name)?.definition,
                                        record: { engine.trigger(workflow: name, name: $0) })
                        case .cronFired(let workflow, let trigger, let slot): plan.consumed(workflow: workflow, trigger: trigger, slotMillis: slot)
                        default: break
                        }
                    }
                    expectedNow = clock.nowMillis
                case .effectsEnded(let error):
                    group.cancelAll()
                    if let error { throw error }
                    return
                case .wake:
                    wake = nil   // the current one (stale ones were skipped above)
                }
            }
        }
    }
}

/// Which slots are due, per trigger: parsed schedules (cached by expression and zone), what
/// the engine recorded of each trigger (its anchor and last fired slot, read on start and then
/// followed through the effects), how far each trigger has been considered (so `skip` does
/// not recount what it dropped), and a heap of the time each trigger next needs a look, so a
/// pass touches only the triggers with a slot due.
struct TriggerPlan {
    let settings: CronScheduler.Settings
    let logger: Logger
    private var schedules: [String: CronSchedule?] = [:]
    /// Every trigger seen, by a number given on first sight and kept (with how far it was
    /// considered) when its workflow drops it, should a later version bring it back.
    private var entries: [Entry] = []
    private var ids: [Key: Int] = [:]
    /// The triggers of each workflow's latest version that can be scheduled here.
    private var live: [String: [Int]] = [:]
    /// (time, trigger) for each entry's `checkAtMillis`; entries whose time has changed since
    /// leave their old item behind, skipped when it comes up.
    private var queue = Heap<Check>()
    /// Triggers with slots due that the misfire rules found nothing to do for: looked at on
    /// every pass (as every trigger was before the heap), without waking one.
    private var stalled: Set<Int> = []

    /// A trigger's identity, ordered as the engine orders `triggerStates` (bytes of the
    /// workflow name, then of the trigger name).
    struct Key: Hashable, Comparable {
        var workflow: String
        var name: String

        static func < (lhs: Key, rhs: Key) -> Bool {
            if lhs.workflow != rhs.workflow { return lhs.workflow.utf8.lexicographicallyPrecedes(rhs.workflow.utf8) }
            return lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8)
        }
    }

    private struct Entry {
        let key: Key
        /// Nil while the trigger is not in its workflow's latest version (or cannot be scheduled here).
        var scheduled: Scheduled?
        /// Slots at or before this were handled by this scheduler (fired or skipped).
        var consideredThrough: Int64 = .min
        /// The first slot after everything handled: when the trigger next needs a look.
        var checkAtMillis: Int64?
    }

    private struct Scheduled {
        var trigger: TriggerDefinition
        var schedule: CronSchedule
        var anchorMillis: Int64
        /// `TriggerState.slotsAfterMillis`: the last slot the engine consumed, or the anchor.
        var slotsAfterMillis: Int64
    }

    private struct Check: Comparable {
        var millis: Int64
        var id: Int
        static func < (lhs: Check, rhs: Check) -> Bool { lhs.millis != rhs.millis ? lhs.millis < rhs.millis : lhs.id < rhs.id }
    }

    init(settings: CronScheduler.Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Most slots counted when telling how many a misfire dropped.
    static let countMax = 100_000

    /// How many triggers are scheduled.
    var count: Int { live.values.reduce(0) { $0 + $1.count } }

    /// Starts from the engine's records (`EngineState.triggerStates`) and the latest definitions.
    mutating func load(_ records: [TriggerState], definitions: (String) -> WorkflowDefinition?) {
        var latest: [String: WorkflowDefinition?] = [:]
        for record in records {
            if latest[record.workflow] == nil { latest[record.workflow] = .some(definitions(record.workflow)) }
            add(record, definition: latest[record.workflow] ?? nil)
        }
    }

    /// A new version of `workflow` was registered: its triggers are read again from the engine
    /// (new ones anchored, changed ones re-anchored, dropped ones gone).
    mutating func reload(workflow: String, definition: WorkflowDefinition?, record: (String) -> TriggerState?) {
        for id in live.removeValue(forKey: workflow) ?? [] {
            entries[id].scheduled = nil
            entries[id].checkAtMillis = nil
            stalled.remove(id)
        }
        for trigger in definition?.triggers ?? [] {
            if let state = record(trigger.name) { add(state, definition: definition) }
        }
        compactIfNeeded()
    }

    /// The entry carrying `slots` failed (or was never proposed after one that did): they are
    /// due again on the next pass, which proposes them anew; apply ignores any that committed
    /// after all. Leaving them considered would lose them for good: the next pass would fire
    /// the slot after, and apply never fires a slot at or before the last fired one.
    mutating func retry(_ slots: ArraySlice<CronSlot>) {
        var earliest: [Int: Int64] = [:]
        for slot in slots {
            guard let id = ids[Key(workflow: slot.workflow, name: slot.trigger)] else { continue }
            earliest[id] = min(earliest[id] ?? .max, slot.slotMillis)
        }
        for (id, slot) in earliest {
            entries[id].consideredThrough = min(entries[id].consideredThrough, slot - 1)
            reschedule(id)
        }
    }

    /// The engine consumed a slot of a trigger (a `cronFired` effect).
    mutating func consumed(workflow: String, trigger: String, slotMillis: Int64) {
        guard let id = ids[Key(workflow: workflow, name: trigger)], let after = entries[id].scheduled?.slotsAfterMillis,
              slotMillis > after else { return }
        entries[id].scheduled?.slotsAfterMillis = slotMillis
        reschedule(id)
    }

    private mutating func add(_ record: TriggerState, definition: WorkflowDefinition?) {
        guard let trigger = definition?.trigger(named: record.name), let schedule = schedule(for: trigger) else { return }
        let key = Key(workflow: record.workflow, name: record.name)
        let id: Int
        if let known = ids[key] {
            id = known
        } else {
            id = entries.count
            ids[key] = id
            entries.append(Entry(key: key))
        }
        entries[id].scheduled = Scheduled(trigger: trigger, schedule: schedule, anchorMillis: record.anchorMillis,
                                          slotsAfterMillis: record.slotsAfterMillis)
        entries[id].checkAtMillis = nil
        live[record.workflow, default: []].append(id)
        reschedule(id)
    }

    /// Recomputes when trigger `id` next needs a look and queues it.
    private mutating func reschedule(_ id: Int) {
        stalled.remove(id)
        guard let scheduled = entries[id].scheduled else { return }
        let after = max(scheduled.slotsAfterMillis, entries[id].consideredThrough)
        let next = scheduled.schedule.next(after: after, anchorMillis: scheduled.anchorMillis)
        guard next != entries[id].checkAtMillis else { return }
        entries[id].checkAtMillis = next
        if let next { queue.insert(Check(millis: next, id: id)) }
    }

    /// Old items pile up only as fast as triggers change; rebuild when they outnumber the live ones.
    private mutating func compactIfNeeded() {
        guard queue.count > 2 * entries.count + 1_024 else { return }
        queue = Heap(entries.indices.compactMap { id in entries[id].checkAtMillis.map { Check(millis: $0, id: id) } })
    }

    mutating func due(now: Int64) -> (slots: [CronSlot], nextSlotMillis: Int64?) {
        var slots: [CronSlot] = []
        var nextSlot: Int64?
        var ids = Array(stalled)
        while let check = queue.min, check.millis <= now {
            queue.removeMin()
            if entries[check.id].checkAtMillis == check.millis {
                entries[check.id].checkAtMillis = nil   // taken off the queue; `reschedule` queues it again
                ids.append(check.id)
            }
        }
        // In the engine's trigger order, as when every trigger was looked at.
        ids.sort { entries[$0].key < entries[$1].key }
        for id in ids {
            guard let scheduled = entries[id].scheduled else { continue }
            let key = entries[id].key
            let trigger = scheduled.trigger
            let schedule = scheduled.schedule
            let anchor = scheduled.anchorMillis
            let after = max(scheduled.slotsAfterMillis, entries[id].consideredThrough)
            var isStalled = false
            defer {
                if isStalled {
                    stalled.insert(id)
                } else {
                    reschedule(id)
                }
            }
            guard let first = schedule.next(after: after, anchorMillis: anchor) else { continue }
            guard first <= now else { continue }
            let grace = now - settings.misfireGraceMillis
            if first >= grace {
                slots.append(CronSlot(workflow: key.workflow, trigger: key.name, slotMillis: first))
                entries[id].consideredThrough = first
                continue
            }
            // Missed slots: the misfire policy decides.
            guard let newest = schedule.previous(before: now + 1, anchorMillis: anchor), newest > after else {
                isStalled = true
                continue
            }
            switch trigger.misfire {
            case .skip:
                // Drop every slot older than the grace; the on-time ones fire on the next pass.
                let stale = schedule.previous(before: grace, anchorMillis: anchor) ?? after
                let dropped = Self.count(schedule, after: after, through: stale, anchor: anchor)
                entries[id].consideredThrough = stale
                logger.info("missed cron slots skipped (misfire: skip)",
                            metadata: ["trigger": "\(key.workflow)/\(key.name)", "slots": "\(dropped)",
                                       "newest": "\(Timestamp.rfc3339(millis: stale))"])
                nextSlot = min(nextSlot ?? .max, now)
            case .once:
                let missed = Self.count(schedule, after: after, through: newest, anchor: anchor) - 1
                slots.append(CronSlot(workflow: key.workflow, trigger: key.name, slotMillis: newest, missed: max(0, missed)))
                entries[id].consideredThrough = newest
            case .all:
                var picked: [Int64] = [newest]
                while picked.count < trigger.maxCatchup,
                      let earlier = schedule.previous(before: picked[picked.count - 1], anchorMillis: anchor), earlier > after {
                    picked.append(earlier)
                }
                let total = Self.count(schedule, after: after, through: newest, anchor: anchor)
                var missed = max(0, total - picked.count)
                for slot in picked.reversed() {
                    slots.append(CronSlot(workflow: key.workflow, trigger: key.name, slotMillis: slot, missed: missed))
                    missed = 0
                }
                entries[id].consideredThrough = newest
            }
        }
        // The earliest trigger still queued (old items are dropped on the way).
        while let check = queue.min, entries[check.id].checkAtMillis != check.millis { queue.removeMin() }
        if let check = queue.min { nextSlot = min(nextSlot ?? .max, check.millis) }
        compactIfNeeded()
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

/// The armed state timeouts this scheduler follows: by instance (what the engine armed, from
/// its state on start and then its effects) and in a heap by due time, so taking the due ones
/// and finding the next costs what is due, not what is armed.
struct TimerQueue {
    struct Armed: Equatable {
        var revision: UInt64
        var dueAtMillis: Int64
    }

    /// One armed timer; due time first, ties by instance id.
    struct Item: Comparable {
        var dueAtMillis: Int64
        var instance: String
        var revision: UInt64

        static func < (lhs: Item, rhs: Item) -> Bool {
            if lhs.dueAtMillis != rhs.dueAtMillis { return lhs.dueAtMillis < rhs.dueAtMillis }
            if lhs.instance != rhs.instance { return lhs.instance < rhs.instance }
            return lhs.revision < rhs.revision
        }
    }

    private var armed: [String: Armed] = [:]
    /// An item per armed timer, plus items of timers since cancelled or re-armed (skipped
    /// when they come up; rebuilt when they outnumber the armed ones).
    private var heap = Heap<Item>()

    var count: Int { armed.count }

    /// The engine's armed timers (`EngineState.pendingTimers`).
    init(_ pending: [StateTimer] = []) {
        for timer in pending { armed[timer.instance] = Armed(revision: timer.revision, dueAtMillis: timer.dueAtMillis) }
        heap = Heap(armed.map { Item(dueAtMillis: $0.value.dueAtMillis, instance: $0.key, revision: $0.value.revision) })
    }

    private func isArmed(_ item: Item) -> Bool {
        armed[item.instance] == Armed(revision: item.revision, dueAtMillis: item.dueAtMillis)
    }

    /// The instance entered a state with a timeout (an instance has at most one).
    mutating func arm(instance: String, revision: UInt64, dueAtMillis: Int64) {
        let timer = Armed(revision: revision, dueAtMillis: dueAtMillis)
        guard armed[instance] != timer else { return }
        armed[instance] = timer
        heap.insert(Item(dueAtMillis: dueAtMillis, instance: instance, revision: revision))
        compactIfNeeded()
    }

    /// The timer armed at `revision` is gone (cancelled, or fired); a newer one stays.
    mutating func remove(instance: String, revision: UInt64) {
        guard armed[instance]?.revision == revision else { return }
        armed[instance] = nil
        compactIfNeeded()
    }

    /// The timers due at `now`, earliest first (ties by instance), taken off the heap: they stay
    /// armed until `remove`d, and those not proposed after all go back with `putBack`.
    mutating func takeDue(now: Int64) -> [Item] {
        var due: [Item] = []
        while let item = heap.min, item.dueAtMillis <= now {
            heap.removeMin()
            // A timer can have two items after a rebuild; they come out one after the other.
            if isArmed(item), due.last != item { due.append(item) }
        }
        return due
    }

    mutating func putBack(_ items: some Sequence<Item>) {
        for item in items where isArmed(item) { heap.insert(item) }
    }

    /// When the earliest armed timer is due.
    mutating func nextDueMillis() -> Int64? {
        while let item = heap.min, !isArmed(item) { heap.removeMin() }
        return heap.min?.dueAtMillis
    }

    private mutating func compactIfNeeded() {
        guard heap.count > 2 * armed.count + 1_024 else { return }
        heap = Heap(armed.map { Item(dueAtMillis: $0.value.dueAtMillis, instance: $0.key, revision: $0.value.revision) })
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
