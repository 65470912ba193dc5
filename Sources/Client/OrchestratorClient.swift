import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// Typed HTTP client of the orchestrator API (docs/api.md), shared by the CLI and `bench`.
///
/// Writes carry a request id (generated when not given) and are retried with that same id on
/// `ClientError.busy`, `.unavailable` and `.outcomeUnknown` within `retry`, so a retried write
/// is applied at most once; writes without one (membership changes) are retried only when
/// the error says they were not applied. Call `shutdown()` when done.
///
/// Given several nodes (`baseURL` may list them, comma-separated, as etcd's `--endpoints`),
/// a request that could not reach one node — the connection was refused, so it was never
/// sent — goes to the next at once, and the client keeps using the node that answered.
///
/// ```swift
/// let client = OrchestratorClient(baseURL: "http://127.0.0.1:8080")
/// defer { Task { try? await client.shutdown() } }
/// let started = try await client.start(workflow: "cookbook", id: "demo")
/// let moved = try await client.submit(instance: "demo", transition: "second")
/// print("\(moved.id): \(moved.from) → \(moved.to) (index \(moved.index))")
/// ```
public final class OrchestratorClient: Sendable {
    /// Settings of one client.
    public struct Configuration: Sendable {
        /// Longest wait for one HTTP exchange. Default 10 s.
        public var requestTimeoutSeconds: Double
        /// Longest wait to connect. Default 2 s (on loopback a refused connection is instant).
        public var connectTimeoutSeconds: Double
        /// Most pooled connections per server; raise it for many concurrent callers. Default 8.
        public var connectionsPerServerMax: Int
        /// Retries of retryable calls.
        public var retry: RetryPolicy
        /// Largest response body read, in bytes. Default 16 MiB.
        public var responseBytesMax: Int
        /// An API token (`orch_<id>_<secret>`) sent as `Authorization: Bearer` with every
        /// request; nil for none (a cluster without tokens). Default nil.
        public var token: String?
        /// TLS for `https://` servers: the CA to trust and a client certificate (the CLI's
        /// `--cacert`, `--cert`, `--key`). nil: the system's roots and no client certificate.
        public var tls: TLSConfiguration? = nil

        /// The defaults listed on each field.
        public init(requestTimeoutSeconds: Double = 10, connectTimeoutSeconds: Double = 2,
                    connectionsPerServerMax: Int = 8, retry: RetryPolicy = RetryPolicy(),
                    responseBytesMax: Int = 16 << 20, token: String? = nil) {
            self.token = token
            self.requestTimeoutSeconds = requestTimeoutSeconds
            self.connectTimeoutSeconds = connectTimeoutSeconds
            self.connectionsPerServerMax = connectionsPerServerMax
            self.retry = retry
            self.responseBytesMax = responseBytesMax
        }
    }

    /// The first server's base URL, e.g. `http://127.0.0.1:8080` (no trailing slash).
    public var baseURL: String { baseURLs[0] }
    /// Every server given, in order.
    public let baseURLs: [String]
    /// The server tried first: the last one that was reachable.
    private let current = Atomic<Int>(0)
    /// The settings it was made with.
    public let configuration: Configuration
    let http: HTTPClient

