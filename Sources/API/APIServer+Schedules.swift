import Cron
import Engine
import Hummingbird
import Workflow

/// `/v1/triggers` and `/v1/timeouts`: what the scheduler will do next.
extension APIServer {
    /// `GET /v1/triggers[?workflow=W]` → `{triggers}`: every cron trigger of the workflows'
    /// latest versions, by workflow then name, with its next fire time and last fired slot.
    func listTriggers(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        for key in query.map(\.key) where !["workflow", "stale"].contains(key) {
            throw APIError.invalidField(String(key), "unknown query parameter; use workflow or stale")
        }
        let workflow = query["workflow"].map(String.init)
        try await readBarrier(request)
        if let workflow, engine.workflowVersion(workflow) == nil {
            throw APIError.rejected(.unknownWorkflow(name: workflow, version: nil))
        }
        let triggers = engine.triggerStates().filter { workflow == nil || $0.workflow == workflow }
        let definitions = Dictionary(Set(triggers.map(\.workflow)).map { ($0, engine.workflowVersion($0)?.definition) },
                                     uniquingKeysWith: { first, _ in first })
        return JSONResponse.make(Views.triggers(triggers, definitions: definitions, nowMillis: clock.nowMillis))
    }

    /// `GET /v1/timeouts[?workflow=W][&limit=N]` → `{timeouts, total}`: the armed state
    /// timeouts due first (default 100, at most `pageSizeMax`) and how many there are.
    func listTimeouts(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        for key in query.map(\.key) where !["workflow", "limit", "stale"].contains(key) {
            throw APIError.invalidField(String(key), "unknown query parameter; use workflow, limit or stale")
        }
        let limit = try pageLimit(query, default: settings.pageSizeDefault)
        let workflow = query["workflow"].map(String.init)
        try await readBarrier(request)
        if let workflow, engine.workflowVersion(workflow) == nil {
            throw APIError.rejected(.unknownWorkflow(name: workflow, version: nil))
        }
        let (timers, total) = engine.pendingTimers(workflow: workflow, limit: limit)
        return JSONResponse.make(Views.timeouts(timers, total: total))
    }
}
