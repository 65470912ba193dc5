import Engine
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Workflow

/// The HTTP API of one node (docs/api.md): routes, JSON errors, forwarding of writes from a
/// follower to the leader, the probes and the metrics endpoint (with the request durations
/// it records itself). It changes state only by proposing
/// commands through `Consensus` (which stamps them, on the leader); it reads from the local
/// `ReplicatedEngine`, after a read barrier unless the request says `?stale=true`.
///
/// ```swift
/// let api = APIServer(engine: engine, consensus: consensus, metricsText: { prometheus.text() }, clock: SystemClock())
/// let app = Application(router: api.buildRouter(),
///                       configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
/// try await app.runService()
/// await api.shutdown()            // after the application stopped: closes forwarding connections
/// ```
public final class APIServer: Sendable {
    let engine: ReplicatedEngine
    let consensus: any Consensus
    let settings: APISettings
    let metricsText: @Sendable () -> String
    /// The usable plugins, read for each registration; nil: hooks are not checked.
    let pluginNames: (@Sendable () -> Set<String>)?
    /// The dispatches this node's hook dispatcher is running now (empty unless it leads).
    let runningDispatches: @Sendable () -> Set<String>
    /// The time of day, for what is computed against now (a trigger's next fire time).
    let clock: any WallClock
    let logger: Logger
    let forwarder: Forwarder
    /// `orchestrator_http_request_duration_seconds`, for every router this server builds.
    let requestTimers: HTTPRequestTimers
    /// Checks each request's token and role.
    let authenticator: Authenticator
    /// The feed of `GET /v1/events` (started by the first stream).
    let eventHub: EventHub
    /// The dashboard's files (`/ui/`).
    let dashboard: DashboardFiles

    /// - Parameters:
    ///   - engine: the node's engine, for queries.
    ///   - consensus: proposes commands, gives read barriers, node and cluster facts (where
    ///     the leader's API is), membership admin.
    ///   - settings: limits.
    ///   - metricsText: the Prometheus text for `GET /metrics`.
    ///   - pluginNames: when given, `PUT /v1/workflows/{name}` checks that hooks name the plugins it
    ///     returns (asked at each registration, so a plugin added later is seen).
    ///   - runningDispatches: the dispatch ids this node is running (`GET /v1/dispatches`).
    ///   - clock: the node's wall clock (`GET /v1/triggers` computes next fire times from it).
    ///   - logger: for forwarding and unexpected errors.
    public init(engine: ReplicatedEngine, consensus: any Consensus,
                settings: APISettings = APISettings(), metricsText: @escaping @Sendable () -> String = { "" },
                pluginNames: (@Sendable () -> Set<String>)? = nil, runningDispatches: @escaping @Sendable () -> Set<String> = { [] },
                clock: any WallClock, logger: Logger = Logger(label: "orchestrator.api")) {
        self.engine = engine
        self.consensus = consensus
        self.settings = settings
        self.metricsText = metricsText
        self.pluginNames = pluginNames
        self.runningDispatches = runningDispatches
        self.clock = clock
        self.logger = logger
        self.forwarder = Forwarder(settings: settings)
        self.requestTimers = HTTPRequestTimers(node: consensus.health().node)
        self.authenticator = Authenticator(engine: engine, clock: clock, requireTokens: settings.requireTokens)
        self.eventHub = EventHub(engine: engine, consensus: consensus, capacity: settings.eventRingEventsMax)
        self.dashboard = DashboardFiles.shared
    }

    /// Ends the event streams and closes the connections used to forward requests to the
    /// leader. Call once, after the HTTP server stopped.
    public func shutdown() async {
        eventHub.stop()
        await forwarder.shutdown()
    }

