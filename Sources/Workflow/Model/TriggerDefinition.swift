/// A cron trigger: on each fire it either requests a transition on matching instances or
/// starts a new instance.
///
/// ```yaml
/// triggers:
///   - name: nightly-cleanup
///     cron: "0 3 * * *"
///     timezone: Europe/Berlin
///     transition: cancel
///     where: { state: created }
///   - name: hourly-report
///     cron: "@hourly"
///     start: { kind: report }
///     concurrency: forbid
///     misfire: once
/// ```
public struct TriggerDefinition: Sendable, Codable, Hashable {
    /// The trigger's name, unique in its workflow; fire slots are keyed by it.
    public let name: String
    /// The cron expression as written (parsed and checked by the `Cron` target).
    public let cron: String
    /// The IANA time zone the expression is read in; `UTC` when not given.
    public let timezone: String
    /// What a fire does.
    public let action: TriggerAction
    /// What to do when a fire comes while the previous one's instance is still running
    /// (`start` triggers only). Default `allow`.
    public let concurrency: TriggerConcurrency
    /// What to do with fire times missed while no leader was running. Default `once`.
    public let misfire: TriggerMisfire
    /// With `concurrency: replace`: the transition applied to the previous fire's instance
    /// (when it is not final) before the new one starts. Nil otherwise.
    public let replaceTransition: String?
    /// With `misfire: all`: the most missed slots fired when catching up (the latest ones).
    /// Default 100.
    public let maxCatchup: Int

    /// `max_catchup` when not given.
    public static let maxCatchupDefault = 100

    /// Creates a trigger.
    public init(name: String, cron: String, timezone: String = "UTC", action: TriggerAction,
                concurrency: TriggerConcurrency = .allow, misfire: TriggerMisfire = .once,
                replaceTransition: String? = nil, maxCatchup: Int = TriggerDefinition.maxCatchupDefault) {
        self.name = name
        self.cron = cron
        self.timezone = timezone
        self.action = action
        self.concurrency = concurrency
        self.misfire = misfire
        self.replaceTransition = replaceTransition
        self.maxCatchup = maxCatchup
    }

    private enum CodingKeys: String, CodingKey {
        case name, cron, timezone, action, concurrency, misfire, replaceTransition, maxCatchup
    }

    /// Decodes what `encode(to:)` writes; `replaceTransition` and `maxCatchup` may be absent
    /// (definitions logged before they existed).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        cron = try container.decode(String.self, forKey: .cron)
        timezone = try container.decode(String.self, forKey: .timezone)
        action = try container.decode(TriggerAction.self, forKey: .action)
        concurrency = try container.decode(TriggerConcurrency.self, forKey: .concurrency)
        misfire = try container.decode(TriggerMisfire.self, forKey: .misfire)
        replaceTransition = try container.decodeIfPresent(String.self, forKey: .replaceTransition)
        maxCatchup = try container.decodeIfPresent(Int.self, forKey: .maxCatchup) ?? TriggerDefinition.maxCatchupDefault
    }

    /// Encodes every field; the two later ones only when set, so older definitions encode as before.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(cron, forKey: .cron)
        try container.encode(timezone, forKey: .timezone)
        try container.encode(action, forKey: .action)
        try container.encode(concurrency, forKey: .concurrency)
        try container.encode(misfire, forKey: .misfire)
        try container.encodeIfPresent(replaceTransition, forKey: .replaceTransition)
        if maxCatchup != TriggerDefinition.maxCatchupDefault { try container.encode(maxCatchup, forKey: .maxCatchup) }
    }
}

/// What a trigger does when it fires.
///
/// Encodes like the YAML: `{"transition": "cancel", "where": "created"}` or `{"start": {…}}`.
public enum TriggerAction: Sendable, Codable, Hashable {
    /// Request `transition` on every instance where it is allowed, restricted to instances in
    /// `whereState` when given.
    case transition(String, whereState: String?)
    /// Start a new instance with `data` merged over the workflow's data defaults.
    case start(data: [String: JSONValue])

    private enum CodingKeys: String, CodingKey {
        case transition
        case whereState = "where"
        case start
    }

    /// Encodes `{"transition", "where"?}` or `{"start"}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .transition(let name, let whereState):
            try container.encode(name, forKey: .transition)
            try container.encodeIfPresent(whereState, forKey: .whereState)
        case .start(let data):
            try container.encode(data, forKey: .start)
        }
    }

    /// Decodes what `encode(to:)` writes.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let name = try container.decodeIfPresent(String.self, forKey: .transition) {
            self = .transition(name, whereState: try container.decodeIfPresent(String.self, forKey: .whereState))
        } else {
            self = .start(data: try container.decode([String: JSONValue].self, forKey: .start))
        }
    }
}

/// `concurrency:` of a `start` trigger.
public enum TriggerConcurrency: String, Sendable, Codable, Hashable, CaseIterable {
    /// Start a new instance on every fire.
    case allow
    /// Skip the fire while the instance started by the previous fire is not final.
    case forbid
    /// Apply `replace_transition` to the previous fire's instance (when it is not final),
    /// then start a new one.
    case replace
}

/// `misfire:`: what happens to fire times missed (e.g. while the cluster had no leader).
public enum TriggerMisfire: String, Sendable, Codable, Hashable, CaseIterable {
    /// Drop missed fires.
    case skip
    /// Fire once for all the missed times.
    case once
    /// Fire for every missed time (bounded by the scheduler).
    case all
}
