import Engine
import HTTPTypes
import Hummingbird
import Workflow

/// An error answer of the API: `{"error": {"code", "message", "details"}}` with a stable
/// `code` (docs/api.md lists them all). Thrown by handlers; Hummingbird turns it into the
/// response.
///
/// | status | codes |
/// |---|---|
/// | 400 | `bad_json`, `invalid_argument` (details: `field`), `malformed_command` |
/// | 401 | `unauthenticated` (no token, a malformed, unknown, revoked or expired one; with `WWW-Authenticate: Bearer`) |
/// | 403 | `forbidden` (the token's role does not allow the request; details: `role`, `required`) |
/// | 404 | `unknown_instance`, `unknown_workflow`, `unknown_member`, `unknown_token`, `not_found` (no such route) |
/// | 405 | `method_not_allowed` |
/// | 409 | `transition_not_allowed` (details: `allowed`), `expectation_failed` (details: `actual`), `instance_exists`, `instance_final`, `request_id_conflict`, `membership_conflict` |
/// | 413 | `body_too_large`, `command_too_large` |
/// | 422 | `invalid_definition` (details: `diagnostics`), `unknown_transition`, `unknown_state`, `ambiguous_transition`, `invalid_data` |
/// | 429 | `too_many_requests` (with `Retry-After`; not applied) |
/// | 503 | `no_leader`, `leader_changed`, `shutting_down` (not applied), `read_unavailable` (with `Retry-After`) |
/// | 504 | `outcome_unknown` (retry with the same request id) |
/// | 507 | `limit_exceeded` |
public struct APIError: Error, Sendable, HTTPResponseError, CustomStringConvertible {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// The stable machine-readable code.
    public var code: String
    /// A sentence for people.
    public var message: String
    /// Structured fields (the field at fault, the allowed transitions, the actual state, …).
    public var details: [String: JSONValue]
    /// Seconds for a `Retry-After` header (503/504).
    public var retryAfterSeconds: Int?

    public init(status: HTTPResponse.Status, code: String, message: String, details: [String: JSONValue] = [:],
                retryAfterSeconds: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// The JSON error body.
    var body: JSONValue { Views.error(code: code, message: message, details: details) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.make(status: status, body, headers: headers)
    }

    /// The answer's headers beside the body's: `Retry-After`, `WWW-Authenticate`.
    var headers: HTTPFields {
        var headers = HTTPFields()
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        if status == .unauthorized { headers[.wwwAuthenticate] = #"Bearer realm="orchestrator""# }
        return headers
    }

    // MARK: Common errors

    /// 400 `bad_json`.
    static func badJSON(_ reason: String) -> APIError {
        APIError(status: .badRequest, code: "bad_json", message: reason)
    }

    /// 400 `invalid_argument` naming `field`.
    static func invalidField(_ field: String, _ reason: String) -> APIError {
        APIError(status: .badRequest, code: "invalid_argument", message: "\(field): \(reason)",
                 details: ["field": .string(field), "reason": .string(reason)])
    }

    /// 413 `body_too_large`.
    static func bodyTooLarge(limitBytes: Int) -> APIError {
        APIError(status: .contentTooLarge, code: "body_too_large",
                 message: "the request body is larger than the limit of \(limitBytes) bytes",
                 details: ["limit_bytes": .number(Double(limitBytes))])
    }

    /// 503 `no_leader`: nothing was applied; retry shortly.
    static func noLeader(_ message: String = "the cluster has no leader right now; retry shortly") -> APIError {
        APIError(status: .serviceUnavailable, code: "no_leader", message: message, retryAfterSeconds: 1)
    }

    /// 504 `outcome_unknown`: the write may or may not have been applied.
    static func outcomeUnknown(_ reason: String, requestID: String?) -> APIError {
        var details: [String: JSONValue] = ["reason": .string(reason)]
        if let requestID { details["request_id"] = .string(requestID) }
        return APIError(status: .gatewayTimeout, code: "outcome_unknown",
                        message: "the outcome is unknown (\(reason)); retry with the same request_id, which is safe",
                        details: details, retryAfterSeconds: 1)
    }

    /// The answer for an engine rejection: the status follows its category.
    static func rejected(_ rejection: Rejection) -> APIError {
        let status: HTTPResponse.Status = switch rejection.category {
        case .invalid: .badRequest
        case .unprocessable: .unprocessableContent
        case .notFound: .notFound
        case .conflict: .conflict
        case .limit: HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
        }
        return APIError(status: status, code: rejection.code, message: rejection.message, details: rejection.details)
    }

    /// The answer for a consensus failure; each class keeps its meaning (the table in
    /// `ConsensusError`). Answers for requests that were certainly not applied carry
    /// `details.applied = false`; `outcome_unknown` carries the request id to retry with.
    static func consensus(_ error: ConsensusError, requestID: String?) -> APIError {
        let notApplied: [String: JSONValue] = ["applied": .bool(false)]
        switch error {
        case .busy(_, let retryAfterMillis):
            return APIError(status: .tooManyRequests, code: "too_many_requests", message: error.description,
                            details: notApplied, retryAfterSeconds: max(1, (retryAfterMillis + 999) / 1_000))
        case .notLeader, .noLeader:
            return APIError(status: .serviceUnavailable, code: "no_leader",
                            message: "the cluster has no leader right now; retry shortly", details: notApplied,
                            retryAfterSeconds: 1)
        case .leaderChanged, .deposed:
            return APIError(status: .serviceUnavailable, code: "leader_changed", message: error.description,
                            details: notApplied, retryAfterSeconds: 1)
        case .shuttingDown:
            return APIError(status: .serviceUnavailable, code: "shutting_down", message: error.description,
                            details: notApplied, retryAfterSeconds: 1)
        case .commandTooLarge(let bytes, let max):
            return APIError(status: .contentTooLarge, code: "command_too_large", message: error.description,
                            details: ["bytes": .number(Double(bytes)), "max": .number(Double(max)), "applied": .bool(false)])
        case .readUnavailable:
            return APIError(status: .serviceUnavailable, code: "read_unavailable", message: error.description,
                            retryAfterSeconds: 1)
        case .outcomeUnknown(let reason):
            return outcomeUnknown(reason, requestID: requestID)
        }
    }

    /// The answer for any failure of a write: a `ConsensusError` keeps its meaning; anything
    /// else is reported as `outcome_unknown`, never as "not applied".
    static func write(_ error: any Error, requestID: String?) -> APIError {
        if let error = error as? ConsensusError { return consensus(error, requestID: requestID) }
        return outcomeUnknown(String(describing: error), requestID: requestID)
    }
}

/// Responses with a JSON body.
enum JSONResponse {
    static func make(status: HTTPResponse.Status = .ok, _ body: JSONValue, headers: HTTPFields = HTTPFields()) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes(body))))
    }

    /// The body's bytes: the JSON text and a newline.
    static func bytes(_ body: JSONValue) -> [UInt8] {
        var bytes = JSONWriter.bytes(body)
        bytes.append(0x0A)
        return bytes
    }
}
