import Foundation
import XCTest

/// `serve --batch-delay`: three real nodes holding transitions to batch them still apply
/// every acknowledged transition exactly once, in order, on every node.
final class BatchDelayProcessTests: XCTestCase {
    func testConcurrentSubmittersWithABatchDelayLoseAndDoubleNothing() async throws {
        let cluster = try ProcessCluster(count: 3, extraArguments: ["--batch-delay", "5ms"])
        defer { cluster.stop() }
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        try await cluster.waitForWorkflow(on: leader)
        XCTAssertTrue(cluster.log(leader).contains("held up to 5ms"), "the leader says it batches:\n\(cluster.log(leader))")

        let submitters = 8
        let rounds = 30
        for s in 0..<submitters {
            let (status, body) = try await cluster.requestUntilAvailable("POST", leader, "/v1/instances",
                                                                         ["workflow": "cookbook", "id": "b\(s)"])
            XCTAssertEqual(status, 201, "\(body)")
        }
        let ring = ["second", "third", "first"]
        // Each submitter moves its own instance around the ring; every answer must be a 200
        // with the state it asked for (no retries: with one leader and no faults none is needed).
        let failures = try await withThrowingTaskGroup(of: [String].self) { group in
            for s in 0..<submitters {
                group.addTask {
                    var failures: [String] = []
                    for r in 0..<rounds {
                        let target = ring[r % 3]
                        let (status, body) = try await cluster.request("POST", leader, "/v1/instances/b\(s)/transitions",
                                                                       ["transition": target, "request_id": "b\(s)-\(r)"])
                        if status != 200 || body["state"] as? String != target { failures.append("b\(s) round \(r): \(status) \(body)") }
                    }
                    return failures
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        XCTAssertEqual(failures, [], "every transition was acknowledged")

        let expected = ["first"] + (0..<rounds).map { ring[$0 % 3] }
        for node in 1...3 {
            for s in 0..<submitters {
                var states: [String] = []
                let deadline = Date().addingTimeInterval(15)
                while Date() < deadline {
                    let entries = try await cluster.history(of: "b\(s)", on: node) ?? []
                    states = entries.compactMap { $0["to"] as? String }
                    if states.count >= expected.count { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                XCTAssertEqual(states, expected, "node \(node), instance b\(s): each acknowledged transition once, in order")
            }
        }
    }

    func testABadBatchDelayIsOneLineAndExitTwo() throws {
        let cluster = try ProcessCluster(count: 1)
        defer { cluster.stop() }
        let run = try cluster.cli(["serve", "--in-memory", "--batch-delay", "50ms"])
        XCTAssertEqual(run.status, 2)
        XCTAssertEqual(run.stderr, "error: --batch-delay: '50ms' is not a delay between 0 and 20ms, such as 2ms, 500us or 0\n")
        let threads = try cluster.cli(["serve", "--in-memory", "--http-threads", "0"])
        XCTAssertEqual(threads.status, 2)
        XCTAssertEqual(threads.stderr, "error: --http-threads: 0 threads is out of range: use 1 to 256\n")
    }
}
