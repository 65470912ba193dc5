import ArgumentParser
import Client

/// `orchestrator instances [--workflow W] [--state S] [--finished] [--limit N] [--cursor C]`
struct Instances: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List instances, oldest first, one page at a time.",
        discussion: """
            When there are more, the last line (on standard error) gives the --cursor for the \
            next page. --finished lists only finished instances, with the time each will be \
            purged under its workflow's retention (or the cluster's --retention).

            Exit status: 0 ok, 2 bad filter or limit, 3 cluster unavailable.

            Examples:
              orchestrator instances
              orchestrator instances --workflow order --state paid --limit 20
              orchestrator instances --finished
            """
    )

    @Option(help: "Only instances of this workflow.")
    var workflow: String?

    @Option(help: "Only instances in this state.")
    var state: String?

    @Flag(help: "Only finished instances, with when each will be purged.")
    var finished = false

    @Option(help: "Page size, 1 to 1000 (default 100).")
    var limit: Int?

    @Option(help: "Continue after the page that printed this cursor.")
    var cursor: String?

    @OptionGroup var options: ClientOptions

    func validate() throws {
        if let limit, !(1...1_000).contains(limit) { throw ValidationError("--limit must be between 1 and 1000, not \(limit)") }
    }

    func run() async throws {
        try await options.withClient { client in
            let reply = try await client.call(.instances(workflow: workflow, state: state, finished: finished ? true : nil,
                                                         limit: limit, cursor: cursor))
            options.emit(reply) { page in
                var rows = [["ID", "WORKFLOW", "VERSION", "STATE", "REVISION", "UPDATED"] + (finished ? ["PURGED AT"] : [])]
                for info in page.instances {
                    rows.append([info.id, info.workflow, "v\(info.version)", info.state, String(info.revision), info.updatedAt]
                                + (finished ? [info.purgeAt ?? "never (no retention)"] : []))
                }
                return page.instances.isEmpty ? "no instances" : table(rows)
            }
            if !options.json, let next = reply.value.nextCursor {
                printError("more: orchestrator instances --cursor \(next)")
            }
        }
    }
}
