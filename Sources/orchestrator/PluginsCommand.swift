import ArgumentParser
import Foundation
import Plugins
import Workflow

/// `orchestrator plugins list|run`
struct PluginsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List the plugins of a plugins directory, or run one exactly as the server would.",
        subcommands: [PluginsList.self, PluginsRun.self]
    )
}

/// `orchestrator plugins list [--plugins DIR] [--json]`
struct PluginsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the plugins found in a plugins directory, with their command and any problem.",
        discussion: """
            Uses the rule the server uses: plugins/NAME (an executable file) or \
            plugins/NAME/plugin.yaml (a manifest). Entries that are not usable are listed with \
            what is wrong, as file:line:column for manifest errors.

            Exit status: 0 no entry has an error (warnings, such as a file that is not \
            executable, are printed too), 2 some entry has an error.

            Example:
              orchestrator plugins list --plugins ./plugins
            """
    )

    @Option(help: ArgumentHelp("The plugins directory.", valueName: "dir"))
    var plugins = "plugins"

    @Flag(help: "Print the catalog as JSON.")
    var json = false

    func run() async throws {
        let catalog = PluginCatalog.discover(in: plugins)
        if json {
            let list: [JSONValue] = catalog.plugins.map { plugin in
                .object(["name": .string(plugin.name), "kind": .string(plugin.kind.rawValue),
                         "command": .array(plugin.command.map(JSONValue.string)), "directory": .string(plugin.directory),
                         "concurrency": .number(Double(plugin.concurrency)),
                         "timeout": plugin.timeout.map { .string($0.description) } ?? .null,
                         "env": .array(plugin.environmentAllowList.map(JSONValue.string)),
                         "description": plugin.description.map(JSONValue.string) ?? .null])
            }
            let problems: [JSONValue] = catalog.problems.map { .object(["name": .string($0.name), "problem": .string($0.description)]) }
            print(JSONValue.object(["directory": .string(catalog.directory), "plugins": .array(list),
                                    "problems": .array(problems), "notes": .array(catalog.notes.map(JSONValue.string))]).jsonText)
        } else {
            for note in catalog.notes { print(note) }
            if !catalog.plugins.isEmpty {
                var rows = [["NAME", "KIND", "COMMAND", "CONCURRENCY", "TIMEOUT", "DESCRIPTION"]]
                for plugin in catalog.plugins {
                    rows.append([plugin.name, plugin.kind.rawValue, plugin.command.joined(separator: " "), "\(plugin.concurrency)",
                                 plugin.timeout?.description ?? "-", plugin.description ?? ""])
                }
                print(table(rows))
            }
            for problem in catalog.problems { printError("\(problem)") }
        }
        if catalog.problems.contains(where: { $0.diagnostic.isError }) { throw ExitCode(ExitStatus.usage) }
    }
}

/// `orchestrator plugins run NAME [--plugins DIR] [--with JSON] [--event JSON] [--timeout D]`
struct PluginsRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one plugin locally exactly as the server would, and print how it ended.",
        discussion: """
            Same argv, working directory, minimal environment (PATH, HOME, LANG, the manifest's \
            env allow-list and the ORCH_* variables), event on stdin, timeout, process-group \
            kill and output caps as a hook run on the leader. --event gives fields of the event \
            (workflow, version, instance, transition, from, to, data, dispatch_id, attempt); the \
            rest default to a manual run.

            Exit status: 0 the plugin succeeded, 1 it failed (any other outcome), 2 usage or \
            no such plugin.

            Examples:
              orchestrator plugins run notify --with '{"file":"/tmp/notify.log"}'
              orchestrator plugins run flaky --with '{"failures":2}' --event '{"attempt":3}'
            """
    )

    @Argument(help: "The plugin's name.")
    var name: String

    @Option(help: ArgumentHelp("The plugins directory.", valueName: "dir"))
    var plugins = "plugins"

    @Option(name: .customLong("with"), help: ArgumentHelp("The hook's `with` parameters, a JSON object.", valueName: "json"))
    var withParameters: String?

    @Option(help: ArgumentHelp("Fields of the event, a JSON object.", valueName: "json"))
    var event: String?

    @Option(help: ArgumentHelp("The hook's timeout (e.g. 30s); default the manifest's, else 1m.", valueName: "duration"))
    var timeout: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let catalog = PluginCatalog.discover(in: plugins)
        guard let plugin = catalog.plugin(named: name) else {
            let problems = catalog.problems(named: name)
            if problems.isEmpty {
                printError("error: no plugin named '\(name)' in \(plugins) (found: \(catalog.names.sorted().joined(separator: ", ")))")
            } else {
                for problem in problems { printError("error: \(problem)") }
            }
            throw ExitCode(ExitStatus.usage)
        }
        let with = try ClientOptions.parseData(withParameters, option: "--with") ?? [:]
        let fields = try ClientOptions.parseData(event, option: "--event") ?? [:]
        var hookTimeout: WorkflowDuration?
        if let timeout {
            guard let parsed = WorkflowDuration(parsing: timeout) else {
                printError("error: --timeout must be a duration like 500ms, 30s or 5m, not '\(timeout)'")
                throw ExitCode(ExitStatus.usage)
            }
            hookTimeout = parsed
        }
        func text(_ key: String, _ fallback: String?) -> String? { fields[key]?.stringValue ?? fallback }
        func int(_ key: String, _ fallback: Int) -> Int { fields[key]?.numberValue.map { Int($0) } ?? fallback }
        let runner = PluginRunner()
        let limit = runner.timeout(for: plugin, hookTimeout: hookTimeout)
        let hookEvent = HookEvent(workflow: text("workflow", "manual")!, version: int("version", 1),
                                  instance: text("instance", "manual")!, transition: text("transition", nil),
                                  from: text("from", nil), to: text("to", "manual")!,
                                  data: fields["data"]?.objectValue ?? [:], with: with,
                                  dispatchID: text("dispatch_id", "manual.1")!, attempt: int("attempt", 1),
                                  deadlineMillis: Int64(Date().timeIntervalSince1970 * 1_000) + limit.milliseconds)
        let run = await runner.run(plugin, event: hookEvent, timeout: hookTimeout)
        if json {
            print(JSONValue.object([
                "plugin": .string(run.plugin), "outcome": .string(run.outcome.code), "description": .string(run.outcome.description),
                "exit_code": run.exitCode.map { .number(Double($0)) } ?? .null, "signal": run.signal.map { .number(Double($0)) } ?? .null,
                "duration_ms": .number(Double(run.durationMillis)), "stdout": .string(run.stdout), "stderr": .string(run.stderr),
                "stdout_truncated": .bool(run.stdoutTruncated), "stderr_truncated": .bool(run.stderrTruncated),
                "data_patch": run.dataPatch.map { .object($0) } ?? .null]).jsonText)
        } else {
            print("\(plugin.name): \(run.outcome.description) in \(run.durationMillis) ms")
            if !run.stdout.isEmpty { print("stdout\(run.stdoutTruncated ? " (truncated)" : ""):\n\(run.stdout)") }
            if !run.stderr.isEmpty { print("stderr\(run.stderrTruncated ? " (truncated)" : ""):\n\(run.stderr)") }
            if let patch = run.dataPatch { print("data patch: \(JSONValue.object(patch).jsonText)") }
        }
        if !run.outcome.isSuccess { throw ExitCode(ExitStatus.rejected) }
    }
}
