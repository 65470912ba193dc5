import XCTest
@testable import Workflow

final class DurationTests: XCTestCase {
    func testValidDurations() {
        let cases: [(String, Int64)] = [
            ("500ms", 500), ("30s", 30_000), ("5m", 300_000), ("72h", 259_200_000), ("1h30m", 5_400_000),
            ("2m30s500ms", 150_500), ("1h1ms", 3_600_001), ("90s", 90_000), ("7d", 604_800_000), ("1d12h", 129_600_000),
        ]
        for (text, milliseconds) in cases {
            XCTAssertEqual(WorkflowDuration(parsing: text)?.milliseconds, milliseconds, text)
        }
    }

    func testInvalidDurations() {
        for text in ["", "5", "m", "5x", "1.5h", "-1s", "30m1h", "1s1s", "5 m", "0s", "0h0m", "876000h", "99999999999999999999h", "1h30", "1h1d", "3651d"] {
            XCTAssertNil(WorkflowDuration(parsing: text), text)
        }
    }

    func testDescriptionIsTheShortestSpelling() {
        XCTAssertEqual(WorkflowDuration(milliseconds: 5_400_000).description, "1h30m")
        XCTAssertEqual(WorkflowDuration(milliseconds: 150_500).description, "2m30s500ms")
        XCTAssertEqual(WorkflowDuration(milliseconds: 500).duration, .milliseconds(500))
        XCTAssertEqual(WorkflowDuration(parsing: "3d")?.description, "72h", "days are written back as hours, as causes always were")
    }

    func testDurationErrorsSayHowToWriteOne() {
        let yaml = minimalWorkflow.replacingOccurrences(of: "  a: {}", with: "  a: { timeout: { after: 1h30x, transition: go } }")
        XCTAssertEqual(diagnostics(yaml), [
            "w.yaml:4:26: error: 'after' of timeout of state 'a' '1h30x' is not a duration: write a number and a unit (ms, s, m, h, d), largest unit first, such as '500ms', '30s' or '1h30m'",
        ])
        let zero = minimalWorkflow.replacingOccurrences(of: "  a: {}", with: "  a: { timeout: { after: 0s, transition: go } }")
        XCTAssertEqual(diagnostics(zero), [
            "w.yaml:4:26: error: 'after' of timeout of state 'a' '0s' must be more than zero and at most 87600h (10 years)",
        ])
        let list = minimalWorkflow.replacingOccurrences(of: "  a: {}", with: "  a: { timeout: { after: [1s], transition: go } }")
        XCTAssertEqual(diagnostics(list), [
            "w.yaml:4:26: error: 'after' of timeout of state 'a' must be a duration such as '30s' or '1h30m', found a list",
        ])
    }

    func testDurationsRoundTripThroughCodable() throws {
        let duration = WorkflowDuration(milliseconds: 5_400_000)
        let data = try JSONEncoder().encode([duration])
        XCTAssertEqual(String(decoding: data, as: UTF8.self), "[\"1h30m\"]")
        XCTAssertEqual(try JSONDecoder().decode([WorkflowDuration].self, from: data), [duration])
    }
}
