import HashTreeCollections
import Workflow

/// Cron triggers and state timeouts inside apply. The scheduler (a leader service) only
/// decides *when* to propose; whether a slot or a timer still fires, and what it does, is
/// decided here, from the state alone, identically on every replica.
extension EngineState {
    // MARK: Triggers follow the latest version

    /// Brings the trigger records of `name` in line with its newly registered latest version:
    /// new triggers are anchored now, a changed expression or zone re-anchors (keeping the last
    /// fired slot, so nothing already fired fires again), and triggers the version dropped are
    /// forgotten.
    mutating func adoptTriggers(of definition: WorkflowDefinition, atMillis now: Int64) {
        let name = definition.name
        var keep = Set<String>()
        for trigger in definition.triggers {
            keep.insert(trigger.name)
            let key = TriggerKey(workflow: name, name: trigger.name)
            if var existing = triggers[key] {
                if existing.cron != trigger.cron || existing.timezone != trigger.timezone {
                    existing.cron = trigger.cron
                    existing.timezone = trigger.timezone
                    existing.anchorMillis = now
                    triggers[key] = existing
                }
            } else {
                triggers[key] = TriggerState(workflow: name, name: trigger.name, anchorMillis: now,
                                             cron: trigger.cron, timezone: trigger.timezone)
            }
        }
        for key in triggers.keys where key.workflow == name && !keep.contains(key.name) {
            triggers[key] = nil
        }
    }

    // MARK: cronFire

    mutating func cronFire(_ command: CronFire, index: UInt64, effects: inout [Effect]) -> Outcome {
        var results: [CronFired.SlotResult] = []
        results.reserveCapacity(command.slots.count)
        for slot in command.slots {
            let status = fire(slot, stampMillis: command.proposedAtMillis, index: index, effects: &effects)
            results.append(CronFired.SlotResult(workflow: slot.workflow, trigger: slot.trigger, slotMillis: slot.slotMillis,
                                                status: status))
        }
        return .cronFired(CronFired(results: results, index: index))
    }

    private mutating func fire(_ slot: CronSlot, stampMillis: Int64, index: UInt64, effects: inout [Effect]) -> CronFired.Status {
        let key = TriggerKey(workflow: slot.workflow, name: slot.trigger)
        guard var record = triggers[key],
              let definition = workflows[slot.workflow]?.versions.last?.definition,
              let trigger = definition.trigger(named: slot.trigger) else {
            return .ignored(reason: "workflow '\(slot.workflow)' has no trigger named '\(slot.trigger)'")
        }
        if let last = record.lastSlotMillis, slot.slotMillis <= last {
            return .ignored(reason: "slot \(Timestamp.rfc3339(millis: slot.slotMillis)) is not after the last fired slot \(Timestamp.rfc3339(millis: last))")
        }
        guard slot.slotMillis <= stampMillis else {
            return .ignored(reason: "slot \(Timestamp.rfc3339(millis: slot.slotMillis)) is after the entry's time \(Timestamp.rfc3339(millis: stampMillis))")
        }
        guard slot.slotMillis > record.anchorMillis else {
            return .ignored(reason: "slot \(Timestamp.rfc3339(millis: slot.slotMillis)) is not after the trigger's registration")
        }
        record.lastSlotMillis = slot.slotMillis
        record.lastFiredIndex = index
        record.fired += 1
        record.missed += UInt64(max(0, slot.missed))
        let cause = "cron \(trigger.name) \(Timestamp.rfc3339(millis: slot.slotMillis))"
        let status: CronFired.Status
        switch trigger.action {
        case .start(let data):
            var moved = 0
            var notMoved = 0
            if let previous = record.lastInstance, let running = instances[previous], !running.isFinal {
                switch trigger.concurrency {
                case .allow:
                    break
                case .forbid:
                    record.skipped += 1
                    triggers[key] = record
                    effects.append(.cronFired(workflow: slot.workflow, trigger: slot.trigger, slotMillis: slot.slotMillis))
                    return .skipped(reason: "instance \(previous) from the previous fire is still in state '\(running.state)' (concurrency: forbid)")
                case .replace:
                    let request = TransitionRequest(instance: previous, name: trigger.replaceTransition)
                    if case .transitioned = transition(request, index: index, effects: &effects, cause: "\(cause) (replace)") {
                        moved += 1
                    } else {
                        notMoved += 1
                    }
                }
            }
            let id = EngineState.cronInstanceID(workflow: slot.workflow, trigger: slot.trigger, slotMillis: slot.slotMillis)
            let start = StartInstance(workflow: slot.workflow, id: id, data: data.isEmpty ? nil : data)
            switch self.start(start, index: index, effects: &effects, cause: cause) {
            case .instanceStarted:
                record.lastInstance = id
                status = .fired(started: id, moved: moved, notMoved: notMoved)
            case .rejected(let rejection):
                status = .skipped(reason: "could not start \(id): \(rejection.message)")
            default:
                status = .fired(started: nil, moved: moved, notMoved: notMoved)
            }
        case .transition(let name, let whereState):
            var moved = 0
            var notMoved = 0
            for id in liveInstances(of: slot.workflow, in: whereState) {
                let request = TransitionRequest(instance: id, name: name)
                if case .transitioned = transition(request, index: index, effects: &effects, cause: cause) {
                    moved += 1
                } else {
                    notMoved += 1
                }
            }
            status = .fired(started: nil, moved: moved, notMoved: notMoved)
        }
        triggers[key] = record
        effects.append(.cronFired(workflow: slot.workflow, trigger: slot.trigger, slotMillis: slot.slotMillis))
        return status
    }

