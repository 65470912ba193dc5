/// API tokens: the rules of `createToken` and `revokeToken`, and the lookups every node's
/// API authenticates with. Apply only ever sees digests.
extension EngineState {
    /// True once the cluster holds a token: from then on every node requires one. It never
    /// turns off again, also when every token is revoked: admin access then comes back with
    /// a new bootstrap token (docs/security.md, "Lost admin access").
    public var authenticationEnabled: Bool { !tokens.isEmpty }

    /// An admin token that is neither revoked nor expired at `nowMillis`, if any.
    public func usableAdminToken(atMillis nowMillis: Int64) -> TokenRecord? {
        allTokens.first { $0.role == .admin && $0.isUsable(atMillis: nowMillis) }
    }

    /// The token with this id, revoked and expired ones included.
    public func token(id: String) -> TokenRecord? { tokens[id] }

    /// Every token, oldest first.
    public var allTokens: [TokenRecord] {
        tokens.values.sorted { ($0.createdIndex, $0.id) < ($1.createdIndex, $1.id) }
    }

    mutating func createToken(_ command: CreateToken, index: UInt64) -> Outcome {
        if command.bootstrap, let admin = usableAdminToken(atMillis: clockMillis) {
            // Every node may propose its bootstrap token whenever it leads; it counts only
            // while the cluster has no usable admin token (the first start, or lost access).
            return .tokenChanged(TokenChanged(token: admin, changed: false, index: index))
        }
        guard TokenLimits.isValidID(command.id) else {
            return .rejected(.invalidArgument(field: "id", reason: "a token id is \(TokenLimits.idLength) lowercase hex digits"))
        }
        guard tokens[command.id] == nil else {
            return .rejected(.invalidArgument(field: "id", reason: "a token with id '\(command.id)' exists"))
        }
        guard TokenLimits.isValidName(command.name) else {
            return .rejected(.invalidArgument(field: "name", reason:
                "a token name has 1 to \(TokenLimits.nameBytesMax) bytes of letters, digits, '.', '_', '-', '@' and spaces"))
        }
        guard command.digest.count == TokenLimits.digestBytes else {
            return .rejected(.invalidArgument(field: "digest", reason: "a token digest is \(TokenLimits.digestBytes) bytes (SHA-256)"))
        }
        if let ttl = command.ttlMillis, ttl <= 0 {
            return .rejected(.invalidArgument(field: "ttl", reason: "must be positive"))
        }
        guard authenticationEnabled || command.role == .admin else {
            return .rejected(.invalidArgument(field: "role", reason:
                "the cluster's first token turns authentication on, so it must have role admin (not \(command.role))"))
        }
        guard tokens.count < TokenLimits.tokensMax else {
            return .rejected(.limitExceeded(limit: "tokensMax", max: TokenLimits.tokensMax))
        }
        let record = TokenRecord(id: command.id, role: command.role, name: command.name, digest: command.digest,
                                 createdIndex: index, createdAtMillis: clockMillis, createdBy: command.actor,
                                 expiresAtMillis: command.ttlMillis.map { clockMillis + $0 }, revokedAtMillis: nil)
        tokens[command.id] = record
        return .tokenChanged(TokenChanged(token: record, changed: true, index: index))
    }

    mutating func revokeToken(_ command: RevokeToken, index: UInt64) -> Outcome {
        guard var record = tokens[command.id] else { return .rejected(.unknownToken(id: command.id)) }
        guard record.revokedAtMillis == nil else { return .tokenChanged(TokenChanged(token: record, changed: false, index: index)) }
        record.revokedAtMillis = clockMillis
        tokens[command.id] = record
        return .tokenChanged(TokenChanged(token: record, changed: true, index: index))
    }
}

extension TokenRecord {
    func write(to writer: inout ByteWriter) {
        writer.writeString(id)
        writer.writeByte(role.rawValue)
        writer.writeString(name)
        writer.writeBlob(digest)
        writer.writeVarint(createdIndex)
        writer.writeSigned(createdAtMillis)
        writer.writeOptionalString(createdBy)
        writer.writeBool(expiresAtMillis != nil)
        if let expiresAtMillis { writer.writeSigned(expiresAtMillis) }
        writer.writeBool(revokedAtMillis != nil)
        if let revokedAtMillis { writer.writeSigned(revokedAtMillis) }
    }

    static func read(from reader: inout ByteReader) throws(DecodeError) -> TokenRecord {
        let id = try reader.readString("token id")
        let role = try TokenRole.read(from: &reader)
        let name = try reader.readString("token name")
        let digest = try reader.readBlob("token digest")
        let createdIndex = try reader.readVarint("token index")
        let createdAt = try reader.readSigned("token created")
        let createdBy = try reader.readOptionalString("token created by")
        let expires: Int64? = try reader.readBool("token expires") ? try reader.readSigned("token expiry") : nil
        let revoked: Int64? = try reader.readBool("token revoked") ? try reader.readSigned("token revocation") : nil
        return TokenRecord(id: id, role: role, name: name, digest: digest, createdIndex: createdIndex, createdAtMillis: createdAt,
                           createdBy: createdBy, expiresAtMillis: expires, revokedAtMillis: revoked)
    }
}

extension TokenRole {
    /// One role byte; any other value is an error naming it.
    static func read(from reader: inout ByteReader) throws(DecodeError) -> TokenRole {
        let at = reader.offset
        let raw = try reader.readByte("token role")
        guard let role = TokenRole(rawValue: raw) else { throw .unknownTag(what: "token role", tag: raw, offset: at) }
        return role
    }
}
