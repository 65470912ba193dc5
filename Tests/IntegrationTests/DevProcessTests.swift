import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// `orchestrator dev` as the README's recipe uses it: a node killed with SIGKILL is reported,
/// and the other nodes keep running, so the next command against them works.
final class DevProcessTests: XCTestCase {
    func testAKilledNodeIsReportedAndTheOthersKeepRunning() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("orch-dev-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("workflows"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: ProcessCluster.repository.appendingPathComponent("workflows/cookbook.yaml"),
                                         to: root.appendingPathComponent("workflows/cookbook.yaml"))
        let output = root.appendingPathComponent("dev.out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let dev = Process()
        dev.executableURL = ProcessCluster.binary
        dev.arguments = ["dev", "--nodes", "3", "--tick-ms", "30"]   // free ports, printed
        dev.currentDirectoryURL = root
        let handle = try FileHandle(forWritingTo: output)
        dev.standardOutput = handle
        dev.standardError = handle
        try dev.run()
        defer {
            if dev.isRunning { dev.interrupt() }
            dev.waitUntilExit()
            try? FileManager.default.removeItem(at: root)
        }
        func text() -> String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
        func waitFor(_ seconds: Double, _ condition: () -> Bool) async throws -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline { if condition() { return true }; try await Task.sleep(for: .milliseconds(100)) }
            return condition()
        }
        let elected = try await waitFor(20) { text().contains("leader: node") }
        XCTAssertTrue(elected, "dev printed the leader, line by line although redirected:\n\(text())")
        let leaderLine = try XCTUnwrap(text().split(separator: "\n").first { $0.hasPrefix("leader: node") })
        let leader = try XCTUnwrap(Int(leaderLine.split(separator: " ")[2]))
        // "  node 2: api http://127.0.0.1:PORT  raft …"
        var apiPorts: [Int: Int] = [:]
        for line in text().split(separator: "\n") where line.hasPrefix("  node ") {
            let words = line.split(separator: " ")
            if let node = Int(words[1].dropLast()), let port = words[3].split(separator: ":").last.flatMap({ Int($0) }) {
                apiPorts[node] = port
            }
        }
        XCTAssertEqual(apiPorts.count, 3, text())
        let pid = try XCTUnwrap(Self.pid(ofNode: leader, port: try XCTUnwrap(apiPorts[leader])))
        kill(pid, SIGKILL)
        let reported = try await waitFor(10) { text().contains("node \(leader) (pid \(pid)) was killed by signal 9") }
        XCTAssertTrue(reported, text())
        XCTAssertTrue(text().contains("restart it with:"), text())
        XCTAssertTrue(dev.isRunning, "dev keeps the other nodes running")
        let other = leader % 3 + 1
        var answered = false
        for _ in 0..<100 where !answered {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(apiPorts[other]!)/v1/health")!)
            request.timeoutInterval = 2
            if let (data, _) = try? await URLSession.shared.data(for: request),
               let body = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
               let newLeader = body["leader"] as? Int, newLeader != leader {
                answered = true
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        XCTAssertTrue(answered, "the surviving nodes elected a new leader:\n\(text())")
    }

    /// The pid of the `serve` child whose API listens on `port`.
    static func pid(ofNode node: Int, port: Int) -> pid_t? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = pid_t(entry),
                  let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let arguments = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if arguments.contains("serve"), arguments.contains("127.0.0.1:\(port)"),
               let position = arguments.firstIndex(of: "--node-id"), position + 1 < arguments.count,
               arguments[position + 1] == "\(node)" {
                return pid
            }
        }
        return nil
    }
}
