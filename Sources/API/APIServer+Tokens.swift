import APIModels
import Engine
import Hummingbird
import Workflow

/// `/v1/tokens` routes (admin). The secret of a new token is made by the node that proposes
/// its creation — the leader (a follower forwards the request first) — and answered once;
/// the log, snapshots and every node keep only its SHA-256.
extension APIServer {
    /// `POST /v1/tokens` `{role, name, ttl?}` → 201 with the token's record and `token`, the
    /// whole `orch_<id>_<secret>` (shown this one time).
    func createToken(_ request: Request, _ caller: Caller) async throws -> Response {
        let body = try await readBody(request)
        let fields = try Self.object(body)
        try fields.onlyFields(["role", "name", "ttl", "request_id"])
        let roleName = try fields.string("role", required: true)!
        guard let role = TokenRole(name: roleName) else {
            throw APIError.invalidField("role", "'\(roleName)' is not a role: use read, submit or admin")
        }
        let name = try fields.string("name", required: true)!
        guard TokenLimits.isValidName(name) else {
            throw APIError.invalidField("name", "use 1 to \(TokenLimits.nameBytesMax) bytes of letters, digits, '.', '_', '-', '@' and spaces")
        }
        var ttlMillis: Int64?
        if let ttl = try fields.string("ttl") {
            guard let duration = WorkflowDuration(parsing: ttl), duration.milliseconds > 0 else {
                throw APIError.invalidField("ttl", "'\(ttl)' is not a duration such as 30d, 12h or 90m")
            }
            ttlMillis = duration.milliseconds
        }
        let requestID = try fields.string("request_id")
        if let leader = forwardTarget(request) {
            return try await forwarder.forward(request, body: body, to: leader, requestID: requestID, node: consensus.health().node)
        }
        let token = APIToken.generate()
        let command = Command.createToken(CreateToken(id: token.id, role: role, name: name, digest: token.digest,
                                                      ttlMillis: ttlMillis, actor: caller.tokenID, requestID: requestID))
        let outcome = try await propose(command).outcome
        switch outcome {
        case .tokenChanged(let changed) where changed.token.id == token.id:
            logger.info("API token created", metadata: ["token": .string(token.id), "name": .string(name),
                                                        "role": .string(role.name), "actor": .string(caller.display)])
            return JSONResponse.make(status: .created, Views.token(changed.token, index: changed.index, nowMillis: clock.nowMillis,
                                                                   secret: token.text).json)
        case .tokenChanged:
            // A retried request id answered with the token of its first attempt, whose secret
            // this node no longer has: say so rather than hand out a token that does not work.
            throw APIError(status: .conflict, code: "request_id_conflict",
                           message: "request id '\(requestID ?? "")' already created a token; its secret was shown once. Create another")
        case .rejected(let rejection):
            throw APIError.rejected(rejection)
        default:
            throw unexpected(outcome)
        }
    }

    /// `GET /v1/tokens` → `{tokens: [...]}`, oldest first; no secrets, no digests.
    func listTokens(_ request: Request) async throws -> Response {
        try await readBarrier(request)
        let now = clock.nowMillis
        return JSONResponse.make(TokenList(tokens: engine.allTokens().map { Views.token($0, nowMillis: now) }).json)
    }

    /// `DELETE /v1/tokens/{id}` → 200 with the revoked token's record; every node refuses it
    /// once it has applied the revocation.
    func revokeToken(_ request: Request, _ context: BasicRequestContext, _ caller: Caller) async throws -> Response {
        let id = context.parameters.get("token") ?? ""
        guard TokenLimits.isValidID(id) else {
            throw APIError.invalidField("token", "'\(id.prefix(40))' is not a token id (\(TokenLimits.idLength) lowercase hex digits)")
        }
        if let leader = forwardTarget(request) {
            return try await forwarder.forward(request, body: [], to: leader, requestID: nil, node: consensus.health().node)
        }
        let outcome = try await propose(.revokeToken(RevokeToken(id: id, actor: caller.tokenID))).outcome
        switch outcome {
        case .tokenChanged(let changed):
            if changed.changed {
                logger.info("API token revoked", metadata: ["token": .string(id), "name": .string(changed.token.name),
                                                            "actor": .string(caller.display)])
            }
            return JSONResponse.make(Views.token(changed.token, index: changed.index, nowMillis: clock.nowMillis).json)
        case .rejected(let rejection):
            throw APIError.rejected(rejection)
        default:
            throw unexpected(outcome)
        }
    }
}
