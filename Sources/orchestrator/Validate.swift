import ArgumentParser
import Foundation
import Plugins
import Workflow

/// `orchestrator validate [PATH ...] [--plugins DIR] [--json]`
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check workflow definitions and report every problem at once.",
        discussion: """
            Loads each FILE, and the *.yaml and *.yml files of each DIRECTORY (default: \
            ./workflows), and prints each problem as `file:line:column: error|warning: message`, \
            then a summary line. Workflow names must be unique across everything checked. \
            With --plugins, hooks must name plugins found in that directory (an executable \
            `DIR/NAME`, or `DIR/NAME/plugin.yaml`).

            Exit status: 0 when there is no error (warnings are allowed), 2 when there is any \
            error or the command line is wrong.

            Examples:
              orchestrator validate
              orchestrator validate workflows/order.yaml --plugins plugins
              orchestrator validate --json workflows other/deploy.yml
            """
    )

    @Argument(help: ArgumentHelp("Workflow files or directories to check.", valueName: "path"))
    var paths: [String] = []

    @Option(help: ArgumentHelp("Plugins directory: also check that every hook names a plugin there.", valueName: "dir"))
    var plugins: String?

    @Flag(help: "Print the diagnostics and counts as one JSON object (keys sorted).")
    var json = false

    func run() throws {
        var pluginDiagnostics: [Diagnostic] = []
        var pluginNames: Set<String>?
        if let plugins {
            // The server's discovery rule (PluginCatalog); a missing directory is an error here.
            let catalog = PluginCatalog.discover(in: plugins)
            pluginNames = catalog.names
            pluginDiagnostics = catalog.problems.map(\.diagnostic)
            if !catalog.directoryFound {
                pluginDiagnostics.append(Diagnostic(file: plugins, line: 0, column: 0, severity: .error,
                                                    message: catalog.notes.first ?? "plugins directory not found"))
            }
        }
        var set = WorkflowLoader.loadFiles(at: paths.isEmpty ? ["workflows"] : paths, pluginNames: pluginNames)
        set.diagnostics = pluginDiagnostics + set.diagnostics
        let summary = Summary(files: set.files.count, errors: set.errorCount, warnings: set.warningCount,
                              diagnostics: set.diagnostics)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            for diagnostic in set.diagnostics { print(diagnostic) }
            print(summary.line)
        }
        if summary.errors > 0 { throw ExitCode(ExitStatus.usage) }
    }

    /// The `--json` document and the human summary line.
    struct Summary: Encodable {
        var files: Int
        var errors: Int
        var warnings: Int
        var diagnostics: [Diagnostic]

        var line: String {
            func count(_ value: Int, _ noun: String) -> String { "\(value) \(noun)\(value == 1 ? "" : "s")" }
            return "\(count(files, "file")), \(count(errors, "error")), \(count(warnings, "warning"))"
        }
    }
}
