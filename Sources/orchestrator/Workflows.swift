import ArgumentParser
import Client
import Foundation
import Workflow

/// `orchestrator workflows list|show NAME|apply FILE`
struct Workflows: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, show and register workflow definitions on the cluster.",
        discussion: """
            Examples:
              orchestrator workflows list
              orchestrator workflows show order
              orchestrator workflows apply workflows/order.yaml
            """,
        subcommands: [List.self, Show.self, Apply.self]
    )

    /// `orchestrator workflows list`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List registered workflows with their latest version.",
            discussion: """
                Exit status: 0 ok, 3 cluster unavailable.

                Example:
                  orchestrator workflows list --json
                """
        )

        @OptionGroup var options: ClientOptions

        func run() async throws {
            try await options.withClient { client in
                let reply = try await client.call(.workflows)
                options.emit(reply) { list in
                    guard !list.workflows.isEmpty else { return "no workflows registered" }
                    var rows = [["NAME", "VERSION", "STATES", "TRANSITIONS", "HASH"]]
                    for info in list.workflows {
                        rows.append([info.name, "v\(info.version)", String(info.states.count), String(info.transitions.count),
                                     String(info.hash.prefix(12))])
                    }
                    return table(rows)
                }
            }
        }
    }

    /// `orchestrator workflows show NAME`
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a workflow's latest definition and its versions.",
            discussion: """
                Exit status: 0 ok, 1 unknown workflow, 3 cluster unavailable.

                Example:
                  orchestrator workflows show cookbook
                """
        )

        @Argument(help: "The workflow's name.")
        var name: String

        @OptionGroup var options: ClientOptions

        func run() async throws {
            try await options.withClient { client in
                let reply = try await client.call(.workflow(name))
                options.emit(reply) { info in
                    var lines = ["\(info.name) v\(info.version)\(info.description.isEmpty ? "" : " — \(info.description)")",
                                 "initial: \(info.initial)",
                                 "states: " + info.states.map { $0.final ? "\($0.name) (final)" : $0.name }.joined(separator: ", "),
                                 "transitions:"]
                    for transition in info.transitions {
                        lines.append("  \(transition.name): \(transition.from.joined(separator: ", ")) → \(transition.to)")
                    }
                    lines.append("versions:")
                    for version in info.versions {
                        lines.append("  v\(version.version)  \(version.hash.prefix(12))  index \(version.index)  \(version.registeredAt)")
                    }
                    return lines.joined(separator: "\n")
                }
            }
        }
    }

    /// `orchestrator workflows apply FILE`
    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a definition file as the workflow's next version.",
            discussion: """
                The file is checked locally first (as `orchestrator validate` does) and again by \
                the server. Running instances keep the version they started with; an unchanged \
                definition registers nothing.

                Exit status: 0 registered or unchanged, 2 invalid definition, 3 cluster unavailable.

                Example:
                  orchestrator workflows apply workflows/order.yaml
                """
        )

        @Argument(help: "The workflow definition (YAML).")
        var file: String

        @OptionGroup var options: ClientOptions

        func run() async throws {
            guard let bytes = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read \(file): no such file, or not readable")
            }
            let (definition, diagnostics) = WorkflowLoader.load(bytes: Array(bytes), file: file)
            for diagnostic in diagnostics { printError(diagnostic.description) }
            guard let definition, !diagnostics.contains(where: \.isError) else { throw ExitCode(ExitStatus.usage) }
            try await options.withClient { client in
                let reply = try await client.call(.applyWorkflow(name: definition.name,
                                                                 yaml: String(decoding: bytes, as: UTF8.self)))
                options.emit(reply) { applied in
                    applied.created
                        ? "\(applied.name): registered version \(applied.version) (index \(applied.index))"
                        : "\(applied.name): unchanged, version \(applied.version) is the same definition"
                }
            }
        }
    }
}
