import Foundation
import XCTest
@testable import Plugins
import Workflow

/// The one discovery rule, on real directories.
final class DiscoveryTests: PluginTestCase {
    func problem(_ catalog: PluginCatalog, _ name: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        let problems = catalog.problems(named: name)
        XCTAssertFalse(problems.isEmpty, "expected a problem for \(name); problems: \(catalog.problems)", file: file, line: line)
        XCTAssertFalse(catalog.names.contains(name), "\(name) must not be usable", file: file, line: line)
        return problems.map(\.description).joined(separator: "\n")
    }

    func testExecutableFileIsAPluginRunInThePluginsDirectory() throws {
        try script("plugins/notify", "exit 0")
        let catalog = PluginCatalog.discover(in: pluginsDirectory)
        let plugin = try XCTUnwrap(catalog.plugin(named: "notify"))
        XCTAssertEqual(plugin.kind, .executable)
        XCTAssertEqual(plugin.command, [pluginsDirectory + "/notify"])
        XCTAssertEqual(plugin.directory, pluginsDirectory)
        XCTAssertEqual(plugin.concurrency, Plugin.concurrencyDefault)
        XCTAssertNil(plugin.timeout)
        XCTAssertEqual(plugin.sourcePath, pluginsDirectory + "/notify")
        XCTAssertEqual(catalog.names, ["notify"])
        XCTAssertTrue(catalog.problems.isEmpty)
        XCTAssertTrue(catalog.directoryFound)
    }

    func testManifestPluginResolvesItsProgramInItsDirectoryOrLeavesItToPath() throws {
        try script("plugins/label/bin/run.sh", "exit 0")
        try write("plugins/label/plugin.yaml", """
            # a comment
            command: [bin/run.sh, --carrier, "dhl express"]
            timeout: 1m30s
            env: [ALLOWED_VARIABLE, HTTPS_PROXY]
            concurrency: 2
            description: Prints shipping labels
            """)
        try write("plugins/task/plugin.yaml", "command: [python3, task.py]\n")
        try write("plugins/task/task.py", "print('hi')\n")
        let catalog = PluginCatalog.discover(in: pluginsDirectory)
        XCTAssertTrue(catalog.problems.isEmpty, "\(catalog.problems)")
        let label = try XCTUnwrap(catalog.plugin(named: "label"))
        XCTAssertEqual(label.kind, .manifest)
        XCTAssertEqual(label.command, [pluginsDirectory + "/label/bin/run.sh", "--carrier", "dhl express"])
        XCTAssertEqual(label.directory, pluginsDirectory + "/label")
        XCTAssertEqual(label.timeout, WorkflowDuration(milliseconds: 90_000))
        XCTAssertEqual(label.environmentAllowList, ["ALLOWED_VARIABLE", "HTTPS_PROXY"])
        XCTAssertEqual(label.concurrency, 2)
        XCTAssertEqual(label.description, "Prints shipping labels")
        XCTAssertEqual(label.sourcePath, pluginsDirectory + "/label/plugin.yaml")
        // A bare name that is not a file in the plugin's directory is looked up in PATH when it runs.
        XCTAssertEqual(try XCTUnwrap(catalog.plugin(named: "task")).command, ["python3", "task.py"])
        XCTAssertEqual(catalog.names, ["label", "task"])
    }

    func testABareNameThatIsAFileInThePluginsDirectoryIsThatFile() throws {
        try script("plugins/local/run", "exit 0")
        try write("plugins/local/plugin.yaml", "command: [run]\n")
        let plugin = try XCTUnwrap(PluginCatalog.discover(in: pluginsDirectory).plugin(named: "local"))
        XCTAssertEqual(plugin.command, [pluginsDirectory + "/local/run"])
    }

    func testAFileThatIsNotExecutableIsAProblem() throws {
        try write("plugins/readme", "not a program", mode: 0o644)
        let catalog = PluginCatalog.discover(in: pluginsDirectory)
        XCTAssertTrue(problem(catalog, "readme").contains("is not executable"))
        // It does not look like a plugin: a warning (a manifest error would be an error).
        XCTAssertEqual(catalog.problems(named: "readme").map(\.diagnostic.severity), [.warning])
        XCTAssertTrue(catalog.plugins.isEmpty)
    }

    func testADirectoryWithoutManifestIsAProblem() throws {
        try FileManager.default.createDirectory(atPath: pluginsDirectory + "/empty", withIntermediateDirectories: true)
        XCTAssertTrue(problem(PluginCatalog.discover(in: pluginsDirectory), "empty").contains("without a plugin.yaml"))
    }

