import JSON

/// `GET /v1/instances/{id}`, and the entries of `GET /v1/instances`.
public struct InstanceInfo: Sendable, Codable, Hashable, JSONWritable {
    /// The instance's id.
    public var id: String
    /// Its workflow.
    public var workflow: String
    /// The workflow version it is pinned to.
    public var version: Int
    /// Its current state.
    public var state: String
    /// Its data: the workflow's defaults, the start data and every patch merged in.
    public var data: [String: JSONValue]
    /// 1 when started, one more per accepted transition.
    public var revision: UInt64
    /// True when `state` is final.
    public var final: Bool
    /// When it started (RFC 3339, leader clock).
    public var createdAt: String
    /// When it last changed (RFC 3339, leader clock).
    public var updatedAt: String
    /// For a finished instance with a retention: when it will be purged with its history
    /// (RFC 3339); null otherwise.
    public var purgeAt: String?

    /// An instance answer.
    public init(id: String, workflow: String, version: Int, state: String, data: [String: JSONValue], revision: UInt64,
                final: Bool, createdAt: String, updatedAt: String, purgeAt: String? = nil) {
        self.id = id
        self.workflow = workflow
        self.version = version
        self.state = state
        self.data = data
        self.revision = revision
        self.final = final
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.purgeAt = purgeAt
    }

    enum CodingKeys: String, CodingKey {
        case id, workflow, version, state, data, revision, final
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case purgeAt = "purge_at"
    }

    /// Encodes every key, an absent `purge_at` as `null` (as `json` does).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(workflow, forKey: .workflow)
        try container.encode(version, forKey: .version)
        try container.encode(state, forKey: .state)
        try container.encode(data, forKey: .data)
        try container.encode(revision, forKey: .revision)
        try container.encode(final, forKey: .final)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(purgeAt, forKey: .purgeAt)
    }

    /// The instance as the server writes it.
    public var json: JSONValue {
        .object(["id": .string(id), "workflow": .string(workflow), "version": .integer(version), "state": .string(state),
                 "data": .object(data), "revision": .integer(revision), "final": .bool(final),
                 "created_at": .string(createdAt), "updated_at": .string(updatedAt), "purge_at": .orNull(purgeAt)])
    }
}
