import XCTest
@testable import Workflow

/// Input that is not a workflow at all gets one clear error, quickly, and never a crash.
final class DocumentTests: XCTestCase {
    func testMinimalWorkflowIsValid() {
        XCTAssertEqual(diagnostics(minimalWorkflow), [])
    }

    func testEmptyFileIsAnError() {
        XCTAssertEqual(diagnostics(""), ["w.yaml:1:1: error: file is empty; a workflow file is a mapping with 'workflow', 'initial' and 'states'"])
        XCTAssertEqual(diagnostics("# only a comment\n"),
                       ["w.yaml:1:1: error: file is empty; a workflow file is a mapping with 'workflow', 'initial' and 'states'"])
    }

    func testListDocumentIsAnError() {
        XCTAssertEqual(diagnostics("- a\n- b\n"),
                       ["w.yaml:1:1: error: a workflow file must be a mapping with 'workflow', 'initial' and 'states', found a list"])
    }

    func testScalarDocumentIsAnError() {
        XCTAssertEqual(diagnostics("hello\n"),
                       ["w.yaml:1:1: error: a workflow file must be a mapping with 'workflow', 'initial' and 'states', found string 'hello'"])
    }

    func testSyntaxErrorReportsYamlPosition() {
        let yaml = "workflow: w\ninitial: a\nstates:\n  a: {\n"
        XCTAssertEqual(diagnostics(yaml),
                       ["w.yaml:5:1: error: YAML syntax error: did not find expected node content (while parsing a flow node at 5:1)"])
    }

    func testTabIndentationIsASyntaxError() {
        let yaml = "workflow: w\nstates:\n\ta: {}\n"
        XCTAssertEqual(diagnostics(yaml),
                       ["w.yaml:3:1: error: YAML syntax error: found character that cannot start any token (while scanning for the next token at 3:1)"])
    }

    func testSecondDocumentIsAnError() {
        XCTAssertEqual(diagnostics(minimalWorkflow + "---\nworkflow: x\n"),
                       ["w.yaml:8:1: error: file holds more than one YAML document ('---'); a workflow file holds exactly one"])
    }

    func testDuplicateKeysAreAllReportedWithBothPositions() {
        let yaml = """
            workflow: w
            initial: a
            states:
              a: {}
              b: { final: true, final: false }
              a: {}
            transitions:
              go: { from: a, to: b }
            initial: b

            """
        XCTAssertEqual(diagnostics(yaml), [
            "w.yaml:5:21: error: duplicate key 'final' (first defined at 5:8)",
            "w.yaml:6:3: error: duplicate key 'a' (first defined at 4:3)",
            "w.yaml:9:1: error: duplicate key 'initial' (first defined at 2:1)",
        ])
    }

    func testDuplicateKeysDoNotHideOtherErrors() {
        let yaml = minimalWorkflow.replacingOccurrences(of: "  go: { from: a, to: b }", with: "  go: { from: a, to: c }\n  go: { from: a, to: b }")
        XCTAssertEqual(diagnostics(yaml), [
            "w.yaml:7:22: error: transition 'go' goes to unknown state 'c' (did you mean 'a'?)",
            "w.yaml:8:3: error: duplicate key 'go' (first defined at 7:3)",
        ])
    }

    func testOversizedDocumentFailsBeforeParsing() {
        let limits = WorkflowLimits(documentBytesMax: 100)
        XCTAssertEqual(diagnostics(String(repeating: "#", count: 101), limits: limits),
                       ["w.yaml:1:1: error: file is 101 bytes, over the limit of 100 bytes for a workflow definition"])
    }

