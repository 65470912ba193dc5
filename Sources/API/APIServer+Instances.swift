import Engine
import Hummingbird
import JSON
import Workflow

/// `/v1/instances` routes.
extension APIServer {
    /// `POST /v1/instances` `{workflow, id?, data?, request_id?}` → 201 `{id, workflow, version, state, index}`.
    ///
    /// Without `id`, the instance id is the request id (given or generated), so a retry with
    /// the same request id names the same instance and is deduplicated.
    func startInstance(_ request: Request, _ caller: Caller) async throws -> Response {
        let body = try await readBody(request)
        let fields = try Self.object(body)
        try fields.onlyFields(["workflow", "id", "data", "request_id", "version"])
        guard let workflow = try fields.string("workflow", required: true), !workflow.isEmpty,
              workflow.utf8.count <= EngineLimits.nameLengthMax else {
            throw APIError.invalidField("workflow", "must be a workflow name")
        }
        let requestID = try requestID(body: fields.string("request_id"), request: request)
        let id = try fields.string("id") ?? requestID
        guard EngineLimits.isValidID(id) else { throw APIError.invalidField("id", Self.idRule(id)) }
        let data = try fields.object("data")
        var version: Int?
        switch fields["version"] {
        case .number(let value)? where value >= 1 && value <= Double(Int32.max) && value.rounded() == value: version = Int(value)
        case nil, .null?: version = nil
        default: throw APIError.invalidField("version", "must be a positive integer")
        }
        if let leader = forwardTarget(request) {
            return try await forwarder.forward(request, body: body, to: leader, requestID: requestID, node: consensus.health().node)
        }
        let command = Command.startInstance(StartInstance(workflow: workflow, version: version, id: id, data: data,
                                                          requestID: requestID, actor: caller.tokenID))
        let outcome = try await propose(command).outcome
        switch outcome {
        case .instanceStarted(let started):
            return JSONResponse.make(status: .created, Views.started(started))
        case .rejected(let rejection):
            throw APIError.rejected(rejection)
        default:
            throw unexpected(outcome)
        }
    }

    /// `POST /v1/instances/{id}/transitions` `{transition?, to?, expect?, data?, request_id?}`
    /// → 200 `{id, transition, from, to, state, revision, index}`.
    ///
    /// On the leader the same request is usually answered by `TransitionFastPath` before it
    /// reaches the router; both take the same steps: `transitionRequest`, then
    /// `transitionAnswer`.
    func transition(_ request: Request, _ context: BasicRequestContext, _ caller: Caller) async throws -> Response {
        let id = try Self.pathID(context)
        let body = try await readBody(request)
        let command = try transitionRequest(instance: id, body: body, headerRequestID: request.headers[Forwarder.requestIDHeader],
                                            caller: caller)
        if let leader = forwardTarget(request) {
            return try await forwarder.forward(request, body: body, to: leader, requestID: command.requestID,
                                               node: consensus.health().node)
        }
        return JSONResponse.make(try transitionAnswer(await propose(.transition(command)).outcome))
    }

    /// The transition a request body asks for (`instance` is the path's id, already checked),
    /// or the 400 that names the field at fault.
    func transitionRequest(instance: String, body: [UInt8], headerRequestID: String?, caller: Caller) throws -> TransitionRequest {
        let fields = try Self.object(body)
        try fields.onlyFields(["transition", "to", "expect", "data", "request_id"])
        let name = try fields.string("transition")
        let to = try fields.string("to")
        guard name != nil || to != nil else {
            throw APIError.invalidField("transition", "give the transition's name, or the target state as 'to'")
        }
        for (field, value) in [("transition", name), ("to", to)] {
            if let value, value.isEmpty || value.utf8.count > EngineLimits.nameLengthMax {
                throw APIError.invalidField(field, "must be a name of 1 to \(EngineLimits.nameLengthMax) bytes")
            }
        }
        let expect = try fields.string("expect")
        let data = try fields.object("data")
        let requestID = try requestID(body: fields.string("request_id"), header: headerRequestID)
        return TransitionRequest(instance: instance, name: name, to: to, expect: expect, dataPatch: data,
                                 requestID: requestID, actor: caller.tokenID)
    }

    /// The 200 body for a committed transition, or the error its outcome means.
    func transitionAnswer(_ outcome: Outcome) throws(APIError) -> JSONValue {
        switch outcome {
        case .transitioned(let moved): return Views.transitioned(moved)
        case .rejected(let rejection): throw APIError.rejected(rejection)
        default: throw unexpected(outcome)
        }
    }

    /// `GET /v1/instances/{id}[?stale=true]`.
    func showInstance(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try Self.pathID(context)
        try await readBarrier(request)
        guard let instance = engine.instance(id: id) else { throw APIError.rejected(.unknownInstance(id: id)) }
        return JSONResponse.make(Views.instance(instance, retention: retentionLookup()))
    }

