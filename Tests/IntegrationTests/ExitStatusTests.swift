import Foundation
import XCTest

/// The CLI's exit status for each class of answer (docs/cli.md), from the real binary against
/// a server that gives exactly that answer.
final class ExitStatusTests: XCTestCase {
    private func submit(against server: CannedHTTPServer, extra: [String] = []) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = ProcessCluster.binary
        process.arguments = ["submit", "demo", "second", "--server", "http://127.0.0.1:\(server.port)", "--timeout", "0"] + extra
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = Pipe()
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    private func error(_ code: String, applied: Bool? = nil) -> String {
        let details = applied.map { #"{"applied":\#($0)}"# } ?? "{}"
        return #"{"error":{"code":"\#(code)","message":"canned \#(code)","details":\#(details)}}"#
    }

    func testEachAnswerClassHasItsExitStatus() throws {
        let cases: [(Int, String, String, [String: String], Int32, String)] = [
            (409, "Conflict", error("transition_not_allowed"), [:], 1, "[transition_not_allowed]"),
            (404, "Not Found", error("unknown_instance"), [:], 1, "[unknown_instance]"),
            (422, "Unprocessable Content", error("unknown_transition"), [:], 2, "[unknown_transition]"),
            (429, "Too Many Requests", error("too_many_requests", applied: false), ["Retry-After": "1"], 3, "is busy and did not apply"),
            (503, "Service Unavailable", error("no_leader", applied: false), ["Retry-After": "1"], 3, "[no_leader]"),
            (503, "Service Unavailable", error("leader_changed", applied: false), [:], 3, "[leader_changed]"),
            (504, "Gateway Timeout", error("outcome_unknown"), [:], 4, "may have been applied"),
        ]
        for (status, reason, body, headers, expected, message) in cases {
            let server = try CannedHTTPServer(status: status, reason: reason, body: body, headers: headers)
            defer { server.close() }
            let run = try submit(against: server, extra: ["--request-id", "exit-test-1"])
            XCTAssertEqual(run.status, expected, "HTTP \(status): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(message), "HTTP \(status): expected '\(message)' in: \(run.stderr)")
            if expected == 4 {
                XCTAssertTrue(run.stderr.contains("--request-id exit-test-1"), "the hint names the request id to rerun with: \(run.stderr)")
            }
        }
    }

    func testNothingListeningIsExitThree() throws {
        let ports = try freePorts(1)
        let process = Process()
        process.executableURL = ProcessCluster.binary
        process.arguments = ["submit", "demo", "second", "--server", "http://127.0.0.1:\(ports[0])", "--timeout", "0"]
        process.standardError = Pipe()
        process.standardOutput = Pipe()
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 3)
    }
}
