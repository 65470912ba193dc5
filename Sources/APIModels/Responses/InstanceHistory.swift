import JSON

/// `GET /v1/instances/{id}/history`: the retained entries in log order.
public struct InstanceHistory: Sendable, Codable, Hashable, JSONWritable {
    /// The instance's id.
    public var id: String
    /// Entries in log order.
    public var entries: [HistoryRecord]
    /// How many older entries the server no longer keeps.
    public var dropped: UInt64

    /// A history answer.
    public init(id: String, entries: [HistoryRecord], dropped: UInt64) {
        self.id = id
        self.entries = entries
        self.dropped = dropped
    }

    /// The history as the server writes it.
    public var json: JSONValue { .object(["id": .string(id), "entries": .list(entries), "dropped": .integer(dropped)]) }
}
