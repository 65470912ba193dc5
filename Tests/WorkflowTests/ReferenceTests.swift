import XCTest
@testable import Workflow

/// States, transitions, hooks and timeouts: every name reference, each with a valid and an
/// invalid case.
final class ReferenceTests: XCTestCase {
    /// The order workflow of DESIGN.md, with a typo in one target.
    func testUnknownTargetStateMatchesTheDesignMessage() {
        let yaml = """
            workflow: order
            initial: created
            states:
              created: {}
              paid: {}
              shipped: {}
              delivered: { final: true }
              cancelled: { final: true }
            transitions:
              pay: { from: created, to: paid }
              ship:
                from: paid
                to: shipped
                hooks: []
              deliver: { from: shipped, to: delivered }
              cancel: { from: [created, paid], to: cancelled }

            """
        XCTAssertEqual(diagnostics(yaml), [])
        let typo = yaml.replacingOccurrences(of: "    to: shipped", with: "    to: shiped")
        XCTAssertEqual(WorkflowLoader.load(text: typo, file: "workflows/order.yaml").diagnostics.map(\.description), [
            "workflows/order.yaml:13:9: error: transition 'ship' goes to unknown state 'shiped' (did you mean 'shipped'?)",
        ])
    }

    func testInitialMustBeADefinedState() {
        XCTAssertEqual(diagnostics(minimalWorkflow.replacingOccurrences(of: "initial: a", with: "initial: aa")),
                       ["w.yaml:2:10: error: initial state 'aa' is not defined (did you mean 'a'?)"])
        XCTAssertEqual(diagnostics(minimalWorkflow.replacingOccurrences(of: "initial: a", with: "initial: zzz")),
                       ["w.yaml:2:10: error: initial state 'zzz' is not defined"])
    }

    func testMissingInitialIsReported() {
        XCTAssertEqual(diagnostics(minimalWorkflow.replacingOccurrences(of: "initial: a\n", with: "")),
                       ["w.yaml:1:1: error: the workflow definition is missing required key 'initial'"])
    }

    func testTransitionFromUnknownState() {
        let yaml = minimalWorkflow.replacingOccurrences(of: "{ from: a, to: b }", with: "{ from: [a, x], to: b }")
        XCTAssertEqual(diagnostics(yaml), ["w.yaml:7:19: error: transition 'go' comes from unknown state 'x' (did you mean 'a'?)"])
    }

    func testFromAcceptsOneStateAListOrStar() throws {
        let yaml = """
            workflow: w
            initial: a
            states:
              a: {}
              b: {}
              c: { final: true }
            transitions:
              one: { from: a, to: b }
              many: { from: [a, b], to: a }
              abort: { from: "*", to: c }

            """
        let definition = try XCTUnwrap(definition(yaml))
        XCTAssertEqual(definition.transition(named: "one")?.from, .states(["a"]))
        XCTAssertEqual(definition.transition(named: "many")?.from, .states(["a", "b"]))
        XCTAssertEqual(definition.transition(named: "abort")?.from, .anyNonFinal)
        XCTAssertEqual(definition.transitions(from: "a").map(\.name), ["one", "many", "abort"])
        XCTAssertEqual(definition.transitions(from: "c").map(\.name), [])
    }

    func testStarMustStandAlone() {
        let yaml = minimalWorkflow.replacingOccurrences(of: "{ from: a, to: b }", with: "{ from: [a, \"*\"], to: b }")
        XCTAssertEqual(diagnostics(yaml), ["w.yaml:7:19: error: '*' in 'from' of transition 'go' must stand alone: write from: \"*\""])
    }

    func testFromMustNotBeEmptyOrAMapping() {
        XCTAssertEqual(diagnostics(minimalWorkflow.replacingOccurrences(of: "{ from: a, to: b }", with: "{ from: [], to: b }")),
                       ["w.yaml:7:15: error: 'from' of transition 'go' is an empty list; name at least one state, or \"*\" for any non-final state"])
        XCTAssertEqual(diagnostics(minimalWorkflow.replacingOccurrences(of: "{ from: a, to: b }", with: "{ from: {a: 1}, to: b }")),
                       ["w.yaml:7:15: error: 'from' of transition 'go' must be a state, a list of states, or \"*\", found a mapping"])
    }

    func testToMustBeASingleState() {
        let yaml = minimalWorkflow.replacingOccurrences(of: "{ from: a, to: b }", with: "{ from: a, to: [a, b] }")
        XCTAssertEqual(diagnostics(yaml),
                       ["w.yaml:7:22: error: 'to' of transition 'go' must be a single state, found a list; define one transition per target"])
    }

    func testFinalStatesHaveNoOutgoingTransitions() {
        let yaml = minimalWorkflow + "  back: { from: b, to: a }\n"
        XCTAssertEqual(diagnostics(yaml),
                       ["w.yaml:8:17: error: transition 'back' leaves final state 'b'; final states have no outgoing transitions"])
        // "*" skips final states rather than failing.
        XCTAssertNotNil(definition(minimalWorkflow + "  back: { from: \"*\", to: a }\n"))
    }

