/// One API token as the cluster keeps it: never the secret, only its SHA-256 digest, with the
/// token's role, name and lifetime. Lives in the replicated engine state, so every node can
/// check a token; revoked tokens are kept (marked) so `token list` and histories can still
/// name them.
public struct TokenRecord: Sendable, Hashable {
    /// The token's public id (the `<id>` of `orch_<id>_<secret>`).
    public var id: String
    public var role: TokenRole
    /// A name for people (`ci-deployer`), shown as the actor in histories and logs.
    public var name: String
    /// SHA-256 of the secret part, 32 bytes.
    public var digest: [UInt8]
    /// The log index and engine time of its creation.
    public var createdIndex: UInt64
    public var createdAtMillis: Int64
    /// The token who created it; nil for the bootstrap token.
    public var createdBy: String?
    /// Engine time after which the token is refused; nil: it does not expire.
    public var expiresAtMillis: Int64?
    /// Engine time of its revocation; nil while it is valid.
    public var revokedAtMillis: Int64?

    public init(id: String, role: TokenRole, name: String, digest: [UInt8], createdIndex: UInt64, createdAtMillis: Int64,
                createdBy: String?, expiresAtMillis: Int64?, revokedAtMillis: Int64?) {
        self.id = id
        self.role = role
        self.name = name
        self.digest = digest
        self.createdIndex = createdIndex
        self.createdAtMillis = createdAtMillis
        self.createdBy = createdBy
        self.expiresAtMillis = expiresAtMillis
        self.revokedAtMillis = revokedAtMillis
    }

    /// Whether the token is still accepted at `nowMillis` (a node's clock).
    public func isUsable(atMillis nowMillis: Int64) -> Bool {
        revokedAtMillis == nil && (expiresAtMillis.map { nowMillis < $0 } ?? true)
    }
}

/// The limits of tokens, checked by apply (so any bytes in the log are held to them).
public enum TokenLimits {
    /// A token id: 12 lowercase hex digits (48 random bits; an id is not a secret).
    public static let idLength = 12
    /// Bytes of a token's name.
    public static let nameBytesMax = 64
    /// Tokens the cluster keeps, revoked ones included.
    public static let tokensMax = 10_000
    /// Bytes of a secret's digest (SHA-256).
    public static let digestBytes = 32

    /// True for a well-formed token id.
    public static func isValidID(_ id: String) -> Bool {
        id.utf8.count == idLength && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// True for a usable name: 1–64 bytes of letters, digits, `.`, `_`, `-`, `@`, space.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= nameBytesMax
            && name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil || "._-@ ".unicodeScalars.contains($0) }
    }
}
