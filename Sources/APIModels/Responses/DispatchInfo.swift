import JSON

/// One entry of `GET /v1/dispatches`: a hook run the cluster owes (or that failed for good).
public struct DispatchInfo: Sendable, Codable, Hashable, JSONWritable {
    /// `<log index>.<hook number>`.
    public var id: String
    public var instance: String
    public var workflow: String
    public var version: Int
    /// The transition that recorded it; `null` for the `on_enter` hooks of a start.
    public var transition: String?
    public var plugin: String
    /// `on_exit`, `hooks` or `on_enter`.
    public var stage: String
    /// `pending` (waiting for its turn or its due time), `running` (on this node, the leader),
    /// or `failed` (for good).
    public var state: String
    /// The attempt to run next (for `failed`: the last one).
    public var attempt: Int
    /// When the next attempt may start (RFC 3339, engine time); `null` for `failed`.
    public var dueAt: String?
    /// How the last attempt ended, for `failed`.
    public var result: String?
    /// The log index that recorded it.
    public var recordedIndex: UInt64

    public init(id: String, instance: String, workflow: String, version: Int, transition: String?, plugin: String,
                stage: String, state: String, attempt: Int, dueAt: String?, result: String?, recordedIndex: UInt64) {
        self.id = id
        self.instance = instance
        self.workflow = workflow
        self.version = version
        self.transition = transition
        self.plugin = plugin
        self.stage = stage
        self.state = state
        self.attempt = attempt
        self.dueAt = dueAt
        self.result = result
        self.recordedIndex = recordedIndex
    }

    enum CodingKeys: String, CodingKey {
        case id, instance, workflow, version, transition, plugin, stage, state, attempt, result
        case dueAt = "due_at"
        case recordedIndex = "recorded_index"
    }

    /// Encodes every key, absent values as `null` (as `json` does).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(instance, forKey: .instance)
        try container.encode(workflow, forKey: .workflow)
        try container.encode(version, forKey: .version)
        try container.encode(transition, forKey: .transition)
        try container.encode(plugin, forKey: .plugin)
        try container.encode(stage, forKey: .stage)
        try container.encode(state, forKey: .state)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(dueAt, forKey: .dueAt)
        try container.encode(result, forKey: .result)
        try container.encode(recordedIndex, forKey: .recordedIndex)
    }

    public var json: JSONValue {
        .object(["id": .string(id), "instance": .string(instance), "workflow": .string(workflow), "version": .integer(version),
                 "transition": .orNull(transition), "plugin": .string(plugin), "stage": .string(stage), "state": .string(state),
                 "attempt": .integer(attempt), "due_at": .orNull(dueAt), "result": .orNull(result),
                 "recorded_index": .integer(recordedIndex)])
    }
}

/// `GET /v1/dispatches`.
public struct DispatchList: Sendable, Codable, Hashable, JSONWritable {
    public var dispatches: [DispatchInfo]

    public init(dispatches: [DispatchInfo]) {
        self.dispatches = dispatches
    }

    public var json: JSONValue { .object(["dispatches": .list(dispatches)]) }
}
