import JSON

/// The data of a `change` event of `GET /v1/events`: what one committed log entry changed.
/// The event's SSE `id` is `index`, so a client that reconnects with `Last-Event-ID`
/// resumes after it.
///
/// ```text
/// id: 42
/// event: change
/// data: {"changes":[{"from":"created","instance":"o-17","revision":2,"state":null,"to":"paid","transition":"pay",…}],"index":42,"term":3}
/// ```
public struct EventBatch: Sendable, Codable, Hashable, JSONWritable {
    /// The entry's log index.
    public var index: UInt64
    /// The term the entry was proposed in.
    public var term: UInt64
    /// What the entry changed, in apply order (never empty).
    public var changes: [EventChange]

    /// A batch.
    public init(index: UInt64, term: UInt64, changes: [EventChange]) {
        self.index = index
        self.term = term
        self.changes = changes
    }

    /// The batch as the server writes it.
    public var json: JSONValue {
        .object(["index": .integer(index), "term": .integer(term), "changes": .list(changes)])
    }
}
