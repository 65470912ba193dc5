import JSON

/// One entry of `GET /v1/instances/{id}/history`. Every key is written; what does not apply
/// to the entry (`from` and `transition` of a start, a missing request id) is `null` — except
/// `hook` (only on entries of type `hook`), `cause` (only on a transition a hook's
/// `on_success` / `on_failure`, a trigger or a timeout took) and `actor` (only on an entry an
/// authenticated request made), which are left out when absent.
public struct HistoryRecord: Sendable, Codable, Hashable, JSONWritable {
    /// `start`, `transition` or `hook` (later `cron_fire`, …).
    public var type: String
    /// The log index of the entry that did it.
    public var index: UInt64
    /// The request id of the command, when it had one.
    public var requestID: String?
    /// The state before; nil for a start.
    public var from: String?
    /// The state after.
    public var to: String?
    /// The transition taken; nil for a start.
    public var transition: String?
    /// The instance's revision after this entry.
    public var revision: UInt64?
    /// RFC 3339 time (leader clock).
    public var at: String
    /// For `hook`: the attempt and how it ended.
    public var hook: HookRunInfo?
    /// For a transition taken by a hook: `hook <dispatch id>`.
    public var cause: String?
    /// The API token whose request made the entry (with authentication on).
    public var actor: ActorInfo?

    /// A history line.
    public init(type: String, index: UInt64, requestID: String?, from: String?, to: String?, transition: String?,
                revision: UInt64?, at: String, hook: HookRunInfo? = nil, cause: String? = nil, actor: ActorInfo? = nil) {
        self.type = type
        self.index = index
        self.requestID = requestID
        self.from = from
        self.to = to
        self.transition = transition
        self.revision = revision
        self.at = at
        self.hook = hook
        self.cause = cause
        self.actor = actor
    }

    enum CodingKeys: String, CodingKey {
        case type, index, from, to, transition, revision, at, hook, cause, actor
        case requestID = "request_id"
    }

    /// Encodes every key, absent values as `null` (as `json` does).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(index, forKey: .index)
        try container.encode(requestID, forKey: .requestID)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(transition, forKey: .transition)
        try container.encode(revision, forKey: .revision)
        try container.encode(at, forKey: .at)
        try container.encodeIfPresent(hook, forKey: .hook)
        try container.encodeIfPresent(cause, forKey: .cause)
        try container.encodeIfPresent(actor, forKey: .actor)
    }

    /// The entry as the server writes it.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "type": .string(type), "index": .integer(index), "request_id": .orNull(requestID), "from": .orNull(from),
            "to": .orNull(to), "transition": .orNull(transition), "revision": .orNull(revision), "at": .string(at)]
        if let hook { members["hook"] = hook.json }
        if let cause { members["cause"] = .string(cause) }
        if let actor { members["actor"] = actor.json }
        return .object(members)
    }
}
