import Foundation

/// One API call: method, path, query, JSON body and the type its success answer decodes to.
/// The typed methods of `OrchestratorClient` are built from these; call `client.call(_:)`
/// directly to get the raw response body as well (the CLI's `--json`).
///
/// ```swift
/// let reply = try await client.call(.instance("o-17"))
/// print(reply.value.state, String(decoding: reply.body, as: UTF8.self))
/// ```
public struct Endpoint<Value: Decodable & Sendable>: Sendable {
    /// HTTP method (`GET`, `POST`, `PUT`, `DELETE`).
    public var method: String
    /// Path with percent-encoded segments, e.g. `/v1/instances/o-17`.
    public var path: String
    /// Query parameters, in order; nil values are left out.
    public var query: [(String, String?)]
    /// The request body (JSON or YAML).
    public var body: [UInt8]?
    /// `Content-Type` of `body`.
    public var contentType: String
    /// The request id of a write, sent as `X-Request-Id` too; retries reuse it.
    public var requestID: String?
    /// Safe to retry on `.unavailable`: reads, and writes that carry a request id.
    public var retryable: Bool

    public init(method: String, path: String, query: [(String, String?)] = [], body: [UInt8]? = nil,
                contentType: String = "application/json", requestID: String? = nil, retryable: Bool) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.contentType = contentType
        self.requestID = requestID
        self.retryable = retryable
    }

    /// The path and query string.
    var target: String {
        let pairs = query.compactMap { key, value in value.map { "\(key)=\(Endpoint.escape($0))" } }
        return pairs.isEmpty ? path : path + "?" + pairs.joined(separator: "&")
    }

    /// Percent-encodes one path segment or query value: `o 17/x` → `o%2017%2Fx`.
    public static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// A decoded answer and the bytes it was decoded from.
public struct Reply<Value: Sendable>: Sendable {
    /// HTTP status.
    public var status: Int
    public var value: Value
    /// The response body as received (sorted-key JSON).
    public var body: [UInt8]
}

/// An answer with no interesting body (member admin returns the cluster status instead).
public struct Empty: Sendable, Codable, Hashable {}

extension Endpoint where Value == NodeHealth {
    /// `GET /v1/health`.
    public static var health: Self { Self(method: "GET", path: "/v1/health", retryable: false) }
}

extension Endpoint where Value == ClusterStatus {
    /// `GET /v1/cluster`.
    public static var cluster: Self { Self(method: "GET", path: "/v1/cluster", retryable: true) }

    /// `POST /v1/cluster/members`: add a voter (or a learner).
    public static func addMember(id: UInt64, raft: String, api: String, learner: Bool) -> Self {
        Self(method: "POST", path: "/v1/cluster/members",
             body: JSONWriter.bytes(MemberBody(id: id, raft: raft, api: api, learner: learner).json), retryable: false)
    }

    /// `POST /v1/cluster/members/{id}/promote`: make a learner a voter.
    public static func promoteMember(id: UInt64) -> Self {
        Self(method: "POST", path: "/v1/cluster/members/\(id)/promote", retryable: false)
    }

    /// `DELETE /v1/cluster/members/{id}`.
    public static func removeMember(id: UInt64) -> Self {
        Self(method: "DELETE", path: "/v1/cluster/members/\(id)", retryable: false)
    }

    /// `POST /v1/cluster/transfer-leader`.
    public static func transferLeader(to id: UInt64) -> Self {
        Self(method: "POST", path: "/v1/cluster/transfer-leader", body: JSONWriter.bytes(TransferBody(to: id).json),
             retryable: false)
    }
}

extension Endpoint where Value == WorkflowList {
    /// `GET /v1/workflows`.
    public static var workflows: Self { Self(method: "GET", path: "/v1/workflows", retryable: true) }
}

extension Endpoint where Value == WorkflowInfo {
    /// `GET /v1/workflows/{name}`.
    public static func workflow(_ name: String) -> Self {
        Self(method: "GET", path: "/v1/workflows/\(escape(name))", retryable: true)
    }
}

extension Endpoint where Value == WorkflowApplied {
    /// `PUT /v1/workflows/{name}` with a YAML definition. Registering is idempotent (an
    /// unchanged definition is a no-op), so it is retried.
    public static func applyWorkflow(name: String, yaml: String) -> Self {
        Self(method: "PUT", path: "/v1/workflows/\(escape(name))", body: Array(yaml.utf8),
             contentType: "application/yaml", retryable: true)
    }
}