    /// The router with every route of the API, for a Hummingbird `Application`.
    public func buildRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        // First: it times each request and sees the status the error middleware settled on.
        router.add(middleware: HTTPMetricsMiddleware(timers: requestTimers))
        router.add(middleware: JSONErrorMiddleware(logger: logger))
        // Each route names the least role that may call it (docs/security.md). Probes and,
        // unless `settings.metricsRequireToken`, metrics are open: they hold no instance data.
        router.get("/livez") { request, _ in await self.livez(request) }
        router.get("/readyz") { request, _ in await self.readyz(request) }
        router.get("/metrics") { request, _ in
            if self.settings.metricsRequireToken { _ = try self.authenticator.authorize(request, .read) }
            return self.metrics()
        }
        router.get("/v1/health", use: guarded(.read) { _, _, _ in await self.health() })
        router.get("/v1/stats", use: guarded(.read) { request, _, _ in try await self.stats(request) })
        router.get("/v1/events", use: guarded(.read) { request, _, _ in try self.events(request) })
        // The dashboard's static files hold no data (it asks the API, with a token): open.
        // The router treats `/ui` and `/ui/` alike: `/ui` is redirected so relative URLs resolve.
        router.get("/ui", use: { request, _ in
            request.uri.path.hasSuffix("/") ? try self.dashboard.response(for: "") : self.dashboard.redirectToDirectory(request)
        })
        router.get("/ui/:file", use: { _, context in try self.dashboard.response(for: context.parameters.get("file") ?? "") })
        router.get("/v1/cluster", use: guarded(.read) { request, _, _ in try await self.cluster(request) })
        router.post("/v1/cluster/members", use: guarded(.admin) { request, _, caller in try await self.addMember(request, caller) })
        router.post("/v1/cluster/members/:member/promote", use: guarded(.admin) { request, context, caller in
            try await self.promoteMember(request, context, caller)
        })
        router.delete("/v1/cluster/members/:member", use: guarded(.admin) { request, context, caller in
            try await self.removeMember(request, context, caller)
        })
        router.post("/v1/cluster/transfer-leader", use: guarded(.admin) { request, _, caller in
            try await self.transferLeader(request, caller)
        })
        router.get("/v1/workflows", use: guarded(.read) { request, _, _ in try await self.listWorkflows(request) })
        router.get("/v1/workflows/:name", use: guarded(.read) { request, context, _ in try await self.showWorkflow(request, context) })
        // Admin: a definition decides which plugins run on the leader.
        router.put("/v1/workflows/:name", use: guarded(.admin) { request, context, caller in
            try await self.applyWorkflow(request, context, caller)
        })
        router.post("/v1/instances", use: guarded(.submit) { request, _, caller in try await self.startInstance(request, caller) })
        router.get("/v1/instances", use: guarded(.read) { request, _, _ in try await self.listInstances(request) })
        router.get("/v1/instances/:id", use: guarded(.read) { request, context, _ in try await self.showInstance(request, context) })
        router.post("/v1/instances/:id/transitions", use: guarded(.submit) { request, context, caller in
            try await self.transition(request, context, caller)
        })
        router.get("/v1/instances/:id/history", use: guarded(.read) { request, context, _ in try await self.history(request, context) })
        router.get("/v1/dispatches", use: guarded(.read) { request, _, _ in try await self.listDispatches(request) })
        router.get("/v1/triggers", use: guarded(.read) { request, _, _ in try await self.listTriggers(request) })
        router.get("/v1/timeouts", use: guarded(.read) { request, _, _ in try await self.listTimeouts(request) })
        router.get("/v1/snapshot", use: guarded(.admin) { request, _, _ in try await self.snapshot(request) })
        router.get("/v1/tokens", use: guarded(.admin) { request, _, _ in try await self.listTokens(request) })
        router.post("/v1/tokens", use: guarded(.admin) { request, _, caller in try await self.createToken(request, caller) })
        router.delete("/v1/tokens/:token", use: guarded(.admin) { request, context, caller in
            try await self.revokeToken(request, context, caller)
        })
        return router
    }

    /// A handler that runs only for a caller whose token allows `role` (401/403 otherwise).
    func guarded(_ role: TokenRole,
                 _ handler: @escaping @Sendable (Request, BasicRequestContext, Caller) async throws -> Response)
        -> @Sendable (Request, BasicRequestContext) async throws -> Response {
        { [authenticator] request, context in
            let caller = try authenticator.authorize(request, role)
            return try await handler(request, context, caller)
        }
    }

    // MARK: Node

    func health() async -> Response {
        JSONResponse.make(Views.health(consensus.health()))
    }


    func metrics() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: metricsText())))
    }

    // MARK: Shared steps

    /// Reads the body, refusing more than `settings.bodyBytesMax` bytes with 413.
    func readBody(_ request: Request) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > settings.bodyBytesMax {
            throw APIError.bodyTooLarge(limitBytes: settings.bodyBytesMax)
        }
        do {
            var buffer = try await request.body.collect(upTo: settings.bodyBytesMax)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limitBytes: settings.bodyBytesMax)
        } catch let error as HTTPParserError {
            // The connection ended inside the body: the client went away, or the listener's
            // body timeout closed it. Nobody is left to answer, and it is no server fault to log
            // (a slow-body flood would log a line per connection).
            throw APIError(status: .badRequest, code: "bad_request", message: "the request body did not arrive whole: \(error)")
        }
    }

    /// The request id: the body's `request_id`, else the `X-Request-Id` header (set by a
    /// forwarding follower or a client), else a fresh one.
    func requestID(body: String?, request: Request) throws(APIError) -> String {
        try requestID(body: body, header: request.headers[Forwarder.requestIDHeader])
    }

    /// ``requestID(body:request:)`` given the header's value.
    func requestID(body: String?, header: String?) throws(APIError) -> String {
        let id = body ?? header ?? ("r-" + UUID().uuidString.lowercased())
        guard EngineLimits.isValidID(id) else {
            throw APIError.invalidField("request_id", Self.idRule(id))
        }
        return id
    }

    /// Whether this node should forward a write to the leader, and where: nil to handle it here.
    /// Forwarded requests are never forwarded again; with no leader known the write is tried
    /// here (the consensus answers `no_leader` when it cannot take it).
    func forwardTarget(_ request: Request) -> String? {
        guard request.headers[Forwarder.forwardedHeader] == nil else { return nil }
        return consensus.leaderAPIAddress
    }

    /// Proposes `command` (the consensus stamps it, on the leader); maps consensus failures
    /// to the answers docs/api.md lists.
    func propose(_ command: Command) async throws(APIError) -> Committed {
        do {
            return try await consensus.propose(command)
        } catch {
            throw proposalFailed(command, error)
        }
    }

    /// The answer for a proposal that failed (an unknown outcome is logged: an operator
    /// may need to know which request id to look for).
    func proposalFailed(_ command: Command, _ error: ConsensusError) -> APIError {
        if case .outcomeUnknown = error {
            logger.warning("proposal outcome unknown", metadata: ["request_id": .string(command.requestID ?? "-"),
                                                                 "error": .string(error.description)])
        }
        return APIError.consensus(error, requestID: command.requestID)
    }

    /// Waits for a linearizable read point unless `?stale=true`.
    func readBarrier(_ request: Request) async throws {
        if try Self.flag("stale", in: request) { return }
        do {
            try await consensus.readBarrier()
        } catch {
            throw APIError.consensus(error, requestID: nil)
        }
    }

    /// A boolean query parameter (`true`/`false`/`1`/`0`, absent = false).
    static func flag(_ name: String, in request: Request) throws -> Bool {
        guard let value = request.uri.queryParameters[Substring(name)] else { return false }
        switch value {
        case "true", "1", "": return true
        case "false", "0": return false
        default: throw APIError.invalidField(name, "must be true or false, not '\(value)'")
        }
    }

    /// A path id checked against `[A-Za-z0-9._:-]{1,128}`.
    static func pathID(_ context: BasicRequestContext, _ name: String = "id") throws(APIError) -> String {
        try checkedID(context.parameters.get(name) ?? "", name)
    }

    /// `id` when it is a valid id, else the 400 naming `name`.
    static func checkedID(_ id: String, _ name: String = "id") throws(APIError) -> String {
        guard EngineLimits.isValidID(id) else { throw APIError.invalidField(name, idRule(id)) }
        return id
    }

    static func idRule(_ id: String) -> String {
        id.isEmpty ? "must not be empty"
            : "'\(id.prefix(40))\(id.count > 40 ? "…" : "")' is not a valid id: use 1 to \(APISettings.idLengthMax) characters of A-Z a-z 0-9 . _ : -"
    }

    /// Parses a JSON object body.
    static func object(_ body: [UInt8]) throws -> [String: JSONValue] {
        do {
            return try JSONBody.parseObject(body)
        } catch {
            throw APIError.badJSON(error.description)
        }
    }
}

