import XCTest
@testable import Workflow

/// Runs the built `orchestrator` binary on files in a temporary directory.
final class CLITests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("orchestrator-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("workflows"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The `orchestrator` executable next to the test bundle (the build products directory).
    static let binary: URL? = {
        let bundle = Bundle(for: CLITests.self).bundleURL
        let candidates = [bundle.deletingLastPathComponent(), bundle.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent(),
                          Bundle.main.bundleURL, repositoryRoot.appendingPathComponent(".build/debug")]
        return candidates.map { $0.appendingPathComponent("orchestrator") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func run(_ arguments: String...) throws -> Run {
        let binary = try XCTUnwrap(Self.binary, "build the orchestrator executable first (swift build)")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let out = directory.appendingPathComponent(".stdout"), err = directory.appendingPathComponent(".stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
        defer { try? outHandle.close(); try? errHandle.close() }
        process.standardOutput = outHandle
        process.standardError = errHandle
        try process.run()
        process.waitUntilExit()
        return Run(status: process.terminationStatus,
                   stdout: try String(contentsOf: out, encoding: .utf8), stderr: try String(contentsOf: err, encoding: .utf8))
    }

    func write(_ path: String, _ text: String) throws {
        let url = directory.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func testCronNextPrintsFireTimesWithOffsets() throws {
        let result = try run("cron", "next", "30 2 * * *", "--tz", "America/New_York", "--from", "2026-03-07T12:00", "--count", "3")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "2026-03-08T03:00:00-04:00\n2026-03-09T02:30:00-04:00\n2026-03-10T02:30:00-04:00\n")
        let json = try run("cron", "next", "@every 90s", "--from", "2026-01-01T00:00:00Z", "--count", "2", "--json")
        XCTAssertEqual(json.status, 0, json.stderr)
        XCTAssertEqual(json.stdout, #"{"expression":"@every 90s","from":"2026-01-01T00:00:00+00:00","next":["2026-01-01T00:01:30+00:00","2026-01-01T00:03:00+00:00"],"timezone":"UTC"}"# + "\n")
    }

    func testCronNextRejectsBadInputWithExitTwo() throws {
        let expression = try run("cron", "next", "61 * * * *")
        XCTAssertEqual(expression.status, 2)
        XCTAssertEqual(expression.stderr, "cron \"61 * * * *\": minute 61 is out of range 0-59 (column 1)\n")
        let zone = try run("cron", "next", "@daily", "--tz", "Mars/Base")
        XCTAssertEqual(zone.status, 2)
        XCTAssertEqual(zone.stderr, "unknown time zone 'Mars/Base' (no such zone in /usr/share/zoneinfo)\n")
        let from = try run("cron", "next", "@daily", "--from", "yesterday")
        XCTAssertEqual(from.status, 2)
        XCTAssertTrue(from.stderr.hasPrefix("--from 'yesterday' is not an ISO 8601 time"), from.stderr)
    }

    func testValidateWithoutPathChecksTheWorkflowsDirectory() throws {
        try write("workflows/w.yaml", minimalWorkflow)
        let result = try run("validate")
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.stdout, "1 file, 0 errors, 0 warnings\n")
    }

    func testValidateReportsErrorsAndExitsTwo() throws {
        try write("workflows/good.yaml", minimalWorkflow.replacingOccurrences(of: "workflow: w", with: "workflow: good"))
        try write("workflows/bad.yaml", minimalWorkflow.replacingOccurrences(of: "to: b", with: "to: bb"))
        let result = try run("validate")
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stdout, """
            workflows/bad.yaml:7:22: error: transition 'go' goes to unknown state 'bb' (did you mean 'b'?)
            2 files, 1 error, 0 warnings

            """)
    }

    func testWarningsDoNotFailValidation() throws {
        try write("w.yml", minimalWorkflow + "  stay: { from: a, to: a }\n")
        try write("x.yaml", minimalWorkflow.replacingOccurrences(of: "workflow: w", with: "workflow: x").replacingOccurrences(of: "  b: { final: true }", with: "  b: {}"))
        let result = try run("validate", "w.yml", "x.yaml")
        XCTAssertEqual(result.status, 0, result.stdout)
        XCTAssertEqual(result.stdout, """
            x.yaml:5:3: warning: state 'b' is not final and no transition leaves it; instances there stay forever (add a transition or 'final: true')
            2 files, 0 errors, 1 warning

            """)
    }

    func testValidateJSONIsSortedAndComplete() throws {
        try write("workflows/bad.yaml", "workflow: w\n")
        let result = try run("validate", "--json")
        XCTAssertEqual(result.status, 2)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["files"] as? Int, 1)
        XCTAssertEqual(object["errors"] as? Int, 2)
        XCTAssertEqual(object["warnings"] as? Int, 0)
        let first = try XCTUnwrap((object["diagnostics"] as? [[String: Any]])?.first)
        XCTAssertEqual(first["file"] as? String, "workflows/bad.yaml")
        XCTAssertEqual(first["line"] as? Int, 1)
        XCTAssertEqual(first["column"] as? Int, 1)
        XCTAssertEqual(first["severity"] as? String, "error")
        XCTAssertEqual(first["message"] as? String, "the workflow definition is missing required key 'initial'")
        XCTAssertTrue(result.stdout.contains("\"column\" : 1,\n      \"file\""), "keys are sorted")
    }

    func testValidateChecksPluginsWhenAsked() throws {
        try write("workflows/w.yaml", minimalWorkflow.replacingOccurrences(of: "  a: {}", with: "  a: { on_enter: [{ plugin: notfy }] }"))
        try write("plugins/notify", "#!/bin/sh\nexit 0\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.appendingPathComponent("plugins/notify").path)
        try write("plugins/task/plugin.yaml", "command: [python3, task.py]\n")
        try write("plugins/notes", "not a plugin")
        XCTAssertEqual(try run("validate").status, 0, "without --plugins, plugin names are not checked")
        let result = try run("validate", "--plugins", "plugins")
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stdout, """
            plugins/notes: warning: is not executable: make it executable (chmod +x plugins/notes), or make it a directory with a plugin.yaml manifest
            workflows/w.yaml:4:29: error: on_enter hook 1 of state 'a' names unknown plugin 'notfy' (did you mean 'notify'?)
            1 file, 1 error, 1 warning

            """)
        XCTAssertEqual(try run("validate", "--plugins", "missing").status, 2)
    }

    func testValidateMissingDirectoryAndUsageErrorsExitTwo() throws {
        try FileManager.default.removeItem(at: directory.appendingPathComponent("workflows"))
        let missing = try run("validate")
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.stdout, "workflows: error: no such file or directory\n0 files, 1 error, 0 warnings\n")
        let usage = try run("validate", "--colour")
        XCTAssertEqual(usage.status, 2)
        XCTAssertTrue(usage.stderr.contains("Unknown option '--colour'"), usage.stderr)
    }

    func testJunkFilesGetOneClearErrorEach() throws {
        var generator = SeededGenerator(seed: 7)
        let junk = Data((0..<4_096).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try junk.write(to: directory.appendingPathComponent("workflows/junk.yaml"))
        try write("workflows/deep.yaml", String(repeating: "[", count: 100_000))
        try Data(repeating: UInt8(ascii: "{"), count: 10 << 20).write(to: directory.appendingPathComponent("workflows/huge.yaml"))
        try write("workflows/list.yaml", "- a\n- b\n")
        let start = Date()
        let result = try run("validate")
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        XCTAssertEqual(result.status, 2)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5, result.stdout)
        XCTAssertEqual(lines[0], "workflows/deep.yaml:1:65: error: nesting is deeper than 64 levels; a workflow needs only a few")
        XCTAssertEqual(lines[1], "workflows/huge.yaml:1:1: error: file is 10485760 bytes, over the limit of 1048576 bytes for a workflow definition")
        XCTAssertTrue(lines[2].hasPrefix("workflows/junk.yaml:1:") && lines[2].hasSuffix("is it a binary file?"), lines[2])
        XCTAssertEqual(lines[3], "workflows/list.yaml:1:1: error: a workflow file must be a mapping with 'workflow', 'initial' and 'states', found a list")
        XCTAssertEqual(lines[4], "4 files, 4 errors, 0 warnings")
    }

    func testDuplicateNamesAcrossFilesFailValidation() throws {
        try write("workflows/a.yaml", minimalWorkflow)
        try write("workflows/b.yaml", minimalWorkflow)
        let result = try run("validate")
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stdout, """
            workflows/b.yaml:1:11: error: workflow name 'w' is already defined in workflows/a.yaml:1:11
            2 files, 1 error, 0 warnings

            """)
    }

    func testGraphByNameAndByFile() throws {
        try write("workflows/ring.yaml", minimalWorkflow.replacingOccurrences(of: "workflow: w", with: "workflow: cookbook"))
        let byName = try run("graph", "cookbook")
        XCTAssertEqual(byName.status, 0, byName.stderr)
        XCTAssertTrue(byName.stdout.contains("stateDiagram-v2\n    [*] --> a\n    a --> b : go\n    b --> [*]\n"), byName.stdout)
        let byFile = try run("graph", "workflows/ring.yaml", "--format", "dot")
        XCTAssertEqual(byFile.status, 0, byFile.stderr)
        XCTAssertTrue(byFile.stdout.contains("\"a\" -> \"b\" [label=\"go\"];"), byFile.stdout)
        try FileManager.default.moveItem(at: directory.appendingPathComponent("workflows"), to: directory.appendingPathComponent("defs"))
        XCTAssertEqual(try run("graph", "cookbook", "--workflows", "defs").stdout, byName.stdout)
    }

    func testGraphOfUnknownOrInvalidWorkflowExitsTwo() throws {
        try write("workflows/ring.yaml", minimalWorkflow.replacingOccurrences(of: "workflow: w", with: "workflow: cookbook"))
        let unknown = try run("graph", "cookbok")
        XCTAssertEqual(unknown.status, 2)
        XCTAssertEqual(unknown.stderr, "workflows: error: no workflow named 'cookbok' in workflows (did you mean 'cookbook'?)\n")
        try write("bad.yaml", "workflow: x\n")
        let invalid = try run("graph", "bad.yaml")
        XCTAssertEqual(invalid.status, 2)
        XCTAssertTrue(invalid.stderr.hasPrefix("bad.yaml:1:1: error: the workflow definition is missing required key 'initial'"), invalid.stderr)
        XCTAssertEqual(try run("graph", "bad.yaml", "--format", "png").status, 2)
    }

    func testEveryVerbHasHelpWithAnExample() throws {
        for verb in ["validate", "graph"] {
            let help = try run(verb, "--help")
            XCTAssertEqual(help.status, 0)
            XCTAssertTrue(help.stdout.contains("Examples:"), help.stdout)
            XCTAssertTrue(help.stdout.contains("orchestrator \(verb)"), help.stdout)
        }
        XCTAssertTrue(try run("--help").stdout.contains("validate"))
    }

    func testBenchRateIsValidatedBeforeAnythingIsDriven() throws {
        for bad in ["0", "-5", "2000000", "nan"] {
            let refused = try run("bench", "--rate=\(bad)", "--server", "http://127.0.0.1:1")
            XCTAssertEqual(refused.status, 2, bad)
            XCTAssertTrue(refused.stderr.contains("--rate must be more than 0 and at most 1000000 transitions per second"),
                          refused.stderr)
        }
        let junk = try run("bench", "--rate", "fast")
        XCTAssertEqual(junk.status, 2)
        XCTAssertTrue(junk.stderr.contains("--rate"), junk.stderr)
        let help = try run("bench", "--help")
        XCTAssertTrue(help.stdout.contains("--rate <per-second>"), help.stdout)
        XCTAssertTrue(help.stdout.contains("orchestrator bench --clients 64 --rate 5000"), help.stdout)
    }
}
