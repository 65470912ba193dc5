import ArgumentParser
import Client

/// `orchestrator status [INSTANCE] [--stale]`
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show an instance, or without one the node's health.",
        discussion: """
            An instance is read linearizably (the node confirms it is up to date with the \
            leader first) unless --stale, which answers from the node's own state even \
            without a leader.

            Exit status: 0 ok, 1 unknown instance, 3 cluster unavailable.

            Examples:
              orchestrator status              # node id, role, leader, term, indexes
              orchestrator status demo
              orchestrator status demo --stale --server http://127.0.0.1:8082
            """
    )

    @Argument(help: "The instance's id; omit for the node's health.")
    var instance: String?

    @Flag(help: "Read the node's local state without a read barrier.")
    var stale = false

    @OptionGroup var options: ClientOptions

    func run() async throws {
        try await options.withClient { client in
            guard let instance else {
                let reply = try await client.call(.health)
                options.emit(reply) { health in
                    let leader = health.leader.map { "node \($0)" + (health.leaderAPI.map { " at \($0)" } ?? "") } ?? "none"
                    return "node \(health.node): \(health.role), term \(health.term), leader \(leader), "
                        + "commit \(health.commitIndex), applied \(health.appliedIndex)"
                }
                return
            }
            let reply = try await client.call(.instance(instance, stale: stale))
            options.emit(reply) { info in
                var lines = ["\(info.id): \(info.state)\(info.final ? " (final)" : "") — \(info.workflow) v\(info.version), "
                             + "revision \(info.revision), updated \(info.updatedAt)"]
                if !info.data.isEmpty { lines.append("data: \(JSONValue.object(info.data).jsonText)") }
                return lines.joined(separator: "\n")
            }
        }
    }
}
