import Foundation
import XCTest

/// Retention on three real processes: the leader purges exactly the finished instances past
/// their retention, and every node ends up holding the same instances — the purge is a log
/// entry, applied alike everywhere.
final class RetentionProcessTests: XCTestCase {
    static let yaml = """
        workflow: shortlived
        initial: open
        retention: 2s
        states:
          open: {}
          closed: { final: true }
        transitions:
          close: { from: open, to: closed }
        """

    private func ids(_ cluster: ProcessCluster, on node: Int) async throws -> [String] {
        let (status, body) = try await cluster.request("GET", node, "/v1/instances?workflow=shortlived&limit=1000&stale=true")
        XCTAssertEqual(status, 200, "\(body)")
        return ((body["instances"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
    }

    func testFinishedInstancesPastTheirRetentionArePurgedOnEveryNode() async throws {
        let cluster = try ProcessCluster(count: 3)
        defer { cluster.stop() }
        try cluster.addWorkflow(file: "shortlived.yaml", Self.yaml)
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        try await cluster.waitForWorkflow(on: leader, name: "shortlived")
        for number in 0..<10 {
            let (status, body) = try await cluster.requestUntilAvailable("POST", leader, "/v1/instances",
                                                                      ["workflow": "shortlived", "id": "s\(number)"])
            XCTAssertEqual(status, 201, "\(body)")
            if number % 2 == 0 {
                let (moved, answer) = try await cluster.requestUntilAvailable("POST", leader, "/v1/instances/s\(number)/transitions",
                                                                           ["transition": "close"])
                XCTAssertEqual(moved, 200, "\(answer)")
            }
        }
        let (_, finished) = try await cluster.request("GET", leader, "/v1/instances?workflow=shortlived&finished=true")
        let listed = (finished["instances"] as? [[String: Any]]) ?? []
        XCTAssertEqual(listed.count, 5)
        XCTAssertNotNil(listed.first?["purge_at"] as? String, "a finished instance says when it goes: \(listed)")

        // Retention 2 s, a sweep every 10 s: gone within about 12 s, on every node.
        let running = (0..<10).filter { $0 % 2 == 1 }.map { "s\($0)" }
        let deadline = Date().addingTimeInterval(30)
        var seen: [Int: [String]] = [:]
        while Date() < deadline {
            for node in [1, 2, 3] { seen[node] = try await ids(cluster, on: node) }
            if seen.values.allSatisfy({ $0 == running }) { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        for node in [1, 2, 3] {
            XCTAssertEqual(seen[node], running, "node \(node) holds exactly the running instances\n\(cluster.logTails())")
        }
        let purgedLines = cluster.log(leader).split(separator: "\n").filter { $0.contains("purged finished instances") }
        XCTAssertFalse(purgedLines.isEmpty, "the leader logs what it purged")
        let (gone, _) = try await cluster.request("GET", 2, "/v1/instances/s0?stale=true")
        XCTAssertEqual(gone, 404, "a purged instance is unknown")
    }
}