    /// The id of the instance a `start` trigger's slot starts: `<workflow>.<trigger>.<UTC time>`,
    /// e.g. `reports.hourly.20261202T030000Z` (with `.mmm` when the slot has milliseconds).
    /// Deterministic, so every replica starts the same instance; within the id rule's 128
    /// characters (long names give way to a hash of them).
    public static func cronInstanceID(workflow: String, trigger: String, slotMillis: Int64) -> String {
        var stamp = ""
        for character in Timestamp.rfc3339(millis: slotMillis) where character != "-" && character != ":" {
            stamp.append(character)
        }
        if stamp.hasSuffix(".000Z") { stamp = String(stamp.dropLast(5)) + "Z" }
        let id = "\(workflow).\(trigger).\(stamp)"
        if id.utf8.count <= EngineLimits.idLengthMax { return id }
        var hash = FNV1a64()
        hash.add(contentsOf: "\(workflow)\u{0}\(trigger)".utf8)
        return "cron.\(String(hash.value, radix: 16)).\(stamp)"
    }

    /// The non-final instances of `workflow` (in `state`, or in any state), oldest first.
    func liveInstances(of workflow: String, in state: String?) -> [String] {
        guard let byState = live[workflow] else { return [] }
        var ids: [String] = []
        if let state {
            ids = Array(byState[state] ?? [])
        } else {
            for (_, members) in byState { ids.append(contentsOf: members) }
        }
        // Set order depends on the process's hash seed: sort by start order for every replica alike.
        return ids.sorted { instances[$0]!.createdIndex < instances[$1]!.createdIndex }
    }

    /// Keeps `live` (non-final instances by workflow and state) up to date on a move.
    mutating func trackLive(_ id: String, workflow: String, from: String?, to: String, isFinal: Bool) {
        if let from { live[workflow]?[from]?.remove(id) }
        if !isFinal { live[workflow, default: [:]][to, default: []].insert(id) }
    }

    // MARK: Timers

    /// Arms the timeout of the state `instance` is now in, if it has one, after cancelling the
    /// previous state's timer: called by every start and every accepted transition.
    mutating func rearmTimer(_ instance: Instance, definition: WorkflowDefinition, effects: inout [Effect]) {
        if let old = timers.removeValue(forKey: instance.id) {
            effects.append(.timerCancelled(instance: old.instance, revision: old.revision))
        }
        guard !instance.isFinal, let timeout = definition.state(named: instance.state)?.timeout else { return }
        let timer = StateTimer(instance: instance.id, workflow: instance.workflow, state: instance.state,
                               revision: instance.revision, dueAtMillis: clockMillis + timeout.after.milliseconds,
                               transition: timeout.transition, afterMillis: timeout.after.milliseconds)
        timers[instance.id] = timer
        effects.append(.timerArmed(instance: instance.id, revision: instance.revision, dueAtMillis: timer.dueAtMillis))
    }

    // MARK: timerFire

    mutating func timerFire(_ command: TimerFire, index: UInt64, effects: inout [Effect]) -> Outcome {
        var results: [TimerFired.TimerResult] = []
        results.reserveCapacity(command.timers.count)
        for slot in command.timers {
            results.append(TimerFired.TimerResult(instance: slot.instance, revision: slot.revision,
                                                  status: fire(slot, stampMillis: command.proposedAtMillis, index: index,
                                                               effects: &effects)))
        }
        return .timerFired(TimerFired(results: results, index: index))
    }

    private mutating func fire(_ slot: TimerSlot, stampMillis: Int64, index: UInt64, effects: inout [Effect]) -> TimerFired.Status {
        guard let timer = timers[slot.instance], timer.revision == slot.revision else {
            return .ignored(reason: "instance \(slot.instance) has no timeout armed at revision \(slot.revision) (it moved on, or never had one)")
        }
        guard timer.dueAtMillis <= stampMillis else {
            return .ignored(reason: "the timeout of \(slot.instance) is due at \(Timestamp.rfc3339(millis: timer.dueAtMillis)), after the entry's time")
        }
        let request = TransitionRequest(instance: slot.instance, name: timer.transition, expect: timer.state)
        let cause = "timeout of state '\(timer.state)' after \(WorkflowDuration(milliseconds: timer.afterMillis))"
        switch transition(request, index: index, effects: &effects, cause: cause) {
        case .transitioned(let moved):
            return .fired(transition: moved.transition, from: moved.from, to: moved.to)
        case .rejected(let rejection):
            // Cannot happen for a validated definition (the timeout's transition leaves the
            // state); drop the timer rather than fire it forever.
            if let dropped = timers.removeValue(forKey: slot.instance) {
                effects.append(.timerCancelled(instance: dropped.instance, revision: dropped.revision))
            }
            return .ignored(reason: "transition '\(timer.transition)' refused: \(rejection.message)")
        default:
            return .ignored(reason: "unexpected outcome")
        }
    }

    // MARK: Queries

    /// Every trigger of every workflow's latest version, by workflow then name.
    public var triggerStates: [TriggerState] {
        triggers.keys.sorted().map { triggers[$0]! }
    }

    /// One trigger's record.
    public func trigger(workflow: String, name: String) -> TriggerState? {
        triggers[TriggerKey(workflow: workflow, name: name)]
    }

    /// The armed state timeouts, earliest first (ties by instance id).
    public var pendingTimers: [StateTimer] {
        timers.values.sorted(by: StateTimer.dueFirst)
    }

    /// The timeout armed for an instance, if any.
    public func timer(of instance: String) -> StateTimer? { timers[instance] }

    /// How many timeouts are armed.
    public var pendingTimerCount: Int { timers.count }
}
