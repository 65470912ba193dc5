import JSON

/// `GET /v1/instances/{id}/history[?after=INDEX&limit=N]`: one page of the retained entries
/// in log order.
public struct InstanceHistory: Sendable, Codable, Hashable, JSONWritable {
    /// The instance's id.
    public var id: String
    /// This page's entries, in log order.
    public var entries: [HistoryRecord]
    /// How many older entries the workflow's history limit dropped (`history: { max_entries }`).
    public var dropped: UInt64
    /// The log index of the oldest entry still kept: the history is complete from there.
    public var retainedFromIndex: UInt64?
    /// Pass as `after` for the next page; null on the last page.
    public var nextAfter: UInt64?

    /// A history answer.
    public init(id: String, entries: [HistoryRecord], dropped: UInt64, retainedFromIndex: UInt64? = nil, nextAfter: UInt64? = nil) {
        self.id = id
        self.entries = entries
        self.dropped = dropped
        self.retainedFromIndex = retainedFromIndex
        self.nextAfter = nextAfter
    }

    enum CodingKeys: String, CodingKey {
        case id, entries, dropped
        case retainedFromIndex = "retained_from_index"
        case nextAfter = "next_after"
    }

    /// Encodes every key, absent values as `null` (as `json` does).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(entries, forKey: .entries)
        try container.encode(dropped, forKey: .dropped)
        try container.encode(retainedFromIndex, forKey: .retainedFromIndex)
        try container.encode(nextAfter, forKey: .nextAfter)
    }

    /// The history as the server writes it.
    public var json: JSONValue {
        .object(["id": .string(id), "entries": .list(entries), "dropped": .integer(dropped),
                 "retained_from_index": .orNull(retainedFromIndex), "next_after": .orNull(nextAfter)])
    }
}
