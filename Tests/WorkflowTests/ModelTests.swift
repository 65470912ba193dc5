import XCTest
@testable import Workflow

/// The compiled model: lookups, Codable, content hash.
final class ModelTests: XCTestCase {
    let order = """
        workflow: order
        description: Order fulfilment
        initial: created
        data: { priority: normal, weight: 1.5 }
        states:
          created: {}
          paid: { on_enter: [{ plugin: notify, with: { channel: billing } }] }
          shipped: { timeout: { after: 72h, transition: escalate } }
          delivered: { final: true }
          cancelled: { final: true }
        transitions:
          pay: { from: created, to: paid }
          ship: { from: paid, to: shipped, hooks: [{ plugin: label, timeout: 30s, retry: { attempts: 5, backoff: 2s }, on_failure: escalate }] }
          deliver: { from: shipped, to: delivered }
          cancel: { from: [created, paid], to: cancelled }
          escalate: { from: shipped, to: cancelled }
          abort: { from: "*", to: cancelled }
        triggers:
          - { name: nightly, cron: "0 3 * * *", timezone: Europe/Berlin, transition: cancel, where: { state: created } }
          - { name: hourly, cron: "@hourly", start: {}, concurrency: forbid }

        """

    func testLookups() throws {
        let definition = try XCTUnwrap(definition(order))
        XCTAssertEqual(definition.name, "order")
        XCTAssertEqual(definition.description, "Order fulfilment")
        XCTAssertEqual(definition.initial, "created")
        XCTAssertEqual(definition.states.map(\.name), ["created", "paid", "shipped", "delivered", "cancelled"])
        XCTAssertEqual(definition.transitions(from: "created").map(\.name), ["pay", "cancel", "abort"])
        XCTAssertEqual(definition.transitions(from: "shipped").map(\.name), ["deliver", "escalate", "abort"])
        XCTAssertEqual(definition.transitions(from: "delivered").map(\.name), [])
        XCTAssertEqual(definition.transitions(from: "nowhere").map(\.name), [])
        XCTAssertEqual(definition.transition(named: "ship")?.to, "shipped")
        XCTAssertNil(definition.transition(named: "fly"))
        XCTAssertTrue(definition.isFinal("delivered"))
        XCTAssertFalse(definition.isFinal("paid"))
        XCTAssertFalse(definition.isFinal("nowhere"))
        XCTAssertTrue(definition.allows("abort", from: "paid"))
        XCTAssertFalse(definition.allows("abort", from: "cancelled"))
        XCTAssertFalse(definition.allows("pay", from: "paid"))
        XCTAssertEqual(definition.state(named: "shipped")?.timeout?.after.milliseconds, 72 * 3_600_000)
        XCTAssertEqual(definition.data, ["priority": .string("normal"), "weight": .number(1.5)])
    }

