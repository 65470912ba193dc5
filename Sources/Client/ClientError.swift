/// What can go wrong talking to the orchestrator API.
///
/// ```swift
/// do {
///     _ = try await client.submit(instance: "o-17", transition: "pay")
/// } catch let error as ClientError {
///     switch error {
///     case .rejected(let status, let code, _, let details): …   // 4xx: definitely not applied
///     case .unavailable(let code, let message): …               // 503, refused, timed out
///     case .server(let status, let body): …                     // anything else
///     }
/// }
/// ```
public enum ClientError: Error, Sendable, CustomStringConvertible {
    /// The server refused the request (a 4xx): it was not applied. `code` is the API's stable
    /// error code (`transition_not_allowed`, `unknown_instance`, `bad_request`, …).
    case rejected(status: Int, code: String, message: String, details: [String: JSONValue])
    /// The cluster could not answer: 503/504 (`no_leader`, `outcome_unknown`), connection
    /// refused or reset, or a timeout. Retrying with the same request id is safe.
    case unavailable(code: String, message: String)
    /// An unexpected answer: a 5xx other than 503/504, or a body that is not the API's JSON.
    case server(status: Int, body: String)

    public var description: String {
        switch self {
        case .rejected(let status, let code, let message, _): return "\(code) (\(status)): \(message)"
        case .unavailable(let code, let message): return "unavailable (\(code)): \(message)"
        case .server(let status, let body):
            return "unexpected server answer (HTTP \(status)): \(body.prefix(500))"
        }
    }

    /// True for `.unavailable`: the request may be retried (with the same request id).
    public var isRetryable: Bool {
        if case .unavailable = self { return true }
        return false
    }

    /// The API error code, or a synthetic one (`http_<status>`) for `.server`.
    public var code: String {
        switch self {
        case .rejected(_, let code, _, _), .unavailable(let code, _): return code
        case .server(let status, _): return "http_\(status)"
        }
    }
}
