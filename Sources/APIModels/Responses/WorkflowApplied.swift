import JSON

/// `PUT /v1/workflows/{name}` → 201 (a version was created) or 200 (unchanged): the version
/// registered, or the unchanged latest one.
public struct WorkflowApplied: Sendable, Codable, Hashable, JSONWritable {
    /// The workflow's name.
    public var name: String
    /// The version registered, or the latest when nothing changed.
    public var version: Int
    /// That version's content hash.
    public var hash: String
    /// False when the definition equals the latest version and nothing changed.
    public var created: Bool
    /// The log index of the registration.
    public var index: UInt64

    /// A registration answer.
    public init(name: String, version: Int, hash: String, created: Bool, index: UInt64) {
        self.name = name
        self.version = version
        self.hash = hash
        self.created = created
        self.index = index
    }

    /// The answer as the server writes it.
    public var json: JSONValue {
        .object(["name": .string(name), "version": .integer(version), "hash": .string(hash), "created": .bool(created),
                 "index": .integer(index)])
    }
}
