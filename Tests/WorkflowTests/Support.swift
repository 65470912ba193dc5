import XCTest
@testable import Workflow

/// The smallest valid workflow; tests splice their case into a copy of it.
let minimalWorkflow = """
    workflow: w
    initial: a
    states:
      a: {}
      b: { final: true }
    transitions:
      go: { from: a, to: b }

    """

/// Loads `yaml` as `w.yaml` and returns the rendered diagnostics.
func diagnostics(_ yaml: String, plugins: Set<String>? = nil, limits: WorkflowLimits = WorkflowLimits()) -> [String] {
    WorkflowLoader.load(text: yaml, file: "w.yaml", pluginNames: plugins, limits: limits).diagnostics.map(\.description)
}

/// Loads `yaml`, failing the test on any diagnostic, and returns the definition.
func definition(_ yaml: String, plugins: Set<String>? = nil, file: StaticString = #filePath, line: UInt = #line) -> WorkflowDefinition? {
    let result = WorkflowLoader.load(text: yaml, file: "w.yaml", pluginNames: plugins)
    XCTAssertEqual(result.diagnostics.map(\.description), [], file: file, line: line)
    XCTAssertNotNil(result.definition, file: file, line: line)
    return result.definition
}

/// The repository root (this file is Tests/WorkflowTests/Support.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
