import Dispatch
import HTTPTypes
import Hummingbird
import Metrics
import Synchronization

/// Records how long each request took, as `orchestrator_http_request_duration_seconds`
/// with the labels `node`, `route`, `method` and `status`. Every label is bounded:
/// - `route` is the router's pattern as Hummingbird writes it (`/v1/instances/{id}`, the
///   notation of docs/api.md), never the raw path; a request no route took is `unmatched`;
/// - `method` is one of the standard methods, else `other`;
/// - `status` is the class of the answer: `2xx`, `3xx`, `4xx` or `5xx`.
///
/// The time runs until the handler has its response (a streamed body is not waited for).
/// Add it first, so it sees the status every other middleware settled on.
struct HTTPMetricsMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let timers: HTTPRequestTimers

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let response = try await next(request, context)
            timers.record(route: context.endpointPath, method: request.method, status: response.status, sinceNanos: start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            timers.record(route: context.endpointPath, method: request.method, status: status, sinceNanos: start)
            throw error
        }
    }
}

/// The request-duration timers of one node, made once per label set (a lookup in the
/// metrics backend on every request would take its lock each time).
final class HTTPRequestTimers: Sendable {
    private struct Key: Hashable {
        var route: String
        var method: String
        var status: String
    }

    static let label = "orchestrator_http_request_duration_seconds"
    private static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

    private let node: String
    private let timers = Mutex<[Key: Metrics.Timer]>([:])

    init(node: UInt64) {
        self.node = "\(node)"
    }

    func record(route endpointPath: String?, method: HTTPRequest.Method, status: HTTPResponse.Status, sinceNanos start: UInt64) {
        let elapsed = DispatchTime.now().uptimeNanoseconds &- start
        // Hummingbird names an unmatched request's endpoint "NotFound".
        let route = endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
        let key = Key(route: route, method: Self.methods.contains(method.rawValue) ? method.rawValue : "other",
                      status: "\(min(max(status.code / 100, 1), 5))xx")
        let timer = timers.withLock { timers in
            if let timer = timers[key] { return timer }
            let timer = Metrics.Timer(label: Self.label, dimensions: [("node", node), ("route", key.route), ("method", key.method),
                                                                      ("status", key.status)])
            timers[key] = timer
            return timer
        }
        timer.recordNanoseconds(Int64(truncatingIfNeeded: elapsed))
    }
}