    func testCodableRoundTripKeepsContentAndHash() throws {
        let definition = try XCTUnwrap(definition(order))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(definition)
        let decoded = try JSONDecoder().decode(WorkflowDefinition.self, from: data)
        XCTAssertEqual(decoded, definition)
        XCTAssertEqual(decoded.contentHash, definition.contentHash)
        XCTAssertEqual(decoded.transitions(from: "created").map(\.name), ["pay", "cancel", "abort"])
        XCTAssertEqual(try encoder.encode(decoded), data)
        let json = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(json.contains(#""action":{"transition":"cancel","where":"created"}"#), json)
        XCTAssertTrue(json.contains(#""from":"*""#), json)
        XCTAssertTrue(json.contains(#""after":"72h""#), json)
    }

    func testContentHashIsStable() throws {
        // Pinned: a change here changes every stored instance's pin. Bump
        // `canonicalFormatVersion` deliberately if the encoding must change.
        let minimal = try XCTUnwrap(definition(minimalWorkflow))
        XCTAssertEqual(minimal.canonicalEncoding, """
            {"data":{},"description":"","format":1,"initial":"a","name":"w","states":[{"final":false,"name":"a","on_enter":[],"on_exit":[]},\
            {"final":true,"name":"b","on_enter":[],"on_exit":[]}],"transitions":[{"from":["a"],"hooks":[],"name":"go","to":"b"}],"triggers":[]}
            """)
        // = `printf '%s' "$canonical" | sha256sum`
        XCTAssertEqual(minimal.contentHash, "911b15de0b99e907ebae167f6e600f7e0acb4164d4c66e4521fa9a3fad4a2daf")
    }

    func testContentHashIgnoresFormattingButNotContent() throws {
        let compact = try XCTUnwrap(definition(minimalWorkflow))
        let spaced = try XCTUnwrap(definition("""
            # a comment
            workflow: "w"
            initial: 'a'

            states:
              a:
              b:
                final: true
            transitions:
              go:
                from: [a]
                to: b

            """))
        XCTAssertEqual(spaced.contentHash, compact.contentHash)
        XCTAssertEqual(spaced, compact)
        let changed = try XCTUnwrap(definition(minimalWorkflow.replacingOccurrences(of: "workflow: w", with: "workflow: w2")))
        XCTAssertNotEqual(changed.contentHash, compact.contentHash)
        XCTAssertNotEqual(changed, compact)
    }

    func testCanonicalJSONSortsKeysAndEscapes() {
        let value: JSONValue = .object(["b": .number(1), "a": .array([.string("x\"\\\n\u{1}é"), .number(0.5), .bool(true), .null])])
        XCTAssertEqual(value.canonicalJSON, #"{"a":["x\"\\\n\u0001é",0.5,true,null],"b":1}"#)
    }

    func testJSONValueCodable() throws {
        let value: JSONValue = .object(["a": .array([.number(1), .string("s"), .bool(false), .null])])
        let data = try JSONEncoder().encode(value)
        XCTAssertEqual(try JSONDecoder().decode(JSONValue.self, from: data), value)
    }

    func testThrowingEntryPointCarriesEveryDiagnostic() throws {
        XCTAssertEqual(try WorkflowLoader.definition(text: minimalWorkflow, file: "w.yaml").name, "w")
        do {
            _ = try WorkflowLoader.definition(text: "workflow: W\n", file: "w.yaml")
            XCTFail("expected an error")
        } catch .invalid(let diagnostics) {
            XCTAssertEqual(diagnostics.count, 3)
            XCTAssertEqual(WorkflowError.invalid(diagnostics: diagnostics).description.split(separator: "\n").count, 3)
        }
    }

    func testModelIsSendable() {
        func requireSendable<T: Sendable>(_: T.Type) {}
        requireSendable(WorkflowDefinition.self)
        requireSendable(Diagnostic.self)
    }
}

/// `history: { max_entries: N }`.
final class HistorySettingTests: XCTestCase {
    func testMaxEntriesIsReadAndChangesTheHashOnlyWhenGiven() throws {
        let plain = try XCTUnwrap(definition(minimalWorkflow))
        XCTAssertNil(plain.historyMaxEntries)
        let capped = try XCTUnwrap(definition(minimalWorkflow + "history: { max_entries: 50000 }\n"))
        XCTAssertEqual(capped.historyMaxEntries, 50_000)
        XCTAssertNotEqual(capped.contentHash, plain.contentHash, "a different limit is a different version")
        XCTAssertTrue(capped.canonicalEncoding.contains(#""history":{"max_entries":50000}"#), capped.canonicalEncoding)
        let data = try JSONEncoder().encode(capped)
        let decoded = try JSONDecoder().decode(WorkflowDefinition.self, from: data)
        XCTAssertEqual(decoded, capped)
        XCTAssertEqual(decoded.contentHash, capped.contentHash)
    }

    func testBadHistorySettingsAreReportedWhereTheyAre() {
        XCTAssertEqual(diagnostics(minimalWorkflow + "history: { max_entries: 0 }\n"),
                       ["w.yaml:8:25: error: 'max_entries' of 'history' must be between 1 and 100000, found 0"])
        XCTAssertEqual(diagnostics(minimalWorkflow + "history: { max_entries: lots }\n"),
                       ["w.yaml:8:25: error: 'max_entries' of 'history' must be a whole number, found string 'lots'"])
        XCTAssertEqual(diagnostics(minimalWorkflow + "history: { max_entry: 10 }\n").first?.hasPrefix("w.yaml:8:12: error: unknown key 'max_entry'"), true,
                       "\(diagnostics(minimalWorkflow + "history: { max_entry: 10 }\n"))")
        XCTAssertEqual(diagnostics(minimalWorkflow + "history: 10\n"), ["w.yaml:8:10: error: 'history' must be a mapping, found number 10"])
    }
}