    func testTenMegabytesOfNestingFailFast() {
        let start = Date()
        let text = String(repeating: "[", count: 10 << 20)
        XCTAssertEqual(diagnostics(text),
                       ["w.yaml:1:1: error: file is 10485760 bytes, over the limit of 1048576 bytes for a workflow definition"])
        // Even with the size limit lifted, the depth limit stops the parser at level 65.
        let unlimited = WorkflowLimits(documentBytesMax: 20 << 20)
        XCTAssertEqual(diagnostics(text, limits: unlimited),
                       ["w.yaml:1:65: error: nesting is deeper than 64 levels; a workflow needs only a few"])
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    func testHundredThousandOpenBracketsHitTheDepthLimit() {
        XCTAssertEqual(diagnostics(String(repeating: "[", count: 100_000)),
                       ["w.yaml:1:65: error: nesting is deeper than 64 levels; a workflow needs only a few"])
        XCTAssertEqual(diagnostics(String(repeating: "{a: ", count: 100_000)),
                       ["w.yaml:1:257: error: nesting is deeper than 64 levels; a workflow needs only a few"])
    }

    func testDeepBlockNestingHitsTheDepthLimit() {
        var yaml = ""
        for level in 0..<70 { yaml += String(repeating: " ", count: level) + "k\(level):\n" }
        yaml += String(repeating: " ", count: 70) + "x\n"
        XCTAssertEqual(diagnostics(yaml), ["w.yaml:65:65: error: nesting is deeper than 64 levels; a workflow needs only a few"])
    }

    func testNestingWithinTheLimitIsAccepted() {
        let data = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        let yaml = minimalWorkflow + "data: { deep: \(data) }\n"
        XCTAssertEqual(diagnostics(yaml), [])
    }

    func testAliasBombHitsTheNodeLimit() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 { yaml += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let start = Date()
        XCTAssertEqual(diagnostics(yaml),
                       ["w.yaml:6:45: error: document has more than 1000000 nodes (counting alias expansions); split it or remove repeated aliases"])
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    func testAliasesAreExpanded() throws {
        let yaml = """
            workflow: w
            initial: a
            states:
              a: { on_enter: &notify [{ plugin: notify }] }
              b: { final: true, on_enter: *notify }
            transitions:
              go: { from: a, to: b }

            """
        let definition = try XCTUnwrap(definition(yaml))
        XCTAssertEqual(definition.state(named: "b")?.onEnter, [Hook(plugin: "notify")])
    }

    func testUnknownAliasIsAnError() {
        let yaml = minimalWorkflow + "description: *nothing\n"
        XCTAssertEqual(diagnostics(yaml), [
            "w.yaml:8:14: error: alias '*nothing' refers to no anchor defined before it",
            "w.yaml:8:14: error: 'description' must be a string, found null",
        ])
    }

    func testMergeKeysAreRejected() {
        let yaml = minimalWorkflow.replacingOccurrences(of: "  a: {}", with: "  a: { <<: {final: true} }")
        XCTAssertEqual(diagnostics(yaml), [
            "w.yaml:4:8: error: merge keys ('<<') are not supported in state 'a'; write the keys out, or alias a whole value",
        ])
    }

    func testUnsupportedTagIsAnError() {
        XCTAssertEqual(diagnostics(minimalWorkflow + "description: !!binary aGVsbG8=\n"),
                       ["w.yaml:8:14: error: unsupported YAML tag '!!binary'; only standard tags such as !!str are allowed"])
    }

    func testStrTagMakesAString() throws {
        let yaml = minimalWorkflow + "data: { flag: !!str true, number: 42 }\n"
        XCTAssertEqual(try XCTUnwrap(definition(yaml)).data, ["flag": .string("true"), "number": .number(42)])
    }

    func testBinaryJunkIsNotParsed() {
        var bytes: [UInt8] = Array("workflow: w\n".utf8)
        bytes += [0x00, 0x01, 0x02, 0x7F, 0x10]
        XCTAssertEqual(WorkflowLoader.load(bytes: bytes, file: "w.yaml").diagnostics.map(\.description),
                       ["w.yaml:2:1: error: file contains the control character U+0000; is it a binary file?"])
        XCTAssertEqual(diagnostics("workflow: w\u{7}\n"),
                       ["w.yaml:1:12: error: file contains the control character U+0007; is it a binary file?"])
    }

    func testRandomBytesNeverCrash() {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<200 {
            let count = Int.random(in: 0..<512, using: &generator)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let result = WorkflowLoader.load(bytes: bytes, file: "junk")
            XCTAssertNil(result.definition)
            XCTAssertFalse(result.diagnostics.isEmpty)
        }
        // Printable junk gets through to the parser and must not crash it either.
        let alphabet = Array("ab:- []{}\n,'\"&*!|>#%@`?  \t")
        for _ in 0..<300 {
            let text = String((0..<Int.random(in: 0..<200, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            _ = WorkflowLoader.load(text: text, file: "junk")
        }
    }

    /// Mutations of a real workflow (lines dropped, duplicated or swapped, characters
    /// replaced) must produce diagnostics or a definition, never a crash.
    func testMutatedWorkflowsNeverCrash() throws {
        let original = try String(contentsOf: repositoryRoot.appendingPathComponent("workflows/deploy.yaml"), encoding: .utf8)
        let lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var generator = SeededGenerator(seed: 2026)
        let replacements = ["", "~", "[]", "{}", "*", "\"*\"", "x", "- a", ": :", "&a", "*a", "true", "0", "-1", "1h30x"]
        for _ in 0..<250 {
            var mutated = lines
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let index = Int.random(in: 0..<mutated.count, using: &generator)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: mutated.remove(at: index)
                case 1: mutated.insert(mutated[index], at: index)
                case 2: mutated.swapAt(index, Int.random(in: 0..<mutated.count, using: &generator))
                default:
                    var line = mutated[index]
                    if let colon = line.firstIndex(of: ":") {
                        line = String(line[...colon]) + " " + replacements.randomElement(using: &generator)!
                    }
                    mutated[index] = line
                }
            }
            let result = WorkflowLoader.load(text: mutated.joined(separator: "\n"), file: "deploy.yaml")
            XCTAssertTrue(result.definition != nil || result.diagnostics.contains(where: \.isError))
        }
    }

    func testInvalidUTF8ReportsTheByteAndPosition() {
        let bytes: [UInt8] = Array("workflow: w\ndescription: caf".utf8) + [0xC3, 0x28] + Array("\n".utf8)
        XCTAssertEqual(WorkflowLoader.load(bytes: bytes, file: "w.yaml").diagnostics.map(\.description),
                       ["w.yaml:2:17: error: file is not valid UTF-8 (byte 0xC3); is it a binary file?"])
        XCTAssertEqual(WorkflowLoader.load(bytes: [0xFF, 0xFE, 0x00], file: "w.yaml").diagnostics.map(\.description),
                       ["w.yaml:1:1: error: file is not valid UTF-8 (byte 0xFF); is it a binary file?"])
    }

    func testUnicodeColumnsCountCharacters() {
        let yaml = minimalWorkflow + "description: \"café\"\ndescriptio: x\n"
        XCTAssertEqual(diagnostics(yaml), [
            "w.yaml:9:1: error: unknown key 'descriptio' in the workflow definition (did you mean 'description'?)",
        ])
        let bytes = Array("workflow: w\ndescription: café\u{1}\n".utf8)
        XCTAssertEqual(WorkflowLoader.load(bytes: bytes, file: "w.yaml").diagnostics.map(\.description),
                       ["w.yaml:2:18: error: file contains the control character U+0001; is it a binary file?"])
    }
}

/// A small deterministic generator (SplitMix64), so junk tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