    /// `GET /v1/instances/{id}/history[?stale=true]`.
    func history(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try Self.pathID(context)
        let query = request.uri.queryParameters
        for key in query.map(\.key) where !["after", "limit", "stale"].contains(key) {
            throw APIError.invalidField(String(key), "unknown query parameter; use after, limit or stale")
        }
        let limit = try pageLimit(query, default: settings.pageSizeMax)
        var after: UInt64?
        if let text = query["after"] {
            guard let value = UInt64(text) else {
                throw APIError.invalidField("after", "must be a log index (the next_after of a previous page), not '\(text)'")
            }
            after = value
        }
        try await readBarrier(request)
        guard let page = engine.historyPage(of: id, after: after, limit: limit) else { throw APIError.rejected(.unknownInstance(id: id)) }
        return JSONResponse.make(Views.history(id: id, page, tokenName: { self.engine.token(id: $0)?.name }))
    }

    /// `GET /v1/instances?workflow=&state=&finished=&id_prefix=&updated_since=&limit=&cursor=[&stale=true]`
    /// → `{instances, next_cursor}`.
    func listInstances(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let known: [Substring] = ["workflow", "state", "finished", "id_prefix", "updated_since", "limit", "cursor", "stale"]
        for key in query.map(\.key) where !known.contains(key) {
            throw APIError.invalidField(String(key),
                                        "unknown query parameter; use workflow, state, finished, id_prefix, updated_since, limit, cursor or stale")
        }
        var updatedSince: Int64?
        if let text = query["updated_since"], !text.isEmpty {
            guard let millis = Timestamp.parseRFC3339(String(text)) else {
                throw APIError.invalidField("updated_since",
                                            "must be an RFC 3339 time such as 2026-12-04T16:00:00Z or 2026-12-04T17:00:00+01:00, not '\(text)'")
            }
            updatedSince = millis
        }
        var idPrefix: String?
        if let text = query["id_prefix"], !text.isEmpty {
            // A prefix of a valid id is itself a valid id (the rule has no minimum beyond one character).
            guard EngineLimits.isValidID(String(text)) else { throw APIError.invalidField("id_prefix", Self.idRule(String(text))) }
            idPrefix = String(text)
        }
        var finished: Bool?
        if let text = query["finished"] {
            guard text == "true" || text == "false" else { throw APIError.invalidField("finished", "must be true or false, not '\(text)'") }
            finished = text == "true"
        }
        let limit = try pageLimit(query, default: settings.pageSizeDefault)
        var cursor: UInt64?
        if let text = query["cursor"] {
            guard let value = UInt64(text) else {
                throw APIError.invalidField("cursor", "must be the next_cursor of a previous page, not '\(text)'")
            }
            cursor = value
        }
        let workflow = query["workflow"].map(String.init)
        let state = query["state"].map(String.init)
        try await readBarrier(request)
        let page = engine.instances(workflow: workflow, state: state, final: finished, idPrefix: idPrefix,
                                  updatedSinceMillis: updatedSince, after: cursor, limit: limit)
        return JSONResponse.make(Views.instanceList(page, retention: retentionLookup()))
    }

    /// `GET /v1/dispatches?state=pending|running|failed[&stale=true]` → `{dispatches}`.
    func listDispatches(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        for key in query.map(\.key) where !["state", "stale"].contains(key) {
            throw APIError.invalidField(String(key), "unknown query parameter; use state or stale")
        }
        let state = query["state"].map(String.init)
        if let state, !["pending", "running", "failed"].contains(state) {
            throw APIError.invalidField("state", "must be pending, running or failed, not '\(state)'")
        }
        try await readBarrier(request)
        return JSONResponse.make(Views.dispatches(pending: engine.pendingDispatches(), failed: engine.failedDispatches(),
                                                  running: runningDispatches(), state: state))
    }

    /// The `limit` query parameter of a paged read: 1 to `pageSizeMax`, `fallback` when absent.
    func pageLimit(_ query: Parameters, default fallback: Int) throws -> Int {
        guard let text = query["limit"] else { return fallback }
        guard let value = Int(text), value >= 1, value <= settings.pageSizeMax else {
            throw APIError.invalidField("limit", "must be an integer from 1 to \(settings.pageSizeMax), not '\(text)'")
        }
        return value
    }

    /// Each workflow's retention (its latest version's, else the cluster default), looked up
    /// once per workflow for one answer.
    func retentionLookup() -> (String) -> Int64? {
        var known: [String: Int64?] = [:]
        let fallback = settings.defaultRetentionMillis
        return { [engine] workflow in
            if let value = known[workflow] { return value }
            let value = engine.workflowVersion(workflow)?.definition.retention?.milliseconds ?? fallback
            known[workflow] = value
            return value
        }
    }

    /// An outcome that does not belong to the command proposed: a bug, logged and answered 500.
    func unexpected(_ outcome: Outcome) -> APIError {
        logger.error("unexpected outcome", metadata: ["outcome": .string(String(describing: outcome))])
        return APIError(status: .internalServerError, code: "internal", message: "unexpected outcome \(outcome)")
    }
}
