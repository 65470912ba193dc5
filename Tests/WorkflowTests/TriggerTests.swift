import XCTest
@testable import Workflow

/// Cron triggers: each rule with a valid and an invalid case.
final class TriggerTests: XCTestCase {
    let base = """
        workflow: w
        initial: a
        states:
          a: {}
          b: {}
          c: { final: true }
        transitions:
          go: { from: a, to: b }
          stop: { from: [a, b], to: c }
        triggers:

        """

    func triggers(_ text: String) -> String { base + text }

    func testTransitionAndStartTriggersCompile() throws {
        let yaml = triggers("""
              - name: nightly-cleanup
                cron: "0 3 * * *"
                timezone: Europe/Berlin
                transition: stop
                where: { state: a }
              - name: hourly-report
                cron: "@hourly"
                start: { kind: report }
                concurrency: forbid
                misfire: all
              - { name: plain, cron: "*/5 * * * *", transition: go }

            """)
        let definition = try XCTUnwrap(definition(yaml))
        XCTAssertEqual(definition.triggers, [
            TriggerDefinition(name: "nightly-cleanup", cron: "0 3 * * *", timezone: "Europe/Berlin",
                              action: .transition("stop", whereState: "a")),
            TriggerDefinition(name: "hourly-report", cron: "@hourly", action: .start(data: ["kind": .string("report")]),
                              concurrency: .forbid, misfire: .all),
            TriggerDefinition(name: "plain", cron: "*/5 * * * *", timezone: "UTC", action: .transition("go", whereState: nil),
                              concurrency: .allow, misfire: .once),
        ])
        XCTAssertEqual(definition.trigger(named: "plain")?.misfire, .once)
    }

    func testEmptyStartMeansNoData() throws {
        let definition = try XCTUnwrap(definition(triggers("  - { name: t, cron: \"@daily\", start: }\n")))
        XCTAssertEqual(definition.triggers.first?.action, .start(data: [:]))
    }

    func testTriggersMustBeAList() {
        XCTAssertEqual(diagnostics(base.replacingOccurrences(of: "triggers:\n", with: "triggers: { name: t }\n")),
                       ["w.yaml:10:11: error: 'triggers' must be a list of triggers, found a mapping"])
    }

    func testNameAndCronAreRequired() {
        XCTAssertEqual(diagnostics(triggers("  - { transition: go }\n")), [
            "w.yaml:11:5: error: trigger 1 is missing required key 'name'",
            "w.yaml:11:5: error: trigger 1 is missing required key 'cron'",
        ])
    }

