import Engine
import Hummingbird
import Workflow

/// `/v1/cluster` routes. The admin routes, like every write, run on the leader: a follower
/// forwards them. Each answers with the cluster status after the change.
extension APIServer {
    /// `GET /v1/cluster[?local=true]`: members, roles and the leader's view of each one's
    /// replication (match index, live). Only the leader has that view, so a follower forwards
    /// the read to the leader (one hop, like a write) and passes its answer back — `node`
    /// then names the leader. With no leader known, a leader that cannot be reached, or
    /// `?local=true`, the node answers with its own view: `match_index` and `live` are null
    /// unless it leads.
    func cluster(_ request: Request) async throws -> Response {
        for key in request.uri.queryParameters.map(\.key) where key != "local" {
            throw APIError.invalidField(String(key), "unknown query parameter; use local")
        }
        if try !Self.flag("local", in: request), let leader = forwardTarget(request) {
            do {
                return try await forwarder.forward(request, body: [], to: leader, requestID: nil, node: consensus.health().node)
            } catch {
                logger.debug("answering GET /v1/cluster locally: the leader could not be asked",
                             metadata: ["leader": .string(leader), "error": .string("\(error)")])
            }
        }
        return JSONResponse.make(Views.cluster(consensus.clusterInfo()))
    }

    /// `POST /v1/cluster/members` `{id, raft, api, learner?}`.
    func addMember(_ request: Request, _ caller: Caller) async throws -> Response {
        let body = try await readBody(request)
        let fields = try Self.object(body)
        try fields.onlyFields(["id", "raft", "api", "learner"])
        let id = try fields.nodeID("id")
        let raft = try Self.address(fields.string("raft", required: true)!, field: "raft")
        let api = try Self.address(fields.string("api", required: true)!, field: "api")
        let learner = try fields.bool("learner") ?? false
        return try await admin(request, body: body, caller: caller, "add member \(id) (\(learner ? "learner" : "voter"))") {
            try await self.consensus.addMember(id: id, raft: raft, api: api, learner: learner)
        }
    }

    /// `POST /v1/cluster/members/{id}/promote`.
    func promoteMember(_ request: Request, _ context: BasicRequestContext, _ caller: Caller) async throws -> Response {
        let id = try Self.memberID(context)
        let body = try await readBody(request)
        return try await admin(request, body: body, caller: caller, "promote member \(id)") {
            try await self.consensus.promoteMember(id: id)
        }
    }

    /// `DELETE /v1/cluster/members/{id}`.
    func removeMember(_ request: Request, _ context: BasicRequestContext, _ caller: Caller) async throws -> Response {
        let id = try Self.memberID(context)
        let body = try await readBody(request)
        return try await admin(request, body: body, caller: caller, "remove member \(id)") {
            try await self.consensus.removeMember(id: id)
        }
    }

    /// `POST /v1/cluster/transfer-leader` `{to}`.
    func transferLeader(_ request: Request, _ caller: Caller) async throws -> Response {
        let body = try await readBody(request)
        let fields = try Self.object(body)
        try fields.onlyFields(["to"])
        let to = try fields.nodeID("to")
        return try await admin(request, body: body, caller: caller, "transfer leadership to \(to)") {
            try await self.consensus.transferLeadership(to: to)
        }
    }

    /// Forwards to the leader when needed, else runs `change` (logged with the caller as
    /// `what`) and answers with the cluster.
    func admin(_ request: Request, body: [UInt8], caller: Caller, _ what: String,
               _ change: @Sendable () async throws -> Void) async throws -> Response {
        if let leader = forwardTarget(request) {
            return try await forwarder.forward(request, body: body, to: leader, requestID: nil, node: consensus.health().node)
        }
        logger.info("membership change requested", metadata: ["change": .string(what), "actor": .string(caller.display)])
        do {
            try await change()
        } catch let error as MembershipError {
            switch error {
            case .unknownMember(let id):
                throw APIError(status: .notFound, code: "unknown_member", message: error.description,
                               details: ["member": .number(Double(id))])
            case .conflict(let reason):
                throw APIError(status: .conflict, code: "membership_conflict", message: reason)
            case .learnerNotReady(let id, let match, let leaderIndex, let lagMax, let live, let reason):
                throw APIError(status: .conflict, code: "learner_not_ready", message: reason,
                               details: ["member": .number(Double(id)), "match_index": .number(Double(match)),
                                         "leader_last_index": .number(Double(leaderIndex)), "lag_max_entries": .number(Double(lagMax)),
                                         "live": .bool(live), "applied": .bool(false)])
            case .wouldLoseQuorum(let votersAfter, let live, let quorum, let reason):
                throw APIError(status: .conflict, code: "would_lose_quorum", message: reason,
                               details: ["voters_after": .array(votersAfter.map { .number(Double($0)) }),
                                         "live_voters": .array(live.map { .number(Double($0)) }), "quorum": .number(Double(quorum)),
                                         "applied": .bool(false)])
            case .invalid(let field, let reason):
                throw APIError.invalidField(field, reason)
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.write(error, requestID: nil)
        }
        return JSONResponse.make(Views.cluster(consensus.clusterInfo()))
    }

    static func memberID(_ context: BasicRequestContext) throws -> UInt64 {
        let text = context.parameters.get("member") ?? ""
        guard let id = UInt64(text), id >= 1 else { throw APIError.invalidField("id", "must be a positive integer node id, not '\(text)'") }
        return id
    }

    /// Checks `host:port` (a host name or IPv4, or `[IPv6]`, and a port 1–65535).
    static func address(_ text: String, field: String) throws -> String {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port),
              colon > text.startIndex, text.count <= 255, !text.contains(where: { $0 == "/" || $0 == " " }) else {
            throw APIError.invalidField(field, "must be host:port, e.g. 127.0.0.1:7081, not '\(text)'")
        }
        return text
    }
}