    func testAManifestProgramThatIsNotExecutableIsAProblemAtItsPosition() throws {
        try write("plugins/lazy/run.py", "print(1)\n", mode: 0o644)
        try write("plugins/lazy/plugin.yaml", "description: x\ncommand: [run.py]\n")
        let text = problem(PluginCatalog.discover(in: pluginsDirectory), "lazy")
        XCTAssertTrue(text.contains("plugins/lazy/plugin.yaml:2:11: error: command[0] 'run.py' is not executable"), text)
    }

    func testNamesHooksCannotUseAreProblemsAndLookupsRefuseTraversal() throws {
        try script("plugins/Notify.sh", "exit 0")
        try script("plugins/ok", "exit 0")
        let catalog = PluginCatalog.discover(in: pluginsDirectory)
        XCTAssertTrue(problem(catalog, "Notify.sh").contains("not a valid plugin name"))
        XCTAssertNil(catalog.plugin(named: "../ok"))
        XCTAssertNil(catalog.plugin(named: "ok/"))
        XCTAssertNil(catalog.plugin(named: ".."))
        XCTAssertNil(catalog.plugin(named: "/bin/sh"))
        XCTAssertNotNil(catalog.plugin(named: "ok"))
    }

    func testHiddenEntriesAreIgnored() throws {
        try write("plugins/.gitkeep", "")
        try write("plugins/.secret/plugin.yaml", "command: [x]\n")
        let catalog = PluginCatalog.discover(in: pluginsDirectory)
        XCTAssertTrue(catalog.plugins.isEmpty)
        XCTAssertTrue(catalog.problems.isEmpty, "\(catalog.problems)")
    }