/// Field accessors for request bodies that name the field at fault.
extension [String: JSONValue] {
    func string(_ field: String, required: Bool = false) throws -> String? {
        switch self[field] {
        case .string(let value)?: return value
        case nil, .null?:
            if required { throw APIError.invalidField(field, "is required") }
            return nil
        default: throw APIError.invalidField(field, "must be a string")
        }
    }

    func object(_ field: String) throws -> [String: JSONValue]? {
        switch self[field] {
        case .object(let value)?: return value
        case nil, .null?: return nil
        default: throw APIError.invalidField(field, "must be a JSON object")
        }
    }

    func bool(_ field: String) throws -> Bool? {
        switch self[field] {
        case .bool(let value)?: return value
        case nil, .null?: return nil
        default: throw APIError.invalidField(field, "must be true or false")
        }
    }

    func nodeID(_ field: String) throws -> UInt64 {
        switch self[field] {
        case .number(let value)? where value >= 1 && value <= 9_007_199_254_740_991 && value.rounded() == value:
            return UInt64(value)
        case nil, .null?: throw APIError.invalidField(field, "is required")
        default: throw APIError.invalidField(field, "must be a positive integer node id")
        }
    }

    /// Refuses members not in `allowed` (a typo should not be silently ignored).
    func onlyFields(_ allowed: Set<String>) throws {
        for key in keys where !allowed.contains(key) {
            throw APIError.invalidField(key, "unknown field; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
    }
}

/// Turns every error into the API's JSON error shape: `APIError`s as they are, Hummingbird's
/// own (no such route, wrong method) with a code, anything else as a logged 500.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPResponseError {
            let code: String = switch error.status {
            case .notFound: "not_found"
            case .methodNotAllowed: "method_not_allowed"
            case .contentTooLarge: "body_too_large"
            case .badRequest: "bad_request"
            default: "http_\(error.status.code)"
            }
            let message = error.status == .notFound ? "no such route: \(request.method) \(request.uri.path)"
                : "\(error.status.reasonPhrase): \(request.method) \(request.uri.path)"
            throw APIError(status: error.status, code: code, message: message)
        } catch {
            logger.error("unexpected error", metadata: ["path": .string(request.uri.path), "error": .string("\(error)")])
            throw APIError(status: .internalServerError, code: "internal", message: "internal error: \(error)")
        }
    }
}
