/// `Command.cronFire`: slots of cron triggers that came due, proposed by the leader's
/// scheduler, several per entry (one entry carries every slot due at one pass).
///
/// A slot is the trigger's fire time (ms since the epoch, engine time). Apply fires a slot only
/// when it is later than the last slot the trigger fired (`TriggerState.lastSlotMillis`) and not
/// after the entry's own stamp, so a slot fires at most once whoever proposes it, however often.
///
/// ```swift
/// let fire = CronFire(slots: [CronSlot(workflow: "orders", trigger: "nightly-cleanup", slotMillis: slot)])
/// try await proposer.propose(.cronFire(fire))
/// ```
public struct CronFire: Sendable, Hashable {
    /// The slots, applied in order (a trigger's catch-up slots in ascending order).
    public var slots: [CronSlot]
    /// See `Command.proposedAtMillis`.
    public var proposedAtMillis: Int64

    /// Most slots in one entry; the scheduler splits longer lists.
    public static let slotsMax = 1_000

    public init(slots: [CronSlot], proposedAtMillis: Int64 = 0) {
        self.slots = slots
        self.proposedAtMillis = proposedAtMillis
    }
}

/// One fire of one trigger.
public struct CronSlot: Sendable, Hashable {
    public var workflow: String
    /// The trigger's name in the workflow's latest version.
    public var trigger: String
    /// The fire time the slot stands for (ms since the epoch).
    public var slotMillis: Int64
    /// Earlier slots of the trigger its misfire policy dropped in favour of this one (counted
    /// in `TriggerState.missed`).
    public var missed: Int

    public init(workflow: String, trigger: String, slotMillis: Int64, missed: Int = 0) {
        self.workflow = workflow
        self.trigger = trigger
        self.slotMillis = slotMillis
        self.missed = missed
    }
}

/// `Command.timerFire`: state timeouts that came due, proposed by the leader's scheduler.
/// Apply takes a timer's transition only while the instance is still at the timer's revision
/// (it has not moved since it entered the state), so a late or repeated fire changes nothing.
public struct TimerFire: Sendable, Hashable {
    public var timers: [TimerSlot]
    /// See `Command.proposedAtMillis`.
    public var proposedAtMillis: Int64

    /// Most timers in one entry.
    public static let timersMax = 1_000

    public init(timers: [TimerSlot], proposedAtMillis: Int64 = 0) {
        self.timers = timers
        self.proposedAtMillis = proposedAtMillis
    }
}

/// One state timeout: the instance and the revision at which it entered the state.
public struct TimerSlot: Sendable, Hashable {
    public var instance: String
    public var revision: UInt64

    public init(instance: String, revision: UInt64) {
        self.instance = instance
        self.revision = revision
    }
}
