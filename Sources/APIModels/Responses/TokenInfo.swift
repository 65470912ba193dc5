import JSON

/// An API token as `GET /v1/tokens` lists it — never its secret or digest — and, with
/// `token` (the secret, shown this one time), as `POST /v1/tokens` answers. Absent times are
/// `null`; `token` is left out except in the answer that created it.
public struct TokenInfo: Sendable, Codable, Hashable, JSONWritable {
    public var id: String
    public var name: String
    /// `read`, `submit` or `admin`.
    public var role: String
    /// `active`, `expired` or `revoked` (as the answering node's clock sees it).
    public var status: String
    /// RFC 3339 times (leader clock).
    public var createdAt: String
    /// The token id that created it; nil for the bootstrap token.
    public var createdBy: String?
    public var expiresAt: String?
    public var revokedAt: String?
    /// The log index of the entry that created (or, for a revocation, revoked) it.
    public var index: UInt64
    /// The whole token, `orch_<id>_<secret>`: only in `POST /v1/tokens`'s answer.
    public var token: String?

    public init(id: String, name: String, role: String, status: String, createdAt: String, createdBy: String?,
                expiresAt: String?, revokedAt: String?, index: UInt64, token: String? = nil) {
        self.id = id
        self.name = name
        self.role = role
        self.status = status
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.index = index
        self.token = token
    }

    enum CodingKeys: String, CodingKey {
        case id, name, role, status, index, token
        case createdAt = "created_at"
        case createdBy = "created_by"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
    }

    /// Encodes every key, absent times as `null`, and `token` only when present (as `json` does).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(role, forKey: .role)
        try container.encode(status, forKey: .status)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(createdBy, forKey: .createdBy)
        try container.encode(expiresAt, forKey: .expiresAt)
        try container.encode(revokedAt, forKey: .revokedAt)
        try container.encode(index, forKey: .index)
        try container.encodeIfPresent(token, forKey: .token)
    }

    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "id": .string(id), "name": .string(name), "role": .string(role), "status": .string(status),
            "created_at": .string(createdAt), "created_by": .orNull(createdBy), "expires_at": .orNull(expiresAt),
            "revoked_at": .orNull(revokedAt), "index": .integer(index)]
        if let token { members["token"] = .string(token) }
        return .object(members)
    }
}

/// `GET /v1/tokens`: every token, oldest first.
public struct TokenList: Sendable, Codable, Hashable, JSONWritable {
    public var tokens: [TokenInfo]

    public init(tokens: [TokenInfo]) {
        self.tokens = tokens
    }

    public var json: JSONValue { .object(["tokens": .list(tokens)]) }
}

/// Who made a history entry: the API token whose request it was.
public struct ActorInfo: Sendable, Codable, Hashable, JSONWritable {
    /// The token's id.
    public var token: String
    /// The token's name (as the cluster knows it now).
    public var name: String?

    public init(token: String, name: String?) {
        self.token = token
        self.name = name
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(token, forKey: .token)
        try container.encode(name, forKey: .name)
    }

    enum CodingKeys: String, CodingKey { case token, name }

    public var json: JSONValue { .object(["token": .string(token), "name": .orNull(name)]) }
}
