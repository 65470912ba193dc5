import JSON

/// One entry of `GET /v1/timeouts`: a state timeout armed for an instance.
public struct TimeoutInfo: Sendable, Codable, Hashable, JSONWritable {
    public var instance: String
    public var workflow: String
    /// The state whose timeout this is.
    public var state: String
    /// The instance's revision when it entered the state; the timeout fires only if the
    /// instance is still at it.
    public var revision: UInt64
    /// When the leader requests the transition (RFC 3339, engine time).
    public var dueAt: String
    /// The transition requested when it fires.
    public var transition: String
    /// The timeout as declared, in milliseconds.
    public var afterMillis: Int64

    public init(instance: String, workflow: String, state: String, revision: UInt64, dueAt: String, transition: String,
                afterMillis: Int64) {
        self.instance = instance
        self.workflow = workflow
        self.state = state
        self.revision = revision
        self.dueAt = dueAt
        self.transition = transition
        self.afterMillis = afterMillis
    }

    enum CodingKeys: String, CodingKey {
        case instance, workflow, state, revision, transition
        case dueAt = "due_at"
        case afterMillis = "after_ms"
    }

    public var json: JSONValue {
        .object(["instance": .string(instance), "workflow": .string(workflow), "state": .string(state),
                 "revision": .integer(revision), "due_at": .string(dueAt), "transition": .string(transition),
                 "after_ms": .number(Double(afterMillis))])
    }
}

/// `GET /v1/timeouts`: the pending timeouts due first (up to `limit`), and how many there are.
public struct TimeoutList: Sendable, Codable, Hashable, JSONWritable {
    public var timeouts: [TimeoutInfo]
    /// Every pending timeout matching the filter, not only those listed.
    public var total: Int

    public init(timeouts: [TimeoutInfo], total: Int) {
        self.timeouts = timeouts
        self.total = total
    }

    public var json: JSONValue { .object(["timeouts": .list(timeouts), "total": .integer(total)]) }
}
