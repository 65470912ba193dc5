import JSON

/// One change in an `EventBatch`: which thing moved, not the thing itself (fetch it when
/// the whole object is needed). Keys that do not apply to the `type` are written as `null`.
///
/// | type | fields set |
/// |---|---|
/// | `workflow_registered` | workflow, version |
/// | `instance_started` | instance, workflow, version, state |
/// | `instance_moved` | instance, workflow, transition, from, to, revision |
/// | `instance_finished` | instance, workflow, state |
/// | `instance_purged` | instance, workflow |
/// | `dispatch_recorded` | dispatch, instance, plugin |
/// | `dispatch_retry` | dispatch, instance, attempt |
/// | `dispatch_finished` | dispatch, instance, succeeded |
public struct EventChange: Sendable, Codable, Hashable, JSONWritable {
    /// What happened (the table above).
    public var type: String
    public var instance: String?
    public var workflow: String?
    public var version: Int?
    public var state: String?
    public var transition: String?
    public var from: String?
    public var to: String?
    /// The instance's revision after the move.
    public var revision: UInt64?
    /// A hook dispatch id (`<log index>.<n>`).
    public var dispatch: String?
    public var plugin: String?
    /// The attempt a retry will be.
    public var attempt: Int?
    /// Whether a finished dispatch succeeded.
    public var succeeded: Bool?

    /// A change; give the fields its `type` sets.
    public init(type: String, instance: String? = nil, workflow: String? = nil, version: Int? = nil, state: String? = nil,
                transition: String? = nil, from: String? = nil, to: String? = nil, revision: UInt64? = nil,
                dispatch: String? = nil, plugin: String? = nil, attempt: Int? = nil, succeeded: Bool? = nil) {
        self.type = type
        self.instance = instance
        self.workflow = workflow
        self.version = version
        self.state = state
        self.transition = transition
        self.from = from
        self.to = to
        self.revision = revision
        self.dispatch = dispatch
        self.plugin = plugin
        self.attempt = attempt
        self.succeeded = succeeded
    }

    /// Encodes every key, absent values as `null` (as `json` does).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(instance, forKey: .instance)
        try container.encode(workflow, forKey: .workflow)
        try container.encode(version, forKey: .version)
        try container.encode(state, forKey: .state)
        try container.encode(transition, forKey: .transition)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(revision, forKey: .revision)
        try container.encode(dispatch, forKey: .dispatch)
        try container.encode(plugin, forKey: .plugin)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(succeeded, forKey: .succeeded)
    }

    /// The change as the server writes it.
    public var json: JSONValue {
        .object(["type": .string(type), "instance": .orNull(instance), "workflow": .orNull(workflow),
                 "version": version.map { .integer($0) } ?? .null, "state": .orNull(state), "transition": .orNull(transition),
                 "from": .orNull(from), "to": .orNull(to), "revision": .orNull(revision), "dispatch": .orNull(dispatch),
                 "plugin": .orNull(plugin), "attempt": attempt.map { .integer($0) } ?? .null,
                 "succeeded": succeeded.map(JSONValue.bool) ?? .null])
    }
}
