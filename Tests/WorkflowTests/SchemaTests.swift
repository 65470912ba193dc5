import XCTest
@testable import Workflow

/// Keys, types and names: each rule with a valid and an invalid case.
final class SchemaTests: XCTestCase {
    func testMissingRequiredKeysAreReportedTogether() {
        XCTAssertEqual(diagnostics("description: nothing else\n"), [
            "w.yaml:1:1: error: the workflow definition is missing required key 'workflow'",
            "w.yaml:1:1: error: the workflow definition is missing required key 'initial'",
            "w.yaml:1:1: error: the workflow definition is missing required key 'states'",
        ])
    }

    func testUnknownTopLevelKeySuggestsTheClosest() {
        let yaml = minimalWorkflow + "trigers: []\n"
        XCTAssertEqual(diagnostics(yaml), ["w.yaml:8:1: error: unknown key 'trigers' in the workflow definition (did you mean 'triggers'?)"])
    }

    func testUnknownKeyWithoutCloseMatchListsTheKeys() {
        let yaml = minimalWorkflow.replacingOccurrences(of: "{ from: a, to: b }", with: "{ from: a, to: b, colour: red }")
        XCTAssertEqual(diagnostics(yaml), ["w.yaml:7:25: error: unknown key 'colour' in transition 'go'; expected one of: from, to, hooks"])
    }

    func testUnknownKeysInEveryMappingAreReported() {
        let yaml = """
            workflow: w
            initial: a
            states:
              a: { fianl: false, on_enter: [{ plugin: p, retry: { attempts: 2, backof: 1s } }] }
              b: { final: true }
              c: { timeout: { afer: 1s, transition: go } }
            transitions:
              go: { form: a, to: b }
            triggers:
              - { name: t, cron: "@daily", transition: go, where: { stat: a } }

            """
        XCTAssertEqual(diagnostics(yaml), [
            "w.yaml:4:8: error: unknown key 'fianl' in state 'a' (did you mean 'final'?)",
            "w.yaml:4:68: error: unknown key 'backof' in retry of on_enter hook 1 of state 'a' (did you mean 'backoff'?)",
            "w.yaml:6:19: error: unknown key 'afer' in timeout of state 'c' (did you mean 'after'?)",
            "w.yaml:6:41: error: timeout of state 'c' names transition 'go', which does not leave 'c'",
            "w.yaml:8:9: error: unknown key 'form' in transition 'go' (did you mean 'from'?)",
            "w.yaml:10:57: error: unknown key 'stat' in 'where' of trigger 't' (did you mean 'state'?)",
        ])
    }

    func testWrongTypesSayWhatWasFound() {
        let yaml = """
            workflow: [w]
            description: { a: 1 }
            initial: a
            data: [1, 2]
            states:
              a: { final: "yes" }
              b: { final: yes }
            transitions: [go]

            """
        XCTAssertEqual(diagnostics(yaml), [
            "w.yaml:1:11: error: a workflow name must be a string, found a list",
            "w.yaml:2:14: error: 'description' must be a string, found a mapping",
            "w.yaml:4:7: error: 'data' must be a mapping of names to values, found a list",
            "w.yaml:6:15: error: 'final' of state 'a' must be true or false, found string 'yes'",
            "w.yaml:7:15: error: 'final' of state 'b' must be true or false, found string 'yes'",
            "w.yaml:8:14: error: 'transitions' must be a mapping of transition names to their settings, found a list",
        ])
    }

    func testStatesMustBeANonEmptyMapping() {
        XCTAssertEqual(diagnostics("workflow: w\ninitial: a\nstates: {}\n"), ["w.yaml:3:9: error: 'states' must define at least one state"])
        XCTAssertEqual(diagnostics("workflow: w\ninitial: a\nstates: [a]\n"),
                       ["w.yaml:3:9: error: 'states' must be a mapping of state names to their settings, found a list"])
    }

    func testStateSettingsMustBeAMapping() {
        let yaml = minimalWorkflow.replacingOccurrences(of: "  a: {}", with: "  a: final")
        XCTAssertEqual(diagnostics(yaml), ["w.yaml:4:6: error: state 'a' must be a mapping, found string 'final'"])
        // An empty value is a plain state.
        XCTAssertNotNil(definition(minimalWorkflow.replacingOccurrences(of: "  a: {}", with: "  a:")))
    }

