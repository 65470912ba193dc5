import ArgumentParser
import Client
import Foundation

/// The `orchestrator` command line.
///
/// Exit codes (docs/cli.md): 0 ok, 1 rejected, 2 usage or validation error, 3 cluster
/// unavailable, 4 outcome unknown, 5 not authorized. ArgumentParser's own usage errors (64)
/// are mapped to 2 here.
@main
struct Orchestrator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orchestrator",
        abstract: "A workflow orchestrator built on its own Raft implementation.",
        discussion: """
            Workflows are state machines declared in YAML (see docs/workflows.md). Every \
            transition is proposed through Raft and applied by every node.

            Examples:
              orchestrator serve                          # one node on 127.0.0.1:8080, data in ./data
              orchestrator dev --nodes 3                  # a local three-node cluster
              orchestrator validate                       # every workflow in ./workflows
              orchestrator graph order --format dot | dot -Tsvg > order.svg
            """,
        version: ServerVersion.current,
        subcommands: [Serve.self, Dev.self, Validate.self, Graph.self,
                      Start.self, Submit.self, Status.self, History.self, Instances.self, Workflows.self,
                      ClusterCommand.self, PluginsCommand.self, BenchCommand.self,
                      CronCommand.self, SnapshotCommand.self, TokenCommand.self, CertsCommand.self]
    )

    /// Makes standard output line-buffered. Swift 6 refuses a plain reference to C's global
    /// `stdout` (shared mutable state), so its address is looked up once, here, at start-up
    /// before any other task runs.
    static func lineBufferStandardOutput() {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "stdout") else { return }
        let stream = symbol.assumingMemoryBound(to: UnsafeMutablePointer<FILE>?.self).pointee
        setvbuf(stream, nil, _IOLBF, 0)
    }

    /// Runs the command, exiting with 2 (not ArgumentParser's 64) on a usage error.
    static func main() async {
        // Human output line by line also when redirected (`dev > dev.log` shows each line as
        // it happens, not when the buffer fills or the process ends).
        lineBufferStandardOutput()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }
}

/// Exit statuses shared by every verb.
enum ExitStatus {
    static let ok: Int32 = 0
    static let rejected: Int32 = 1
    /// Usage errors and invalid workflow definitions.
    static let usage: Int32 = 2
    /// The cluster could not take the request (no leader, busy, unreachable); it was not applied.
    static let unavailable: Int32 = 3
    /// A write whose outcome is unknown (it may have been applied): rerun the same command with
    /// the same `--request-id` to learn it.
    static let outcomeUnknown: Int32 = 4
    /// No usable API token (401), or its role does not allow the request (403).
    static let unauthorized: Int32 = 5
}

/// Writes `text` and a newline to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
