/// `Command.createToken`: adds an API token. The proposer made the secret and carries only
/// its SHA-256 digest; apply never sees a secret.
///
/// The first token the cluster holds turns authentication on for good (as `etcdctl auth
/// enable` does), so it must be an admin token. A `bootstrap` token (from a node's
/// `--bootstrap-token-file`) is created only while the cluster holds no token at all:
/// every node may propose the same one at first start, and only the first applies.
public struct CreateToken: Sendable, Hashable {
    public var id: String
    public var role: TokenRole
    public var name: String
    /// SHA-256 of the secret, 32 bytes.
    public var digest: [UInt8]
    /// Lifetime from the entry's time; nil: no expiry.
    public var ttlMillis: Int64?
    /// Create only if the cluster holds no token yet (else the outcome says nothing changed).
    public var bootstrap: Bool
    /// The token that asked for it; nil for the bootstrap token.
    public var actor: String?
    public var requestID: String?
    /// See `Command.proposedAtMillis`.
    public var proposedAtMillis: Int64

    public init(id: String, role: TokenRole, name: String, digest: [UInt8], ttlMillis: Int64? = nil, bootstrap: Bool = false,
                actor: String? = nil, requestID: String? = nil, proposedAtMillis: Int64 = 0) {
        self.id = id
        self.role = role
        self.name = name
        self.digest = digest
        self.ttlMillis = ttlMillis
        self.bootstrap = bootstrap
        self.actor = actor
        self.requestID = requestID
        self.proposedAtMillis = proposedAtMillis
    }
}

/// `Command.revokeToken`: marks a token revoked; every node refuses it once it applied this.
/// Revoking a revoked token changes nothing and answers with its record.
public struct RevokeToken: Sendable, Hashable {
    public var id: String
    /// The token that asked for it.
    public var actor: String?
    public var requestID: String?
    /// See `Command.proposedAtMillis`.
    public var proposedAtMillis: Int64

    public init(id: String, actor: String? = nil, requestID: String? = nil, proposedAtMillis: Int64 = 0) {
        self.id = id
        self.actor = actor
        self.requestID = requestID
        self.proposedAtMillis = proposedAtMillis
    }
}

/// `Outcome.tokenChanged`: the token's record after a `createToken` or `revokeToken`.
public struct TokenChanged: Sendable, Hashable {
    public var token: TokenRecord
    /// False when nothing changed (a bootstrap token after the first, a repeated revocation).
    public var changed: Bool
    /// The log index of the entry.
    public var index: UInt64

    public init(token: TokenRecord, changed: Bool, index: UInt64) {
        self.token = token
        self.changed = changed
        self.index = index
    }
}