    /// A client of the node at `baseURL`, or of the nodes it lists comma-separated.
    public init(baseURL: String, configuration: Configuration = Configuration()) {
        let bases = baseURL.split(separator: ",").map { part -> String in
            var base = part.trimmingCharacters(in: .whitespaces)
            while base.hasSuffix("/") { base.removeLast() }
            if !base.contains("://") { base = "http://" + base }
            return base
        }
        self.baseURLs = bases.isEmpty ? ["http://127.0.0.1:8080"] : bases
        self.configuration = configuration
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.timeout = .init(connect: .milliseconds(Int64(configuration.connectTimeoutSeconds * 1_000)),
                                          read: .milliseconds(Int64(configuration.requestTimeoutSeconds * 1_000)))
        httpConfiguration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.connectionsPerServerMax)
        // Fail fast on a refused connection; our own retry loop decides what to do next.
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        httpConfiguration.redirectConfiguration = .disallow
        httpConfiguration.tlsConfiguration = configuration.tls
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
    }

    /// Closes the connections. The client cannot be used afterwards.
    public func shutdown() async throws {
        try await http.shutdown()
    }

    // MARK: Calls

    /// Performs `endpoint`, retrying per `configuration.retry` when it is retryable, and decodes
    /// the answer. `onRetry` sees each error that is retried.
    public func call<Value>(_ endpoint: Endpoint<Value>, retry: RetryPolicy? = nil,
                            onRetry: (@Sendable (ClientError) -> Void)? = nil) async throws -> Reply<Value> {
        let policy = retry ?? configuration.retry
        // Only what is safe: an endpoint that is idempotent (a read, or a write with a request
        // id) retries everything retryable; any other only what was certainly not applied.
        let idempotent = endpoint.retryable
        return try await policy.run(shouldRetry: { $0.isRetryable && (idempotent || $0.definitelyNotApplied) },
                                    onRetry: onRetry) { try await self.once(endpoint) }
    }

    /// One attempt of `endpoint`: at the current server, then (when it cannot be reached) at
    /// each of the others in turn.
    public func once<Value>(_ endpoint: Endpoint<Value>) async throws -> Reply<Value> {
        let first = current.load(ordering: .relaxed)
        var lastError: (any Error)?
        for offset in 0..<baseURLs.count {
            let position = (first + offset) % baseURLs.count
            do {
                let reply = try await once(endpoint, at: baseURLs[position])
                if position != first { current.store(position, ordering: .relaxed) }
                return reply
            } catch let error as ClientError {
                guard case .unavailable(code: "connection_failed", _) = error, baseURLs.count > 1 else { throw error }
                lastError = error
            }
        }
        throw lastError!
    }

    private func once<Value>(_ endpoint: Endpoint<Value>, at baseURL: String) async throws -> Reply<Value> {
        var request = HTTPClientRequest(url: baseURL + endpoint.target)
        request.method = HTTPMethod(rawValue: endpoint.method)
        request.headers.add(name: "Accept", value: "application/json")
        if let requestID = endpoint.requestID { request.headers.add(name: "X-Request-Id", value: requestID) }
        if let token = configuration.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body = endpoint.body {
            request.headers.add(name: "Content-Type", value: endpoint.contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let status: Int
        let bytes: [UInt8]
        var retryAfter: Int?
        do {
            let response = try await http.execute(
                request, timeout: .milliseconds(Int64(configuration.requestTimeoutSeconds * 1_000)))
            status = Int(response.status.code)
            retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0) }
            var buffer = try await response.body.collect(upTo: configuration.responseBytesMax)
            bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch let error as ClientError {
            throw error
        } catch {
            if let mismatch = TLSMismatch(error, baseURL: baseURL) { throw mismatch.clientError }
            // Refused: the server never saw it. Anything later (a timeout, a reset) may have
            // come after the server applied a write.
            if Self.neverSent(error) || endpoint.method == "GET" {
                throw ClientError.unavailable(code: "connection_failed", message: "\(baseURL): \(Self.describe(error))")
            }
            throw ClientError.outcomeUnknown(code: "connection_failed", message: "\(baseURL): \(Self.describe(error))")
        }
        if status == 400, TLSMismatch.isTLSRequiredAnswer(bytes) { throw TLSMismatch.plainHTTPToTLSPort(baseURL).clientError }
        return try Self.decode(status: status, body: bytes, retryAfterSeconds: retryAfter, as: Value.self)
    }

    /// Maps a status and body to a reply or a typed error.
    static func decode<Value: Decodable>(status: Int, body: [UInt8], retryAfterSeconds: Int? = nil,
                                         as type: Value.Type) throws -> Reply<Value> {
        let decoder = JSONDecoder()
        if (200..<300).contains(status) {
            if Value.self == Empty.self, let empty = Empty() as? Value {
                return Reply(status: status, value: empty, body: body)
            }
            do {
                return Reply(status: status, value: try decoder.decode(Value.self, from: Data(body)), body: body)
            } catch {
                throw ClientError.server(status: status, body: String(decoding: body, as: UTF8.self))
            }
        }
        let envelope = try? decoder.decode(ErrorEnvelope.self, from: Data(body))
        let code = envelope?.error.code ?? "http_\(status)"
        let message = envelope?.error.message ?? "the server answered \(status)"
        switch status {
        case 429:
            let retryAfter = retryAfterSeconds ?? 1
            throw ClientError.busy(code: code, message: message, retryAfterSeconds: max(1, min(retryAfter, 60)))
        case 504:
            throw ClientError.outcomeUnknown(code: code, message: message)
        case 503 where code == "outcome_unknown":
            throw ClientError.outcomeUnknown(code: code, message: message)
        case 503:
            throw ClientError.unavailable(code: code, message: message)
        case 400..<500:
            guard let envelope else { throw ClientError.server(status: status, body: String(decoding: body, as: UTF8.self)) }
            throw ClientError.rejected(status: status, code: envelope.error.code, message: envelope.error.message,
                                       details: envelope.error.details ?? [:])
        default:
            throw ClientError.server(status: status, body: String(decoding: body, as: UTF8.self))
        }
    }

    /// True when the request certainly did not reach the server (connection refused or not
    /// established in time).
    static func neverSent(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError, error == .connectTimeout { return true }
        let text = String(describing: error)
        return text.contains("connectionRefused") || text.contains("Connection refused") || text.contains("connectTimeout")
    }

    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectTimeout") || text.contains("deadlineExceeded") || text.contains("readTimeout") {
            return "timed out (\(text))"
        }
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return text
    }

    // MARK: Typed calls

    /// `GET /v1/health` (never retried: it answers on every node, or the node is down).
    public func health() async throws -> NodeHealth { try await call(.health).value }

    /// `GET /v1/cluster`.
    public func cluster() async throws -> ClusterStatus { try await call(.cluster).value }

    /// `GET /v1/workflows`.
    public func workflows() async throws -> [WorkflowInfo] { try await call(.workflows).value.workflows }

    /// `GET /v1/workflows/{name}`.
    public func workflow(_ name: String) async throws -> WorkflowInfo { try await call(.workflow(name)).value }

    /// `PUT /v1/workflows/{name}`: registers `yaml` as the next version (a no-op when unchanged).
    public func applyWorkflow(name: String, yaml: String) async throws -> WorkflowApplied {
        try await call(.applyWorkflow(name: name, yaml: yaml)).value
    }

    /// `POST /v1/instances`: starts an instance (the server picks an id when `id` is nil).
    public func start(workflow: String, id: String? = nil, data: [String: JSONValue]? = nil,
                      requestID: String? = nil) async throws -> InstanceStarted {
        try await call(.start(workflow: workflow, id: id, data: data, requestID: requestID)).value
    }

    /// `POST /v1/instances/{id}/transitions`: moves `instance` along `transition` (or to state `to`).
    public func submit(instance: String, transition: String? = nil, to: String? = nil, expect: String? = nil,
                       data: [String: JSONValue]? = nil, requestID: String? = nil) async throws -> TransitionApplied {
        try await call(.submit(instance: instance, transition: transition, to: to, expect: expect, data: data,
                               requestID: requestID)).value
    }

    /// `GET /v1/instances/{id}`: linearizable unless `stale`.
    public func instance(_ id: String, stale: Bool = false) async throws -> InstanceInfo {
        try await call(.instance(id, stale: stale)).value
    }

    /// `GET /v1/instances`: one page.
    public func instances(workflow: String? = nil, state: String? = nil, limit: Int? = nil,
                          cursor: String? = nil) async throws -> InstanceList {
        try await call(.instances(workflow: workflow, state: state, limit: limit, cursor: cursor)).value
    }

    /// `GET /v1/instances/{id}/history`.
    public func history(_ id: String) async throws -> InstanceHistory { try await call(.history(id)).value }

    /// `POST /v1/cluster/members`.
    public func addMember(id: UInt64, raft: String, api: String, learner: Bool = false) async throws -> ClusterStatus {
        try await call(.addMember(id: id, raft: raft, api: api, learner: learner)).value
    }

    /// `POST /v1/cluster/members/{id}/promote`.
    public func promoteMember(id: UInt64) async throws -> ClusterStatus { try await call(.promoteMember(id: id)).value }

    /// `DELETE /v1/cluster/members/{id}`.
    public func removeMember(id: UInt64) async throws -> ClusterStatus { try await call(.removeMember(id: id)).value }

    /// `POST /v1/cluster/transfer-leader`.
    public func transferLeader(to id: UInt64) async throws -> ClusterStatus { try await call(.transferLeader(to: id)).value }
}
