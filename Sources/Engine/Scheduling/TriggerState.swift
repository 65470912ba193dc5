/// What the engine remembers of one cron trigger of a workflow's latest version: where its
/// schedule starts and the last slot it fired. A new leader's scheduler starts from here, so a
/// slot fires once across leader changes.
///
/// ```swift
/// let trigger = state.trigger(workflow: "orders", name: "nightly-cleanup")
/// trigger?.lastSlotMillis   // the last fire time applied, nil before the first
/// ```
public struct TriggerState: Sendable, Hashable {
    public let workflow: String
    public let name: String
    /// The engine time the trigger (with its current expression and time zone) was
    /// registered: slots start after it, and `@every` intervals count from it.
    public internal(set) var anchorMillis: Int64
    /// The expression and zone the anchor belongs to (a change re-anchors the trigger).
    public internal(set) var cron: String
    public internal(set) var timezone: String
    /// The last slot fired (or skipped by `concurrency: forbid`), nil before the first.
    public internal(set) var lastSlotMillis: Int64?
    /// The log index of the entry that fired it.
    public internal(set) var lastFiredIndex: UInt64?
    /// For `start` triggers: the instance the last fire started.
    public internal(set) var lastInstance: String?
    /// Slots fired (including those skipped by `forbid`).
    public internal(set) var fired: UInt64
    /// Slots skipped because the previous fire's instance was still running (`forbid`).
    public internal(set) var skipped: UInt64
    /// Slots the misfire policy dropped (reported by the scheduler with the slot it fired).
    public internal(set) var missed: UInt64

    /// Where the next slot is looked for: after the last fired slot, never before the anchor.
    public var slotsAfterMillis: Int64 { max(lastSlotMillis ?? anchorMillis, anchorMillis) }

    init(workflow: String, name: String, anchorMillis: Int64, cron: String, timezone: String) {
        self.workflow = workflow
        self.name = name
        self.anchorMillis = anchorMillis
        self.cron = cron
        self.timezone = timezone
        self.fired = 0
        self.skipped = 0
        self.missed = 0
    }
}

/// A trigger's identity: its workflow and its name there.
struct TriggerKey: Sendable, Hashable, Comparable {
    var workflow: String
    var name: String

    static func < (lhs: TriggerKey, rhs: TriggerKey) -> Bool {
        if lhs.workflow != rhs.workflow { return lhs.workflow.utf8.lexicographicallyPrecedes(rhs.workflow.utf8) }
        return lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8)
    }
}

/// A state timeout armed for an instance: it entered `state` at `revision`, and unless it has
/// moved on by `dueAtMillis` (engine time) the scheduler requests `transition`.
public struct StateTimer: Sendable, Hashable {
    public let instance: String
    public let workflow: String
    public let state: String
    /// The instance's revision when it entered the state.
    public let revision: UInt64
    public let dueAtMillis: Int64
    public let transition: String
    /// The timeout as written (`72h`), for history.
    public let afterMillis: Int64

    /// The order timeouts are listed and fired in: earliest due first, ties by instance id.
    public static func dueFirst(_ a: StateTimer, _ b: StateTimer) -> Bool {
        a.dueAtMillis != b.dueAtMillis ? a.dueAtMillis < b.dueAtMillis : a.instance.utf8.lexicographicallyPrecedes(b.instance.utf8)
    }
}
