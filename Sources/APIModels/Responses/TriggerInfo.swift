import JSON

/// One entry of `GET /v1/triggers`: a cron trigger of a workflow's latest version, what it
/// does, when it fires next and what the engine recorded of its last fire.
public struct TriggerInfo: Sendable, Codable, Hashable, JSONWritable {
    public var workflow: String
    public var name: String
    /// The expression as written (`0 3 * * *`, `@every 90s`).
    public var cron: String
    /// The IANA zone the expression is read in.
    public var timezone: String
    /// `start` (a new instance per fire) or `transition` (on every matching instance).
    public var action: String
    /// The transition a `transition` trigger requests; null for `start`.
    public var transition: String?
    /// The state a `transition` trigger is restricted to; null: every state.
    public var whereState: String?
    /// `allow`, `forbid` or `replace`.
    public var concurrency: String
    /// `skip`, `once` or `all`.
    public var misfire: String
    /// With `misfire: all`: the most missed slots fired when catching up.
    public var maxCatchup: Int
    /// When the trigger was registered with this expression and zone (RFC 3339, UTC): slots
    /// start after it and `@every` counts from it.
    public var anchorAt: String
    /// The next fire time after now and after the last fired slot, ISO 8601 with the zone's
    /// UTC offset; null when the schedule has no further time or its zone is not on this node.
    public var nextFireAt: String?
    /// The last slot fired (or skipped by `forbid`), ISO 8601 with the zone's offset; null
    /// before the first.
    public var lastSlotAt: String?
    /// The log index of the entry that fired the last slot.
    public var lastFiredIndex: UInt64?
    /// For `start` triggers: the instance the last fire started.
    public var lastInstance: String?
    /// Slots fired (including those `forbid` skipped).
    public var fired: UInt64
    /// Slots skipped because the previous fire's instance was still running (`forbid`).
    public var skipped: UInt64
    /// Slots the misfire policy dropped.
    public var missed: UInt64

    public init(workflow: String, name: String, cron: String, timezone: String, action: String, transition: String?,
                whereState: String?, concurrency: String, misfire: String, maxCatchup: Int, anchorAt: String,
                nextFireAt: String?, lastSlotAt: String?, lastFiredIndex: UInt64?, lastInstance: String?,
                fired: UInt64, skipped: UInt64, missed: UInt64) {
        self.workflow = workflow
        self.name = name
        self.cron = cron
        self.timezone = timezone
        self.action = action
        self.transition = transition
        self.whereState = whereState
        self.concurrency = concurrency
        self.misfire = misfire
        self.maxCatchup = maxCatchup
        self.anchorAt = anchorAt
        self.nextFireAt = nextFireAt
        self.lastSlotAt = lastSlotAt
        self.lastFiredIndex = lastFiredIndex
        self.lastInstance = lastInstance
        self.fired = fired
        self.skipped = skipped
        self.missed = missed
    }

    enum CodingKeys: String, CodingKey {
        case workflow, name, cron, timezone, action, transition, concurrency, misfire, fired, skipped, missed
        case whereState = "where"
        case maxCatchup = "max_catchup"
        case anchorAt = "anchor_at"
        case nextFireAt = "next_fire_at"
        case lastSlotAt = "last_slot_at"
        case lastFiredIndex = "last_fired_index"
        case lastInstance = "last_instance"
    }

    /// Encodes every key, absent values as `null` (as `json` does).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(workflow, forKey: .workflow)
        try container.encode(name, forKey: .name)
        try container.encode(cron, forKey: .cron)
        try container.encode(timezone, forKey: .timezone)
        try container.encode(action, forKey: .action)
        try container.encode(transition, forKey: .transition)
        try container.encode(whereState, forKey: .whereState)
        try container.encode(concurrency, forKey: .concurrency)
        try container.encode(misfire, forKey: .misfire)
        try container.encode(maxCatchup, forKey: .maxCatchup)
        try container.encode(anchorAt, forKey: .anchorAt)
        try container.encode(nextFireAt, forKey: .nextFireAt)
        try container.encode(lastSlotAt, forKey: .lastSlotAt)
        try container.encode(lastFiredIndex, forKey: .lastFiredIndex)
        try container.encode(lastInstance, forKey: .lastInstance)
        try container.encode(fired, forKey: .fired)
        try container.encode(skipped, forKey: .skipped)
        try container.encode(missed, forKey: .missed)
    }

    public var json: JSONValue {
        .object(["workflow": .string(workflow), "name": .string(name), "cron": .string(cron), "timezone": .string(timezone),
                 "action": .string(action), "transition": .orNull(transition), "where": .orNull(whereState),
                 "concurrency": .string(concurrency), "misfire": .string(misfire), "max_catchup": .integer(maxCatchup),
                 "anchor_at": .string(anchorAt), "next_fire_at": .orNull(nextFireAt), "last_slot_at": .orNull(lastSlotAt),
                 "last_fired_index": .orNull(lastFiredIndex), "last_instance": .orNull(lastInstance),
                 "fired": .integer(fired), "skipped": .integer(skipped), "missed": .integer(missed)])
    }
}

/// `GET /v1/triggers`: every trigger, sorted by workflow then name.
public struct TriggerList: Sendable, Codable, Hashable, JSONWritable {
    public var triggers: [TriggerInfo]

    public init(triggers: [TriggerInfo]) {
        self.triggers = triggers
    }

    public var json: JSONValue { .object(["triggers": .list(triggers)]) }
}
