import JSON

/// The body of `POST /v1/tokens`: `{role, name, ttl?}`.
public struct TokenBody: Sendable, Codable, Hashable, JSONWritable {
    /// `read`, `submit` or `admin`.
    public var role: String
    /// A name for people, shown as the actor in histories and logs.
    public var name: String
    /// A lifetime such as `30d` or `12h`; nil: no expiry.
    public var ttl: String?

    public init(role: String, name: String, ttl: String? = nil) {
        self.role = role
        self.name = name
        self.ttl = ttl
    }

    /// The body as the client sends it (no `ttl` key when absent).
    public var json: JSONValue {
        var members: [String: JSONValue] = ["role": .string(role), "name": .string(name)]
        if let ttl { members["ttl"] = .string(ttl) }
        return .object(members)
    }
}
