import Engine
import Hummingbird
import Workflow

/// `/v1/workflows` routes.
extension APIServer {
    /// `GET /v1/workflows` → `{workflows: [...]}` sorted by name.
    func listWorkflows(_ request: Request) async throws -> Response {
        try await readBarrier(request)
        return JSONResponse.make(Views.workflowList(engine.workflowSummaries()))
    }

    /// `GET /v1/workflows/{name}` → the latest definition (in full) and every version.
    func showWorkflow(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try Self.workflowName(context)
        try await readBarrier(request)
        guard let summary = engine.workflow(named: name) else { throw APIError.rejected(.unknownWorkflow(name: name, version: nil)) }
        return JSONResponse.make(Views.workflow(summary, full: true))
    }

    /// `PUT /v1/workflows/{name}` with a YAML body: validates it (422 `invalid_definition`
    /// with the diagnostics), then registers it as the next version. 201 when a version was
    /// created, 200 when the definition equals the latest version (nothing changed).
    func applyWorkflow(_ request: Request, _ context: BasicRequestContext, _ caller: Caller) async throws -> Response {
        let name = try Self.workflowName(context)
        let body = try await readBody(request)
        let (definition, diagnostics) = WorkflowLoader.load(bytes: body, file: "\(name).yaml", pluginNames: pluginNames?())
        guard let definition, !diagnostics.contains(where: \.isError) else {
            let errors = diagnostics.filter(\.isError)
            throw APIError(status: .unprocessableContent, code: "invalid_definition",
                           message: "workflow '\(name)' is invalid: \(errors.first?.description ?? "no definition")"
                               + (errors.count > 1 ? " (and \(errors.count - 1) more)" : ""),
                           details: ["workflow": .string(name), "diagnostics": .array(diagnostics.map(Views.diagnostic))])
        }
        guard definition.name == name else {
            throw APIError(status: .unprocessableContent, code: "invalid_definition",
                           message: "the definition is for workflow '\(definition.name)', but the URL names '\(name)'",
                           details: ["workflow": .string(name), "definition_name": .string(definition.name)])
        }
        if let leader = forwardTarget(request) {
            return try await forwarder.forward(request, body: body, to: leader, requestID: nil, node: consensus.health().node)
        }
        let outcome = try await propose(.registerWorkflow(RegisterWorkflow(definition: definition, actor: caller.tokenID))).outcome
        switch outcome {
        case .workflowRegistered(let registered):
            if registered.created {
                logger.info("workflow registered", metadata: ["workflow": .string(name), "version": "\(registered.version)",
                                                               "hash": .string(registered.hash), "actor": .string(caller.display)])
            }
            return JSONResponse.make(status: registered.created ? .created : .ok, Views.registered(registered))
        case .rejected(let rejection):
            throw APIError.rejected(rejection)
        default:
            throw unexpected(outcome)
        }
    }

    static func workflowName(_ context: BasicRequestContext) throws -> String {
        let name = context.parameters.get("name") ?? ""
        guard !name.isEmpty, name.utf8.count <= APISettings.workflowNameLengthMax else {
            throw APIError.invalidField("name", "must be a workflow name of 1 to \(APISettings.workflowNameLengthMax) characters")
        }
        return name
    }
}