    func testDuplicateTransitionNamesAreDuplicateKeys() {
        let yaml = minimalWorkflow + "  go: { from: a, to: a }\n"
        XCTAssertEqual(diagnostics(yaml), ["w.yaml:8:3: error: duplicate key 'go' (first defined at 7:3)"])
    }

    func testTransitionNeedsFromAndTo() {
        let yaml = minimalWorkflow.replacingOccurrences(of: "{ from: a, to: b }", with: "{}")
        XCTAssertEqual(diagnostics(yaml), [
            "w.yaml:7:7: error: transition 'go' is missing required key 'from'",
            "w.yaml:7:7: error: transition 'go' is missing required key 'to'",
        ])
    }

    // MARK: Hooks

    let hooked = """
        workflow: w
        initial: a
        states:
          a:
            on_enter: [{ plugin: notify }]
            on_exit: [{ plugin: notify, on_success: done }]
          b: { final: true }
        transitions:
          go:
            from: a
            to: b
            hooks:
              - plugin: label
                with: { carrier: dhl }
                timeout: 30s
                retry: { attempts: 5, backoff: 2s, max_backoff: 1m }
          done: { from: a, to: b }

        """

    func testHooksCompileWithTheirSettings() throws {
        let definition = try XCTUnwrap(definition(hooked, plugins: ["notify", "label"]))
        XCTAssertEqual(definition.transition(named: "go")?.hooks, [
            Hook(plugin: "label", with: ["carrier": .string("dhl")], timeout: WorkflowDuration(milliseconds: 30_000),
                 retry: RetryPolicy(attempts: 5, backoff: WorkflowDuration(milliseconds: 2_000), maxBackoff: WorkflowDuration(milliseconds: 60_000))),
        ])
        XCTAssertEqual(definition.state(named: "a")?.onEnter, [Hook(plugin: "notify")])
        XCTAssertEqual(definition.state(named: "a")?.onExit.first?.onSuccess, "done")
        XCTAssertEqual(Hook(plugin: "x").retry, .none)
    }

    func testHookNamingAnUnknownPluginIsAnErrorOnlyWhenPluginsAreKnown() {
        XCTAssertEqual(diagnostics(hooked, plugins: ["notify", "lable"]),
                       ["w.yaml:13:17: error: hook 1 of transition 'go' names unknown plugin 'label' (did you mean 'lable'?)"])
        XCTAssertEqual(diagnostics(hooked, plugins: ["notify", "label"]), [])
        XCTAssertEqual(diagnostics(hooked), [])
    }

    func testHookNeedsAPlugin() {
        let yaml = hooked.replacingOccurrences(of: "[{ plugin: notify }]", with: "[{ with: {} }]")
        XCTAssertEqual(diagnostics(yaml), ["w.yaml:5:16: error: on_enter hook 1 of state 'a' is missing required key 'plugin'"])
    }

    func testHooksMustBeAListOfMappings() {
        XCTAssertEqual(diagnostics(hooked.replacingOccurrences(of: "on_enter: [{ plugin: notify }]", with: "on_enter: { plugin: notify }")),
                       ["w.yaml:5:15: error: 'on_enter' of state 'a' must be a list of hooks, found a mapping"])
        XCTAssertEqual(diagnostics(hooked.replacingOccurrences(of: "on_enter: [{ plugin: notify }]", with: "on_enter: [notify]")),
                       ["w.yaml:5:16: error: on_enter hook 1 of state 'a' must be a mapping, found string 'notify'"])
    }

    func testHookWithMustBeAMapping() {
        XCTAssertEqual(diagnostics(hooked.replacingOccurrences(of: "with: { carrier: dhl }", with: "with: dhl")),
                       ["w.yaml:14:15: error: 'with' of hook 1 of transition 'go' must be a mapping of names to values, found string 'dhl'"])
    }

    func testFollowUpTransitionsMustExist() {
        let yaml = hooked.replacingOccurrences(of: "on_success: done", with: "on_success: dnoe, on_failure: nope")
        XCTAssertEqual(diagnostics(yaml), [
            "w.yaml:6:45: error: 'on_success' of on_exit hook 1 of state 'a' names unknown transition 'dnoe' (did you mean 'done'?)",
            "w.yaml:6:63: error: 'on_failure' of on_exit hook 1 of state 'a' names unknown transition 'nope'",
        ])
    }

    func testFollowUpThatCannotBeTakenIsAWarning() {
        // The hook of `go` runs with the instance in `b`, which `done` does not leave.
        let yaml = hooked.replacingOccurrences(of: "max_backoff: 1m }", with: "max_backoff: 1m }\n        on_failure: done")
        XCTAssertEqual(diagnostics(yaml), [
            "w.yaml:17:21: warning: 'on_failure' of hook 1 of transition 'go' names transition 'done', which does not leave state 'b' where the instance is when the hook runs",
        ])
        XCTAssertNotNil(WorkflowLoader.load(text: yaml, file: "w.yaml").definition, "warnings do not invalidate")
    }

