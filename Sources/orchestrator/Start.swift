import ArgumentParser
import Client

/// `orchestrator start WORKFLOW [--id ID] [--data JSON] [--request-id ID]`
struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start an instance of a registered workflow.",
        discussion: """
            The instance starts in the workflow's initial state, pinned to its latest version. \
            Without --id the server picks an id. The request is retried with the same request \
            id while the cluster is unavailable, so it is never applied twice.

            Exit status: 0 started, 1 rejected (unknown workflow, id taken), 2 bad input, \
            3 cluster unavailable.

            Examples:
              orchestrator start cookbook --id demo
              orchestrator start order --data '{"customer":"c-9","priority":"high"}'
            """
    )

    @Argument(help: "The workflow's name.")
    var workflow: String

    @Option(help: ArgumentHelp("The new instance's id: [A-Za-z0-9._:-], up to 128 characters.", valueName: "id"))
    var id: String?

    @Option(help: ArgumentHelp("Initial data, a JSON object merged over the workflow's defaults.", valueName: "json"))
    var data: String?

    @Option(help: ArgumentHelp("Idempotency key (default: a fresh one); reusing it returns the first outcome.",
                               valueName: "id"))
    var requestID: String?

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let data = try ClientOptions.parseData(data)
        let requestID = self.requestID ?? RequestID.make()
        try await options.withClient(requestID: requestID) { client in
            let reply = try await client.call(.start(workflow: workflow, id: id, data: data, requestID: requestID))
            options.emit(reply) { "\($0.id): started \($0.workflow) v\($0.version) in \($0.state) (index \($0.index))" }
        }
    }
}
