import Foundation
import XCTest

/// The README's recipe, run as written: its shell block is read from README.md and executed
/// line by line in a scratch directory, with two substitutions a person makes by hand — the
/// already-built binary instead of `swift build -c release`, and the leader's real pid in
/// `kill -9 <pid of the leader's process>` — plus a wait for the cluster to come up, as a
/// person naturally waits before typing the next command.
final class ReadmeWalkthroughTests: XCTestCase {
    /// The fenced block after `## The recipe, end to end`.
    static func recipe() throws -> [String] {
        let readme = try String(contentsOf: ProcessCluster.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try XCTUnwrap(readme.range(of: "## The recipe, end to end"), "README has the recipe section")
        let rest = readme[section.upperBound...]
        let open = try XCTUnwrap(rest.range(of: "```sh\n"))
        let close = try XCTUnwrap(rest[open.upperBound...].range(of: "```"))
        return rest[open.upperBound..<close.lowerBound].split(separator: "\n").map(String.init)
    }

    func testTheRecipeRunsAsWritten() throws {
        let lines = try Self.recipe()
        XCTAssertTrue(lines.contains { $0.hasPrefix("orchestrator dev --nodes 3") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("kill -9 <pid of the leader") }, "\(lines)")

        let root = FileManager.default.temporaryDirectory.appendingPathComponent("orch-readme-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("workflows"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: ProcessCluster.repository.appendingPathComponent("workflows/cookbook.yaml"),
                                         to: root.appendingPathComponent("workflows/cookbook.yaml"))
        defer { try? FileManager.default.removeItem(at: root) }

        var script = ["set -eu", "cd '\(root.path)'", "trap 'kill -INT $DEV_PID 2>/dev/null; wait $DEV_PID 2>/dev/null || true' EXIT"]
        for line in lines {
            let command = line.components(separatedBy: "  #").first!.trimmingCharacters(in: .whitespaces)
            if command.isEmpty { continue }
            if command.hasPrefix("swift build") {
                script.append("export PATH='\(ProcessCluster.binary.deletingLastPathComponent().path)':\"$PATH\"")
            } else if command.hasPrefix("orchestrator dev") {
                script.append("\(command.hasSuffix("&") ? command : command + " &") DEV_PID=$!")
                // Wait for the leader and the registered workflow, as a person would.
                script.append("for i in $(seq 1 200); do orchestrator workflows show cookbook --server http://127.0.0.1:9001 >/dev/null 2>&1 && break; sleep 0.1; done")
            } else if command.hasPrefix("kill -9 <pid") {
                script.append("""
                    LEADER=$(orchestrator cluster status --json | python3 -c 'import json,sys; print([m["id"] for m in json.load(sys.stdin)["members"] if m["is_leader"]][0])')
                    PID=$(pgrep -f "orchestrator serve --node-id $LEADER ")
                    echo "killing node $LEADER (pid $PID)"
                    kill -9 $PID
                    """)
            } else {
                script.append(command)
            }
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script.joined(separator: "\n")]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, "the recipe failed:\n\(script.joined(separator: "\n"))\n---\n\(text)")
        XCTAssertTrue(text.contains("demo: started cookbook"), text)
        XCTAssertTrue(text.contains("demo: first → second"), text)
        XCTAssertTrue(text.contains("demo: second → third"), text)
        XCTAssertTrue(text.contains("was killed by signal 9"), "dev reports the kill:\n\(text)")
        // history: start, second, third — in log order.
        let history = text.split(separator: "\n").filter { $0.contains("start → first") || $0.contains("second: first → second")
            || $0.contains("third: second → third") }
        XCTAssertEqual(history.count, 3, text)
    }
}
