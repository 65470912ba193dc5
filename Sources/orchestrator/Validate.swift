import ArgumentParser
import Foundation
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
            let found = PluginNames.discover(in: plugins)
            pluginNames = found.names
            pluginDiagnostics = found.diagnostics
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

/// Plugin discovery as far as validation needs it: the names. Manifests are read and
/// checked by the Plugins layer.
enum PluginNames {
    static func discover(in directory: String) -> (names: Set<String>, diagnostics: [Diagnostic]) {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            return ([], [Diagnostic(file: directory, line: 0, column: 0, severity: .error, message: "plugins directory not found")])
        }
        guard let entries = try? manager.contentsOfDirectory(atPath: directory) else {
            return ([], [Diagnostic(file: directory, line: 0, column: 0, severity: .error, message: "cannot list plugins directory")])
        }
        var names: Set<String> = []
        var diagnostics: [Diagnostic] = []
        for entry in entries.sorted() where !entry.hasPrefix(".") {
            let path = (directory as NSString).appendingPathComponent(entry)
            var entryIsDirectory: ObjCBool = false
            _ = manager.fileExists(atPath: path, isDirectory: &entryIsDirectory)
            if entryIsDirectory.boolValue {
                if manager.fileExists(atPath: (path as NSString).appendingPathComponent("plugin.yaml")) {
                    names.insert(entry)
                } else {
                    diagnostics.append(Diagnostic(file: path, line: 0, column: 0, severity: .warning,
                                                  message: "not a plugin: a plugin directory needs a plugin.yaml manifest"))
                }
            } else if manager.isExecutableFile(atPath: path) {
                names.insert(entry)
            } else {
                diagnostics.append(Diagnostic(file: path, line: 0, column: 0, severity: .warning,
                                              message: "not a plugin: the file is not executable (chmod +x)"))
            }
        }
        return (names, diagnostics)
    }
}