    func testRetryAttemptsAreBounded() {
        XCTAssertEqual(diagnostics(hooked.replacingOccurrences(of: "attempts: 5", with: "attempts: 0")),
                       ["w.yaml:16:28: error: 'attempts' of retry of hook 1 of transition 'go' must be from 1 to 100 (runs in total, the first included), found 0"])
        XCTAssertEqual(diagnostics(hooked.replacingOccurrences(of: "attempts: 5", with: "attempts: many")),
                       ["w.yaml:16:28: error: 'attempts' of retry of hook 1 of transition 'go' must be a whole number, found string 'many'"])
        XCTAssertEqual(diagnostics(hooked.replacingOccurrences(of: "attempts: 5, ", with: "")),
                       ["w.yaml:16:16: error: retry of hook 1 of transition 'go' is missing required key 'attempts'"])
    }

    func testMaxBackoffMustNotBeShorterThanBackoff() {
        XCTAssertEqual(diagnostics(hooked.replacingOccurrences(of: "max_backoff: 1m", with: "max_backoff: 1s")),
                       ["w.yaml:16:57: error: 'max_backoff' of retry of hook 1 of transition 'go' (1s) is shorter than 'backoff' (2s)"])
    }

    func testRetryDefaultsAndDelays() throws {
        let policy = RetryPolicy(attempts: 6, backoff: WorkflowDuration(milliseconds: 2_000), maxBackoff: WorkflowDuration(milliseconds: 10_000))
        XCTAssertEqual((1...6).map { policy.delay(beforeAttempt: $0).milliseconds }, [0, 2_000, 4_000, 8_000, 10_000, 10_000])
        let defaults = RetryPolicy(attempts: 3)
        XCTAssertEqual(defaults.backoff.milliseconds, 1_000)
        XCTAssertEqual(defaults.maxBackoff.milliseconds, 60_000)
        XCTAssertEqual(RetryPolicy(attempts: 3, backoff: WorkflowDuration(milliseconds: 120_000)).maxBackoff.milliseconds, 120_000)
    }

    // MARK: Timeouts

    let timed = """
        workflow: w
        initial: a
        states:
          a:
            timeout: { after: 72h, transition: expire }
          b: { final: true }
        transitions:
          expire: { from: a, to: b }
          other: { from: b, to: b }

        """

    func testTimeoutCompiles() throws {
        let yaml = timed.replacingOccurrences(of: "  other: { from: b, to: b }\n", with: "")
        XCTAssertEqual(try XCTUnwrap(definition(yaml)).state(named: "a")?.timeout,
                       StateTimeout(after: WorkflowDuration(milliseconds: 72 * 3_600_000), transition: "expire"))
    }

    func testTimeoutMustNameATransitionLeavingTheState() {
        let unknown = timed.replacingOccurrences(of: "transition: expire", with: "transition: expier")
            .replacingOccurrences(of: "  other: { from: b, to: b }\n", with: "")
        XCTAssertEqual(diagnostics(unknown), ["w.yaml:5:40: error: timeout of state 'a' names unknown transition 'expier' (did you mean 'expire'?)"])
        let wrong = timed.replacingOccurrences(of: "transition: expire", with: "transition: other")
            .replacingOccurrences(of: "other: { from: b, to: b }", with: "other: { from: [], to: b }")
        XCTAssertEqual(diagnostics(wrong).first, "w.yaml:5:40: error: timeout of state 'a' names transition 'other', which does not leave 'a'")
    }

    func testTimeoutNeedsAValidDuration() {
        let yaml = timed.replacingOccurrences(of: "after: 72h", with: "after: 72").replacingOccurrences(of: "  other: { from: b, to: b }\n", with: "")
        XCTAssertEqual(diagnostics(yaml), ["w.yaml:5:23: error: 'after' of timeout of state 'a' needs a unit: write '72s' or '72ms' (units: ms, s, m, h)"])
    }

    // MARK: Graph warnings

    func testUnreachableAndStuckStatesAreWarnings() throws {
        let yaml = """
            workflow: w
            initial: a
            states:
              a: {}
              b: {}
              island: {}
              done: { final: true }
            transitions:
              go: { from: a, to: b }
              finish: { from: island, to: done }

            """
        let result = WorkflowLoader.load(text: yaml, file: "w.yaml")
        XCTAssertEqual(result.diagnostics.map(\.description), [
            "w.yaml:5:3: warning: state 'b' is not final and no transition leaves it; instances there stay forever (add a transition or 'final: true')",
            "w.yaml:6:3: warning: state 'island' is unreachable from initial state 'a'",
            "w.yaml:7:3: warning: state 'done' is unreachable from initial state 'a'",
        ])
        XCTAssertNotNil(result.definition)
    }

    func testStarTransitionsCountForReachabilityAndWayOut() {
        let yaml = """
            workflow: w
            initial: a
            states:
              a: {}
              b: {}
              done: { final: true }
            transitions:
              go: { from: a, to: b }
              stop: { from: "*", to: done }

            """
        XCTAssertEqual(diagnostics(yaml), [])
    }
}
