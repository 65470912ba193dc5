import JSON

/// The data of a `reset` or `dropped` event of `GET /v1/events`.
///
/// - `reset` (SSE `id` = `index`): the events after the client's `Last-Event-ID` are no
///   longer held on this node (or the node's own feed restarted); refetch what is shown
///   (`GET /v1/stats`, lists) and keep reading: the stream continues after `index`.
/// - `dropped`: the server ends the stream because the client read too slowly and the
///   events it had not read yet were overwritten; reconnect (with `Last-Event-ID`) and
///   refetch. `index` is the id of the last event sent.
public struct EventNotice: Sendable, Codable, Hashable, JSONWritable {
    /// Why, in words a person can act on.
    public var reason: String
    /// See above.
    public var index: UInt64

    /// A notice.
    public init(reason: String, index: UInt64) {
        self.reason = reason
        self.index = index
    }

    /// The notice as the server writes it.
    public var json: JSONValue { .object(["reason": .string(reason), "index": .integer(index)]) }
}
