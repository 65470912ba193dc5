import XCTest
@testable import Workflow

/// Loading files and directories, as `validate` does.
final class FileSetTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("workflow-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func testRepositoryExamplesValidateCleanWithTheirPlugins() {
        let set = WorkflowLoader.loadFiles(at: [repositoryRoot.appendingPathComponent("workflows").path],
                                           pluginNames: ["notify", "task"])
        XCTAssertEqual(set.diagnostics.map(\.description), [])
        XCTAssertEqual(set.workflows.map(\.definition.name), ["approval", "cookbook", "deploy", "order"])
        let cookbook = set.workflows[1].definition
        XCTAssertEqual(cookbook.transitions(from: "first").map(\.to), ["second"])
        XCTAssertEqual(cookbook.transitions(from: "second").map(\.to), ["third"])
        XCTAssertEqual(cookbook.transitions(from: "third").map(\.to), ["first"])
    }

    func testDirectoryContributesYamlFilesSorted() throws {
        try write("b.yml", minimalWorkflow.replacingOccurrences(of: "workflow: w", with: "workflow: b"))
        try write("a.yaml", minimalWorkflow.replacingOccurrences(of: "workflow: w", with: "workflow: a"))
        try write("notes.txt", "not a workflow")
        try write(".hidden.yaml", "junk: [")
        let set = WorkflowLoader.loadFiles(at: [directory.path])
        XCTAssertEqual(set.files.map { URL(fileURLWithPath: $0).lastPathComponent }, ["a.yaml", "b.yml"])
        XCTAssertEqual(set.workflows.map(\.definition.name), ["a", "b"])
        XCTAssertEqual(set.errorCount, 0)
    }

    func testDuplicateWorkflowNamesAcrossFilesAreErrors() throws {
        try write("a.yaml", minimalWorkflow)
        try write("b.yaml", "# same name\n" + minimalWorkflow)
        let set = WorkflowLoader.loadFiles(at: [directory.path])
        let a = directory.appendingPathComponent("a.yaml").path
        let b = directory.appendingPathComponent("b.yaml").path
        XCTAssertEqual(set.diagnostics.map(\.description), ["\(b):2:11: error: workflow name 'w' is already defined in \(a):1:11"])
        XCTAssertEqual(set.workflows.map(\.file), [a])
    }

    func testMissingPathsAndEmptyDirectoriesAreErrors() throws {
        let missing = directory.appendingPathComponent("nope").path
        XCTAssertEqual(WorkflowLoader.loadFiles(at: [missing]).diagnostics.map(\.description), ["\(missing): error: no such file or directory"])
        XCTAssertEqual(WorkflowLoader.loadFiles(at: [directory.path]).diagnostics.map(\.description),
                       ["\(directory.path): error: no workflow definitions (*.yaml, *.yml) in this directory"])
    }

    func testOversizedFileIsNotRead() throws {
        try write("big.yaml", String(repeating: "#", count: 2_000))
        let set = WorkflowLoader.loadFiles(at: [directory.appendingPathComponent("big.yaml").path], limits: WorkflowLimits(documentBytesMax: 1_000))
        XCTAssertEqual(set.diagnostics.map(\.message), ["file is 2000 bytes, over the limit of 1000 bytes for a workflow definition"])
    }
}