    func testCronMustNotBeEmpty() {
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \" \", transition: go }\n")),
                       ["w.yaml:11:22: error: 'cron' of trigger 't' is empty; write an expression such as \"0 3 * * *\" or \"@hourly\""])
    }

    func testTimezoneMustLookLikeAZoneName() {
        for zone in ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5"] {
            XCTAssertTrue(WorkflowCompiler.looksLikeTimeZone(zone), zone)
        }
        for zone in ["", "+02:00", "Europe Berlin", "/Berlin", "a/b/c/d", "Europe//Berlin"] {
            XCTAssertFalse(WorkflowCompiler.looksLikeTimeZone(zone), zone)
        }
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\", timezone: \"+02:00\", transition: go }\n")),
                       ["w.yaml:11:42: error: 'timezone' of trigger 't' '+02:00' is not a time zone name; use an IANA name such as 'Europe/Berlin' or 'UTC'"])
    }

    func testTransitionAndStartAreExclusive() {
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\", transition: go, start: {} }\n")),
                       ["w.yaml:11:48: error: trigger 't' has both 'transition' and 'start'; a trigger does one of them"])
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\" }\n")),
                       ["w.yaml:11:5: error: trigger 't' needs 'transition' (to move existing instances) or 'start' (to start a new one)"])
    }

    func testWhereOnlyWithTransition() {
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\", start: {}, where: { state: a } }\n")),
                       ["w.yaml:11:43: error: 'where' of trigger 't' applies only to triggers with a 'transition'"])
    }

    func testTriggerTransitionMustExist() {
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\", transition: stpo }\n")),
                       ["w.yaml:11:44: error: trigger 't' names unknown transition 'stpo' (did you mean 'stop'?)"])
    }

    func testWhereStateMustExistAndBeLeftByTheTransition() {
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\", transition: go, where: { state: x } }\n")),
                       ["w.yaml:11:64: error: 'where' of trigger 't' selects unknown state 'x' (did you mean 'a'?)"])
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\", transition: go, where: { state: b } }\n")),
                       ["w.yaml:11:64: error: trigger 't' selects state 'b', which transition 'go' does not leave"])
    }

    func testConcurrencyOnlyForStartTriggers() {
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\", transition: go, concurrency: forbid }\n")),
                       ["w.yaml:11:48: error: 'concurrency' of trigger 't' applies only to triggers that 'start' instances"])
    }

    func testPoliciesMustBeKnownWords() {
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\", start: {}, concurrency: forbidden, misfire: twice }\n")), [
            "w.yaml:11:56: error: 'concurrency' of trigger 't' must be one of allow, forbid, replace, found 'forbidden' (did you mean 'forbid'?)",
            "w.yaml:11:76: error: 'misfire' of trigger 't' must be one of skip, once, all, found 'twice'",
        ])
    }

    func testDuplicateTriggerNames() {
        let yaml = triggers("""
              - { name: t, cron: "@daily", transition: go }
              - { name: t, cron: "@hourly", transition: go }

            """)
        XCTAssertEqual(diagnostics(yaml), ["w.yaml:12:13: error: duplicate trigger name 't' (first defined at 11:13)"])
    }

    func testCronExpressionIsParsed() {
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"61 * * * *\", transition: go }\n")),
                       ["w.yaml:11:22: error: trigger 't': cron \"61 * * * *\": minute 61 is out of range 0-59 (column 1)"])
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"* * *\", transition: go }\n")),
                       ["w.yaml:11:22: error: trigger 't': cron \"* * *\": expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, found 3"])
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@dayly\", transition: go }\n")),
                       ["w.yaml:11:22: error: trigger 't': cron \"@dayly\": unknown macro @dayly (did you mean @daily?); use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every DURATION (column 1)"])
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@every 90s\", transition: go }\n")), [])
    }

    func testUnknownZoneIsReportedAtTheTimezone() {
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\", timezone: Mars/Base, transition: go }\n")),
                       ["w.yaml:11:42: error: 'timezone' of trigger 't': unknown time zone 'Mars/Base' (no such zone in /usr/share/zoneinfo)"])
        // The expression is still checked.
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"0 25 * * *\", timezone: Mars/Base, transition: go }\n")), [
            "w.yaml:11:22: error: trigger 't': cron \"0 25 * * *\": hour 25 is out of range 0-23 (column 3)",
            "w.yaml:11:46: error: 'timezone' of trigger 't': unknown time zone 'Mars/Base' (no such zone in /usr/share/zoneinfo)",
        ])
    }

    func testReplaceTransitionGoesWithConcurrencyReplace() throws {
        let yaml = triggers("  - { name: t, cron: \"@daily\", start: {}, concurrency: replace, replace_transition: stop }\n")
        XCTAssertEqual(try XCTUnwrap(definition(yaml)).triggers.first?.replaceTransition, "stop")
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\", start: {}, concurrency: replace }\n")),
                       ["w.yaml:11:43: error: trigger 't' has concurrency: replace and needs 'replace_transition': the transition that ends the previous fire's instance"])
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\", start: {}, concurrency: forbid, replace_transition: stop }\n")),
                       ["w.yaml:11:64: error: 'replace_transition' of trigger 't' applies only to concurrency: replace"])
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\", start: {}, replace_transition: stop }\n")),
                       ["w.yaml:11:43: error: 'replace_transition' of trigger 't' applies only to concurrency: replace"])
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\", start: {}, concurrency: replace, replace_transition: stpo }\n")),
                       ["w.yaml:11:85: error: 'replace_transition' of trigger 't' names unknown transition 'stpo' (did you mean 'stop'?)"])
    }

    func testMaxCatchupGoesWithMisfireAll() throws {
        let yaml = triggers("  - { name: t, cron: \"@daily\", start: {}, misfire: all, max_catchup: 7 }\n")
        XCTAssertEqual(try XCTUnwrap(definition(yaml)).triggers.first?.maxCatchup, 7)
        let plain = triggers("  - { name: t, cron: \"@daily\", start: {}, misfire: all }\n")
        XCTAssertEqual(try XCTUnwrap(definition(plain)).triggers.first?.maxCatchup, TriggerDefinition.maxCatchupDefault)
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\", start: {}, misfire: once, max_catchup: 7 }\n")),
                       ["w.yaml:11:58: error: 'max_catchup' of trigger 't' applies only to misfire: all"])
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\", start: {}, max_catchup: 7 }\n")),
                       ["w.yaml:11:43: error: 'max_catchup' of trigger 't' applies only to misfire: all"])
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\", start: {}, misfire: all, max_catchup: 10001 }\n")),
                       ["w.yaml:11:70: error: 'max_catchup' of trigger 't' must be between 1 and 10000, found 10001"])
        XCTAssertEqual(diagnostics(triggers("  - { name: t, cron: \"@daily\", start: {}, misfire: all, max_catchup: many }\n")),
                       ["w.yaml:11:70: error: 'max_catchup' of trigger 't' must be a whole number, found string 'many'"])
    }
}
