import ArgumentParser
import Client

/// `orchestrator submit INSTANCE [TRANSITION] [--to STATE] [--expect STATE] [--data JSON] [--request-id ID]`
struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move an instance along a transition.",
        discussion: """
            Name the transition, or the state to move to with --to (or both, which must agree). \
            --expect applies the move only if the instance is in that state (compare-and-set). \
            A request id is generated when none is given, and the request is retried with that \
            same id while the cluster is unavailable: a retried submit is never applied twice.

            Exit status: 0 moved, 1 rejected (not allowed from the current state, expectation \
            failed, unknown instance), 2 bad input, 3 cluster unavailable.

            Examples:
              orchestrator submit demo second
              orchestrator submit o-17 pay --expect created --data '{"paid_by":"card"}'
              orchestrator submit o-17 --to shipped --request-id ship-o-17
            """
    )

    @Argument(help: "The instance's id.")
    var instance: String

    @Argument(help: "The transition's name (optional with --to).")
    var transition: String?

    @Option(help: ArgumentHelp("Move to this state by the transition leading there.", valueName: "state"))
    var to: String?

    @Option(help: ArgumentHelp("Apply only if the instance is in this state.", valueName: "state"))
    var expect: String?

    @Option(help: ArgumentHelp("A JSON object merged into the instance's data on success.", valueName: "json"))
    var data: String?

    @Option(help: ArgumentHelp("Idempotency key (default: a fresh one); reusing it returns the first outcome.",
                               valueName: "id"))
    var requestID: String?

    @OptionGroup var options: ClientOptions

    func validate() throws {
        if transition == nil, to == nil {
            throw ValidationError("name a transition or give --to STATE, e.g. orchestrator submit \(instance) pay")
        }
    }

    func run() async throws {
        let data = try ClientOptions.parseData(data)
        let requestID = self.requestID ?? RequestID.make()
        try await options.withClient(requestID: requestID) { client in
            let reply = try await client.call(.submit(instance: instance, transition: transition, to: to, expect: expect,
                                                      data: data, requestID: requestID))
            options.emit(reply) { "\($0.id): \($0.from) → \($0.to) (index \($0.index))" }
        }
    }
}
