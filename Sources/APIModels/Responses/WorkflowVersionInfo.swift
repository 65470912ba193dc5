import JSON

/// One registered version of a workflow, in `WorkflowInfo.versions`.
public struct WorkflowVersionInfo: Sendable, Codable, Hashable, JSONWritable {
    /// 1 for the first registration, one more per changed definition.
    public var version: Int
    /// SHA-256 of the definition's canonical form.
    public var hash: String
    /// The log index that registered it.
    public var index: UInt64
    /// When it was registered (RFC 3339, leader clock).
    public var registeredAt: String

    /// A version line.
    public init(version: Int, hash: String, index: UInt64, registeredAt: String) {
        self.version = version
        self.hash = hash
        self.index = index
        self.registeredAt = registeredAt
    }

    enum CodingKeys: String, CodingKey {
        case version, hash, index
        case registeredAt = "registered_at"
    }

    /// The version as the server writes it.
    public var json: JSONValue {
        .object(["version": .integer(version), "hash": .string(hash), "index": .integer(index),
                 "registered_at": .string(registeredAt)])
    }
}