    func testSymlinksLeadingOutsideThePluginsDirectoryAreRefused() throws {
        try script("outside/tool", "exit 0")
        try write("outside/dir/plugin.yaml", "command: [./run]\n")
        try script("outside/dir/run", "exit 0")
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: pluginsDirectory + "/shell", withDestinationPath: "/bin/sh")
        try fm.createSymbolicLink(atPath: pluginsDirectory + "/tool", withDestinationPath: "../outside/tool")
        try fm.createSymbolicLink(atPath: pluginsDirectory + "/dir", withDestinationPath: root + "/outside/dir")
        try fm.createSymbolicLink(atPath: pluginsDirectory + "/dangling", withDestinationPath: "nowhere")
        try fm.createSymbolicLink(atPath: pluginsDirectory + "/loop", withDestinationPath: ".")
        let catalog = PluginCatalog.discover(in: pluginsDirectory)
        XCTAssertTrue(problem(catalog, "loop").contains("is a link to the plugins directory itself"))
        XCTAssertEqual(catalog.problems(named: "shell").map(\.diagnostic.severity), [.error])
        XCTAssertTrue(problem(catalog, "shell").contains("outside the plugins directory"))
        XCTAssertTrue(problem(catalog, "tool").contains("outside the plugins directory"))
        XCTAssertTrue(problem(catalog, "dir").contains("outside the plugins directory"))
        XCTAssertTrue(problem(catalog, "dangling").contains("does not exist"))
        XCTAssertTrue(catalog.plugins.isEmpty)
    }

    func testSymlinksInsideThePluginsDirectoryAreFollowed() throws {
        try script("plugins/lib/real", "exit 0")
        try write("plugins/lib/plugin.yaml", "command: [./real]\n")
        try FileManager.default.createSymbolicLink(atPath: pluginsDirectory + "/alias", withDestinationPath: "lib/real")
        let catalog = PluginCatalog.discover(in: pluginsDirectory)
        XCTAssertEqual(try XCTUnwrap(catalog.plugin(named: "alias")).command, [pluginsDirectory + "/lib/real"])
        XCTAssertNotNil(catalog.plugin(named: "lib"))
    }

    func testManifestCommandsMayNotLeaveThePluginsDirectory() throws {
        try script("outside/evil", "exit 0")
        try write("plugins/absolute/plugin.yaml", "command: [/usr/bin/python3, x.py]\n")
        try write("plugins/dots/plugin.yaml", "command:\n  - ../../outside/evil\n")
        try write("plugins/linked/plugin.yaml", "command: [./run]\n")
        try FileManager.default.createSymbolicLink(atPath: pluginsDirectory + "/linked/run", withDestinationPath: root + "/outside/evil")
        try write("plugins/missing/plugin.yaml", "command: [./not-there]\n")
        let catalog = PluginCatalog.discover(in: pluginsDirectory)
        let absolute = problem(catalog, "absolute")
        XCTAssertTrue(absolute.contains("absolute/plugin.yaml:1:11: error: command[0] '/usr/bin/python3' is an absolute path"), absolute)
        let dots = problem(catalog, "dots")
        XCTAssertTrue(dots.contains("dots/plugin.yaml:2:5: error: command[0] '../../outside/evil' contains '..'"), dots)
        XCTAssertTrue(problem(catalog, "linked").contains("outside the plugins directory"))
        XCTAssertTrue(problem(catalog, "missing").contains("does not exist in the plugin's directory"))
        XCTAssertTrue(catalog.plugins.isEmpty)
    }

    func testUnknownManifestKeyIsAnErrorWithLineAndColumn() throws {
        try script("plugins/task/run", "exit 0")
        try write("plugins/task/plugin.yaml", "command: [./run]\ntimeout: 5s\n  # indented comment\ntimout: 10s\n")
        let text = problem(PluginCatalog.discover(in: pluginsDirectory), "task")
        XCTAssertTrue(text.contains("plugins/task/plugin.yaml:4:1: error: unknown key 'timout' in a plugin manifest (did you mean 'timeout'?)"),
                      text)
    }

    func testManifestValuesAreChecked() throws {
        try write("plugins/bad/plugin.yaml", """
            command: python3 task.py
            timeout: 5 minutes
            env: [ORCH_INSTANCE, "not a name"]
            concurrency: 0
            description: [a, b]
            """)
        let text = problem(PluginCatalog.discover(in: pluginsDirectory), "bad")
        XCTAssertTrue(text.contains("bad/plugin.yaml:1:10: error: command must be a list of strings"), text)
        XCTAssertTrue(text.contains("a string would need a shell to split it"), text)
        XCTAssertTrue(text.contains("bad/plugin.yaml:2:10: error: timeout must be a duration"), text)
        XCTAssertTrue(text.contains("bad/plugin.yaml:3:7: error: env cannot pass 'ORCH_INSTANCE'"), text)
        XCTAssertTrue(text.contains("bad/plugin.yaml:3:22: error: env entries are variable names"), text)
        XCTAssertTrue(text.contains("bad/plugin.yaml:4:14: error: concurrency must be a whole number from 1 to 256"), text)
        XCTAssertTrue(text.contains("bad/plugin.yaml:5:14: error: description must be a string"), text)
    }

    func testManifestSyntaxErrorsAndMissingCommandCarryPositions() throws {
        try write("plugins/broken/plugin.yaml", "command: [./run\ntimeout: 5s\n")
        try write("plugins/nocommand/plugin.yaml", "timeout: 5s\n")
        try write("plugins/twice/plugin.yaml", "command: [a]\ncommand: [b]\n")
        try write("plugins/blank/plugin.yaml", "# nothing\n")
        try write("plugins/list/plugin.yaml", "- command\n")
        try write("plugins/two/plugin.yaml", "command: [a]\n---\ncommand: [b]\n")
        let catalog = PluginCatalog.discover(in: pluginsDirectory)
        XCTAssertTrue(problem(catalog, "broken").contains("broken/plugin.yaml:2:8: error: YAML syntax error: did not find expected ',' or ']'"), problem(catalog, "broken"))
        XCTAssertTrue(problem(catalog, "nocommand").contains("nocommand/plugin.yaml:1:1: error: the manifest has no command"))
        XCTAssertTrue(problem(catalog, "twice").contains("duplicate key 'command'"), problem(catalog, "twice"))
        XCTAssertTrue(problem(catalog, "blank").contains("the manifest is empty"))
        XCTAssertTrue(problem(catalog, "list").contains("list/plugin.yaml:1:1: error: a plugin manifest is a mapping"))
        XCTAssertTrue(problem(catalog, "two").contains("two/plugin.yaml:2:1: error: YAML syntax error: but found another document"),
                      problem(catalog, "two"))
    }

    func testAMissingDirectoryIsAnEmptyCatalogWithANote() {
        let catalog = PluginCatalog.discover(in: root + "/no-such-dir")
        XCTAssertFalse(catalog.directoryFound)
        XCTAssertTrue(catalog.plugins.isEmpty)
        XCTAssertTrue(catalog.problems.isEmpty)
        XCTAssertEqual(catalog.names, [])
        XCTAssertEqual(catalog.notes.count, 1)
        XCTAssertTrue(catalog.notes[0].contains("does not exist"))
    }

    func testTheRepositorysExamplePluginsAreUsable() throws {
        let directory = repositoryRoot + "/plugins"
        let catalog = PluginCatalog.discover(in: directory)
        XCTAssertTrue(catalog.problems.isEmpty, "\(catalog.problems)")
        XCTAssertEqual(catalog.names, ["flaky", "http-post", "notify", "task"])
        XCTAssertEqual(catalog.plugin(named: "http-post")?.command.first, "python3")
    }
}

/// The checkout this test file is in.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()
