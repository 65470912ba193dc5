/// What can go wrong talking to the orchestrator API. The cases follow the API's status
/// classes, so a caller can tell a refusal from back-pressure from an unknown outcome.
///
/// ```swift
/// do {
///     _ = try await client.submit(instance: "o-17", transition: "pay")
/// } catch let error as ClientError {
///     switch error {
///     case .rejected(let status, let code, _, let details): …   // 4xx: definitely not applied
///     case .busy, .unavailable: …                               // 429, 503: not applied; retry
///     case .outcomeUnknown: …                                   // may have applied: retry with the same request id
///     case .server(let status, let body): …                     // anything else
///     }
/// }
/// ```
public enum ClientError: Error, Sendable, CustomStringConvertible {
    /// The server refused the request (a 4xx other than 429): it was not applied. `code` is
    /// the API's stable error code (`transition_not_allowed`, `unknown_instance`, …).
    case rejected(status: Int, code: String, message: String, details: [String: JSONValue])
    /// The leader is saturated (429 `too_many_requests`): not applied; retry after
    /// `retryAfterSeconds`.
    case busy(code: String, message: String, retryAfterSeconds: Int)
    /// The cluster could not take the request, and did not apply it: 503 (`no_leader`,
    /// `leader_changed`, `shutting_down`, `read_unavailable`) or a connection that was refused.
    case unavailable(code: String, message: String)
    /// A write may or may not have been applied: 504 / 503 `outcome_unknown`, or the
    /// connection failed after the request was sent. Retrying with the same request id is
    /// safe and returns the real outcome.
    case outcomeUnknown(code: String, message: String)
    /// An unexpected answer: a 5xx other than the above, or a body that is not the API's JSON.
    case server(status: Int, body: String)

    public var description: String {
        switch self {
        case .rejected(let status, let code, let message, _): return "\(code) (\(status)): \(message)"
        case .busy(let code, let message, _): return "busy (\(code)): \(message)"
        case .unavailable(let code, let message): return "unavailable (\(code)): \(message)"
        case .outcomeUnknown(let code, let message): return "outcome unknown (\(code)): \(message)"
        case .server(let status, let body):
            return "unexpected server answer (HTTP \(status)): \(body.prefix(500))"
        }
    }

    /// True when the request was certainly not applied (`busy`, `unavailable`): retrying it
    /// is safe even without a request id.
    public var definitelyNotApplied: Bool {
        switch self {
        case .busy, .unavailable: return true
        case .rejected: return true
        case .outcomeUnknown, .server: return false
        }
    }

    /// True for the errors worth retrying: `busy` and `unavailable` always; `outcomeUnknown`
    /// only for a request that carries a request id (the client's retry loop decides that).
    public var isRetryable: Bool {
        switch self {
        case .unavailable(let code, _) where TLSMismatch.codes.contains(code): return false
        case .busy, .unavailable, .outcomeUnknown: return true
        case .rejected, .server: return false
        }
    }

    /// The API error code, or a synthetic one (`http_<status>`) for `.server`.
    public var code: String {
        switch self {
        case .rejected(_, let code, _, _), .busy(let code, _, _), .unavailable(let code, _), .outcomeUnknown(let code, _):
            return code
        case .server(let status, _): return "http_\(status)"
        }
    }
}
