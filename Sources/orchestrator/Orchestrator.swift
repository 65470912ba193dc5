import ArgumentParser
import Workflow

/// The `orchestrator` command line.
@main
struct Orchestrator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orchestrator",
        abstract: "A workflow orchestrator built on its own Raft implementation."
    )
}