extension Endpoint where Value == InstanceStarted {
    /// `POST /v1/instances`. `requestID` defaults to a fresh one.
    public static func start(workflow: String, id: String? = nil, data: [String: JSONValue]? = nil,
                             requestID: String? = nil) -> Self {
        let requestID = requestID ?? RequestID.make()
        return Self(method: "POST", path: "/v1/instances",
                    body: JSONWriter.bytes(StartBody(workflow: workflow, id: id, data: data, requestID: requestID).json),
                    requestID: requestID, retryable: true)
    }
}

extension Endpoint where Value == TransitionApplied {
    /// `POST /v1/instances/{id}/transitions`: by transition name, or by target state `to`.
    public static func submit(instance: String, transition: String? = nil, to: String? = nil, expect: String? = nil,
                              data: [String: JSONValue]? = nil, requestID: String? = nil) -> Self {
        let requestID = requestID ?? RequestID.make()
        let body = TransitionBody(transition: transition, to: to, expect: expect, data: data, requestID: requestID)
        return Self(method: "POST", path: "/v1/instances/\(escape(instance))/transitions",
                    body: JSONWriter.bytes(body.json), requestID: requestID, retryable: true)
    }
}

extension Endpoint where Value == InstanceInfo {
    /// `GET /v1/instances/{id}`; `stale` reads the answering node's state without a read barrier.
    public static func instance(_ id: String, stale: Bool = false) -> Self {
        Self(method: "GET", path: "/v1/instances/\(escape(id))", query: [("stale", stale ? "true" : nil)], retryable: true)
    }
}

extension Endpoint where Value == InstanceList {
    /// `GET /v1/instances`; `finished` keeps only finished (true) or running (false) ones.
    public static func instances(workflow: String? = nil, state: String? = nil, finished: Bool? = nil, limit: Int? = nil,
                                 cursor: String? = nil, stale: Bool = false) -> Self {
        Self(method: "GET", path: "/v1/instances",
             query: [("workflow", workflow), ("state", state), ("finished", finished.map { $0 ? "true" : "false" }),
                     ("limit", limit.map(String.init)), ("cursor", cursor),
                     ("stale", stale ? "true" : nil)],
             retryable: true)
    }
}

extension Endpoint where Value == InstanceHistory {
    /// `GET /v1/instances/{id}/history[?after=INDEX&limit=N]`: one page, from the oldest
    /// retained entry unless `after` is given.
    public static func history(_ id: String, after: UInt64? = nil, limit: Int? = nil) -> Self {
        Self(method: "GET", path: "/v1/instances/\(escape(id))/history",
             query: [("after", after.map(String.init)), ("limit", limit.map(String.init))], retryable: true)
    }
}

/// Request ids the client generates: `c-` and a random UUID, within the API's id rule.
public enum RequestID {
    /// A fresh request id.
    public static func make() -> String { "c-" + UUID().uuidString.lowercased() }
}

extension Endpoint where Value == DispatchList {
    /// `GET /v1/dispatches[?state=pending|running|failed]`: hook runs the cluster owes, and
    /// recent ones that failed for good.
    public static func dispatches(state: String? = nil) -> Self {
        Self(method: "GET", path: "/v1/dispatches", query: [("state", state)], retryable: true)
    }
}

extension Endpoint where Value == TriggerList {
    /// `GET /v1/triggers[?workflow=W]`: every cron trigger with its next fire time and last slot.
    public static func triggers(workflow: String? = nil) -> Self {
        Self(method: "GET", path: "/v1/triggers", query: [("workflow", workflow)], retryable: true)
    }
}

extension Endpoint where Value == TimeoutList {
    /// `GET /v1/timeouts[?workflow=W][&limit=N]`: the armed state timeouts due first.
    public static func timeouts(workflow: String? = nil, limit: Int? = nil) -> Self {
        Self(method: "GET", path: "/v1/timeouts", query: [("workflow", workflow), ("limit", limit.map(String.init))], retryable: true)
    }
}

extension Endpoint where Value == TokenList {
    /// `GET /v1/tokens` (admin): every token, no secrets.
    public static var tokens: Self { Self(method: "GET", path: "/v1/tokens", retryable: true) }
}

extension Endpoint where Value == TokenInfo {
    /// `POST /v1/tokens` (admin): a new token; the answer's `token` is its secret, shown once.
    /// Not retried unless certainly not applied: a repeat could not show the first secret.
    public static func createToken(role: String, name: String, ttl: String? = nil) -> Self {
        Self(method: "POST", path: "/v1/tokens", body: JSONWriter.bytes(TokenBody(role: role, name: name, ttl: ttl).json),
             retryable: false)
    }

    /// `DELETE /v1/tokens/{id}` (admin): revoke a token. Repeating it changes nothing.
    public static func revokeToken(_ id: String) -> Self {
        Self(method: "DELETE", path: "/v1/tokens/\(escape(id))", retryable: true)
    }
}
