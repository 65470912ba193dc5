import ArgumentParser
import Foundation
import Workflow

/// `orchestrator graph FILE|NAME [--format mermaid|dot] [--workflows DIR]`
struct Graph: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a workflow's state diagram as Mermaid or Graphviz DOT.",
        discussion: """
            WORKFLOW is a definition file, or the name of a workflow in the workflows directory. \
            Final states are marked, transitions labelled, and state timeouts and cron \
            triggers shown on the transitions they request. Output is sorted, so it diffs well.

            Exit status: 0 on success, 2 when the workflow is not found or has errors.

            Examples:
              orchestrator graph order
              orchestrator graph workflows/deploy.yaml --format dot | dot -Tsvg > deploy.svg
            """
    )

    /// The diagram languages, as the command line spells them.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case mermaid
        case dot
    }

    @Argument(help: ArgumentHelp("A workflow file, or a workflow name looked up in the workflows directory.", valueName: "workflow"))
    var workflow: String

    @Option(help: "Diagram language: mermaid or dot.")
    var format: Format = .mermaid

    @Option(help: ArgumentHelp("Where to look up a workflow given by name.", valueName: "dir"))
    var workflows: String = "workflows"

    func run() throws {
        let (definition, diagnostics) = loadTarget()
        for diagnostic in diagnostics { printError(diagnostic.description) }
        guard let definition, !diagnostics.contains(where: \.isError) else { throw ExitCode(ExitStatus.usage) }
        print(WorkflowGraph.render(definition, format: format == .dot ? .dot : .mermaid), terminator: "")
    }

    /// Loads the file named, or finds the workflow called `workflow` in `workflows`: the file
    /// `NAME.yaml`/`NAME.yml` when it defines that name, else every file of the directory.
    private func loadTarget() -> (WorkflowDefinition?, [Diagnostic]) {
        let looksLikePath = workflow.contains("/") || workflow.hasSuffix(".yaml") || workflow.hasSuffix(".yml")
        if looksLikePath || FileManager.default.fileExists(atPath: workflow) {
            let set = WorkflowLoader.loadFiles(at: [workflow])
            return (set.workflows.first?.definition, set.diagnostics)
        }
        for suffix in [".yaml", ".yml"] {
            let candidate = (workflows as NSString).appendingPathComponent(workflow + suffix)
            guard FileManager.default.fileExists(atPath: candidate) else { continue }
            let set = WorkflowLoader.loadFiles(at: [candidate])
            if set.errorCount > 0 || set.workflows.first?.definition.name == workflow {
                return (set.workflows.first?.definition, set.diagnostics)
            }
        }
        let all = WorkflowLoader.loadFiles(at: [workflows])
        if let found = all.workflows.first(where: { $0.definition.name == workflow }) {
            return (found.definition, all.diagnostics.filter { $0.file == found.file })
        }
        let names = all.workflows.map(\.definition.name).sorted()
        var message = "no workflow named '\(workflow)' in \(workflows)"
        if let near = Suggestions.closest(to: workflow, among: names) {
            message += " (did you mean '\(near)'?)"
        } else if !names.isEmpty {
            message += "; it defines: \(names.joined(separator: ", "))"
        }
        let problems = all.diagnostics.filter(\.isError).filter { $0.line == 0 }
        return (nil, problems + [Diagnostic(file: workflows, line: 0, column: 0, severity: .error, message: message)])
    }
}
