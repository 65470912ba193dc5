import JSON

/// `GET /v1/instances`: one page, oldest first. `next_cursor` is written as `null` on the
/// last page.
public struct InstanceList: Sendable, Codable, Hashable, JSONWritable {
    /// The page's instances.
    public var instances: [InstanceInfo]
    /// Pass as `cursor` for the next page; nil at the end.
    public var nextCursor: String?

    /// A page.
    public init(instances: [InstanceInfo], nextCursor: String?) {
        self.instances = instances
        self.nextCursor = nextCursor
    }

    enum CodingKeys: String, CodingKey {
        case instances
        case nextCursor = "next_cursor"
    }

    /// Encodes both keys, an absent `next_cursor` as `null` (as `json` does).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(instances, forKey: .instances)
        try container.encode(nextCursor, forKey: .nextCursor)
    }

    /// The page as the server writes it.
    public var json: JSONValue { .object(["instances": .list(instances), "next_cursor": .orNull(nextCursor)]) }
}
