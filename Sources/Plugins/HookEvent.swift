import Workflow

/// What one hook run is about: written to the plugin's stdin as one JSON object with sorted
/// keys and a newline, and (the scalar fields) as `ORCH_*` variables.
///
/// ```swift
/// let event = HookEvent(workflow: "order", version: 3, instance: "o-17", transition: "pay",
///                       from: "created", to: "paid", data: ["priority": "high"],
///                       with: ["channel": "billing"], dispatchID: "812.0", attempt: 1)
/// String(decoding: event.jsonLine, as: UTF8.self)
/// // {"attempt":1,"data":{"priority":"high"},"deadline":null,"dispatch_id":"812.0","from":"created",
/// //  "instance":"o-17","to":"paid","transition":"pay","version":3,"with":{"channel":"billing"},"workflow":"order"}
/// ```
public struct HookEvent: Sendable, Hashable {
    /// The workflow's name.
    public var workflow: String
    /// The workflow version the instance is pinned to.
    public var version: Int
    /// The instance's id.
    public var instance: String
    /// The transition taken; nil for a state hook not reached by a transition (e.g. the
    /// initial state's `on_enter` when an instance starts).
    public var transition: String?
    /// The state left; nil when there is none (an instance's start).
    public var from: String?
    /// The state entered.
    public var to: String
    /// The instance's data after the transition.
    public var data: [String: JSONValue]
    /// The hook's `with` parameters.
    public var with: [String: JSONValue]
    /// The dispatch's deterministic id (`<log index>.<hook number>`): the same on every
    /// attempt and every leader, so a plugin can be idempotent.
    public var dispatchID: String
    /// 1 for the first run of this dispatch, 2 for the first retry, …
    public var attempt: Int
    /// When this attempt will be stopped, in ms since the Unix epoch, written as an RFC 3339
    /// UTC timestamp; nil writes `null`. The dispatcher, which owns the clock, sets it.
    public var deadlineMillis: Int64?

    /// Creates an event.
    public init(workflow: String, version: Int, instance: String, transition: String?, from: String?, to: String,
                data: [String: JSONValue] = [:], with: [String: JSONValue] = [:], dispatchID: String, attempt: Int,
                deadlineMillis: Int64? = nil) {
        self.workflow = workflow
        self.version = version
        self.instance = instance
        self.transition = transition
        self.from = from
        self.to = to
        self.data = data
        self.with = with
        self.dispatchID = dispatchID
        self.attempt = attempt
        self.deadlineMillis = deadlineMillis
    }

    /// The event as a JSON object: every field is always present (`null` when absent).
    public var jsonValue: JSONValue {
        .object([
            "workflow": .string(workflow),
            "version": .number(Double(version)),
            "instance": .string(instance),
            "transition": transition.map(JSONValue.string) ?? .null,
            "from": from.map(JSONValue.string) ?? .null,
            "to": .string(to),
            "data": .object(data),
            "with": .object(with),
            "dispatch_id": .string(dispatchID),
            "attempt": .number(Double(attempt)),
            "deadline": deadlineMillis.map { .string(Timestamp.rfc3339(millis: $0)) } ?? .null,
        ])
    }

    /// What the plugin reads on stdin: the sorted-key JSON object and one newline.
    public var jsonLine: [UInt8] {
        var bytes = JSONWriter.bytes(jsonValue)
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }
}
