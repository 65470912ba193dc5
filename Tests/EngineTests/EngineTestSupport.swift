import XCTest
@testable import Engine
import Workflow

/// The order workflow of DESIGN.md, with a `from: "*"` transition and two ways to `done`.
let orderYAML = """
    workflow: order
    description: Order fulfilment
    initial: created
    data:
      priority: normal
      items: []
    states:
      created: {}
      paid:
        on_enter: [{ plugin: notify, with: { channel: billing } }]
      shipped:
        timeout: { after: 72h, transition: escalate }
      escalated: {}
      delivered: { final: true }
      cancelled: { final: true }
    transitions:
      pay: { from: created, to: paid }
      ship:
        from: paid
        to: shipped
        hooks:
          - plugin: label
            timeout: 30s
            retry: { attempts: 5, backoff: 2s, max_backoff: 1m }
            on_failure: cancel
      deliver: { from: [shipped, escalated], to: delivered }
      hand-over: { from: shipped, to: delivered }
      escalate: { from: shipped, to: escalated }
      cancel: { from: "*", to: cancelled }
      touch: { from: [created, paid], to: created }
    triggers:
      - name: nightly
        cron: "0 3 * * *"
        timezone: Europe/Berlin
        transition: cancel
        where: { state: created }
      - name: hourly
        cron: "@hourly"
        start: { kind: report }
        concurrency: forbid

    """

/// The classic recipe: first → second → third → first.
let cookbookYAML = """
    workflow: cookbook
    initial: first
    states:
      first: {}
      second: {}
      third: {}
    transitions:
      second: { from: first, to: second }
      third: { from: second, to: third }
      first: { from: third, to: first }

    """

func load(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> WorkflowDefinition {
    let result = WorkflowLoader.load(text: yaml, file: "test.yaml")
    XCTAssertEqual(result.diagnostics.filter(\.isError).map(\.description), [], file: file, line: line)
    guard let definition = result.definition else { fatalError("test workflow does not load") }
    return definition
}

let orderDefinition = load(orderYAML)
let cookbookDefinition = load(cookbookYAML)
/// The order workflow with one more state, so its hash differs: "version 2".
let orderV2Definition = load(orderYAML.replacingOccurrences(of: "  cancelled: { final: true }\n",
                                                            with: "  cancelled: { final: true }\n  archived: { final: true }\n"))

/// An engine with an index and a clock that advance on every command, for readable tests.
struct Harness {
    var state: EngineState
    var index: UInt64 = 0
    var nowMillis: Int64 = 1_700_000_000_000
    var stepMillis: Int64 = 1_000

    init(settings: EngineSettings = EngineSettings(), workflows: [WorkflowDefinition] = [orderDefinition, cookbookDefinition]) {
        state = EngineState(settings: settings)
        for definition in workflows { register(definition) }
    }

    /// Applies `command` through its encoding (the production path), stamped with the clock.
    @discardableResult
    mutating func apply(_ command: Command) -> Outcome {
        index += 1
        nowMillis += stepMillis
        return state.apply(index: index, bytes: command.stamped(atMillis: nowMillis).encoded()).outcome
    }

    @discardableResult
    mutating func register(_ definition: WorkflowDefinition, requestID: String? = nil) -> Outcome {
        apply(.registerWorkflow(RegisterWorkflow(definition: definition, requestID: requestID)))
    }

    @discardableResult
    mutating func start(_ workflow: String, id: String, version: Int? = nil, data: [String: JSONValue]? = nil,
                        requestID: String? = nil) -> Outcome {
        apply(.startInstance(StartInstance(workflow: workflow, version: version, id: id, data: data, requestID: requestID)))
    }

    @discardableResult
    mutating func move(_ instance: String, _ name: String? = nil, to: String? = nil, expect: String? = nil,
                       data: [String: JSONValue]? = nil, requestID: String? = nil) -> Outcome {
        apply(.transition(TransitionRequest(instance: instance, name: name, to: to, expect: expect, dataPatch: data,
                                            requestID: requestID)))
    }
}

/// SplitMix64: a tiny seeded generator, so every random test is reproducible from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// The seed for random tests: `ENGINE_TEST_SEED` when set (to reproduce a failure), else fixed.
func testSeed(_ fallback: UInt64) -> UInt64 {
    if let text = ProcessInfo.processInfo.environment["ENGINE_TEST_SEED"], let seed = UInt64(text) { return seed }
    return fallback
}

extension Outcome {
    var transitioned: Transitioned? {
        if case .transitioned(let value) = self { return value }
        return nil
    }
    var started: InstanceStarted? {
        if case .instanceStarted(let value) = self { return value }
        return nil
    }
    var registered: WorkflowRegistered? {
        if case .workflowRegistered(let value) = self { return value }
        return nil
    }
}