    func testOptionalSectionsMayBeEmpty() throws {
        let definition = try XCTUnwrap(definition("workflow: w\ninitial: done\nstates: { done: { final: true } }\ntransitions:\ntriggers:\ndata:\n"))
        XCTAssertEqual(definition.transitions, [])
        XCTAssertEqual(definition.triggers, [])
        XCTAssertEqual(definition.data, [:])
    }

    func testKeysMustBeNames() {
        let yaml = minimalWorkflow + "[x]: 1\n"
        XCTAssertEqual(diagnostics(yaml), ["w.yaml:8:1: error: keys must be names, found a list in the workflow definition"])
    }

    func testValidNamesAreAccepted() throws {
        let yaml = """
            workflow: order-v2_x
            initial: 0-start
            states:
              0-start: {}
              done_9: { final: true }
            transitions:
              a-b: { from: 0-start, to: done_9, hooks: [{ plugin: my_plugin-2 }] }

            """
        let definition = try XCTUnwrap(definition(yaml, plugins: ["my_plugin-2"]))
        XCTAssertEqual(definition.name, "order-v2_x")
        XCTAssertTrue(Suggestions.isValidName(String(repeating: "a", count: 64)))
        XCTAssertFalse(Suggestions.isValidName(String(repeating: "a", count: 65)))
    }

    func testInvalidNamesAreReportedWithANearValidName() {
        let yaml = """
            workflow: Order Fulfilment
            initial: Start
            states:
              Start: {}
              _done: { final: true }
            transitions:
              go!: { from: Start, to: _done, hooks: [{ plugin: My.Plugin }] }
            triggers:
              - { name: Nightly, cron: "@daily", transition: go! }

            """
        let rule = "use lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 64 characters"
        XCTAssertEqual(diagnostics(yaml), [
            "w.yaml:1:11: error: invalid workflow name 'Order Fulfilment': \(rule) (did you mean 'order-fulfilment'?)",
            "w.yaml:4:3: error: invalid state name 'Start': \(rule) (did you mean 'start'?)",
            "w.yaml:5:3: error: invalid state name '_done': \(rule) (did you mean 'done'?)",
            "w.yaml:7:3: error: invalid transition name 'go!': \(rule) (did you mean 'go'?)",
            "w.yaml:7:52: error: invalid plugin name 'My.Plugin': \(rule) (did you mean 'my-plugin'?)",
            "w.yaml:9:13: error: invalid trigger name 'Nightly': \(rule) (did you mean 'nightly'?)",
        ])
    }

    func testOverlongNameIsInvalid() {
        let long = String(repeating: "s", count: 65)
        let yaml = minimalWorkflow.replacingOccurrences(of: "workflow: w", with: "workflow: \(long)")
        XCTAssertEqual(diagnostics(yaml).count, 1)
        XCTAssertTrue(diagnostics(yaml)[0].hasPrefix("w.yaml:1:11: error: invalid workflow name 'sssss"))
    }

    func testDataKeepsJSONValues() throws {
        let yaml = minimalWorkflow + """
            data:
              text: hello
              quoted: "42"
              int: 42
              float: 2.5
              yes: yes
              flag: false
              nothing: null
              list: [1, two]
              nested: { a: { b: [] } }

            """
        XCTAssertEqual(try XCTUnwrap(definition(yaml)).data, [
            "text": .string("hello"), "quoted": .string("42"), "int": .number(42), "float": .number(2.5),
            "yes": .string("yes"), "flag": .bool(false), "nothing": .null,
            "list": .array([.number(1), .string("two")]), "nested": .object(["a": .object(["b": .array([])])]),
        ])
    }

    func testDataRejectsWhatJSONCannotHold() {
        let yaml = minimalWorkflow + "data: { a: .inf, b: [.nan] }\n"
        XCTAssertEqual(diagnostics(yaml), [
            "w.yaml:8:12: error: infinity is not a JSON number; quote it if you mean the text",
            "w.yaml:8:22: error: .nan is not a JSON number; quote it if you mean the text",
        ])
    }

    func testSuggestionsPickTheClosestCandidate() {
        XCTAssertEqual(Suggestions.closest(to: "shiped", among: ["created", "shipped", "paid"]), "shipped")
        XCTAssertEqual(Suggestions.closest(to: "Paid", among: ["paid"]), "paid")
        XCTAssertNil(Suggestions.closest(to: "xyz", among: ["created", "shipped"]))
        XCTAssertEqual(Suggestions.closest(to: "ab", among: ["ac", "ad"]), "ac")  // ties break by name
        XCTAssertEqual(Suggestions.editDistance("kitten", "sitting", limit: 5), 3)
    }
}
