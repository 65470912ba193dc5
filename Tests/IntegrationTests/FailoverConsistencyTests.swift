import Foundation
import XCTest

/// Many concurrent submitters, each with its own instance, while the leader is killed with
/// SIGKILL several times. Afterwards every acknowledged transition is in its instance's
/// history exactly once, every node has the same histories, and each instance's states form
/// a valid path of the cookbook workflow (first → second → third → first).
final class FailoverConsistencyTests: XCTestCase {
    struct Acknowledged: Sendable {
        let instance: String
        let requestID: String
        let to: String
    }

    static let next = ["first": "second", "second": "third", "third": "first"]

    func testAcknowledgedTransitionsSurviveRepeatedLeaderKillsExactlyOnce() async throws {
        let cluster = try ProcessCluster(count: 3)
        defer { cluster.stop() }
        try cluster.startAll()
        let firstLeader = try await cluster.waitForLeader()
        try await cluster.waitForWorkflow(on: firstLeader)
        let submitters = 6
        let stop = Date().addingTimeInterval(14)
        for s in 0..<submitters {
            let (status, body) = try await cluster.requestUntilAvailable("POST", 1 + s % 3, "/v1/instances",
                                                                         ["workflow": "cookbook", "id": "w\(s)", "request_id": "start-w\(s)"],
                                                                         timeout: 30)
            XCTAssertEqual(status, 201, "\(body)")
        }
        async let acknowledged: [Acknowledged] = withTaskGroup(of: [Acknowledged].self) { group in
            for s in 0..<submitters {
                group.addTask { await Self.submitLoop(cluster, instance: "w\(s)", until: stop) }
            }
            var all: [Acknowledged] = []
            for await part in group { all += part }
            return all
        }
        // The nemesis: kill the leader three times, restarting it each time.
        for _ in 0..<3 {
            try await Task.sleep(for: .seconds(2))
            guard let leader = try? await cluster.waitForLeader(among: cluster.running, timeout: 10) else { continue }
            cluster.kill9(leader)
            try await Task.sleep(for: .milliseconds(1500))
            try cluster.start(leader)
        }
        let acks = await acknowledged
        XCTAssertGreaterThan(acks.count, 20, "submitters made progress through the failovers")

        // Converge: wait until every node has applied the same index.
        let leader = try await cluster.waitForLeader(timeout: 30)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            var applied: Set<Int> = []
            for id in [1, 2, 3] {
                if let (_, health) = try? await cluster.request("GET", id, "/v1/health") { applied.insert(health["applied_index"] as? Int ?? -1) }
            }
            let (_, leaderHealth) = try await cluster.request("GET", leader, "/v1/health")
            if applied.count == 1, applied.first == leaderHealth["commit_index"] as? Int { break }
            try await Task.sleep(for: .milliseconds(200))
        }

        for s in 0..<submitters {
            let instance = "w\(s)"
            var histories: [[String]] = []
            var entriesOnLeader: [[String: Any]] = []
            for id in [1, 2, 3] {
                let entries = try await cluster.history(of: instance, on: id) ?? []
                XCTAssertFalse(entries.isEmpty, "node \(id): history of \(instance)")
                histories.append(entries.map { "\($0["index"] ?? "")|\($0["request_id"] ?? "")|\($0["to"] ?? "")" })
                if id == leader { entriesOnLeader = entries }
            }
            XCTAssertEqual(histories[0], histories[1], "\(instance): nodes 1 and 2 agree")
            XCTAssertEqual(histories[0], histories[2], "\(instance): nodes 1 and 3 agree")
            // A valid path of the workflow.
            let states = entriesOnLeader.compactMap { $0["to"] as? String }
            XCTAssertEqual(states.first, "first")
            for (a, b) in zip(states, states.dropFirst()) {
                XCTAssertEqual(Self.next[a], b, "\(instance): \(a) → \(b) is not a cookbook transition")
            }
            // Every acknowledged transition exactly once.
            let requestIDs = entriesOnLeader.compactMap { $0["request_id"] as? String }
            for ack in acks where ack.instance == instance {
                XCTAssertEqual(requestIDs.filter { $0 == ack.requestID }.count, 1, "\(instance): \(ack.requestID) appears once")
            }
        }
    }

    /// Moves `instance` around the cookbook cycle until `until`, retrying each request with
    /// the same request id (through any node) until it gets a definite answer.
    static func submitLoop(_ cluster: ProcessCluster, instance: String, until: Date) async -> [Acknowledged] {
        var acknowledged: [Acknowledged] = []
        var state = "first"
        var sequence = 0
        var node = 1
        while Date() < until {
            sequence += 1
            let requestID = "\(instance)-\(sequence)"
            let target = next[state]!
            var answer: (Int, [String: Any])?
            let giveUp = Date().addingTimeInterval(30)
            while answer == nil && Date() < giveUp {
                node = node % 3 + 1
                if let result = try? await cluster.request("POST", node, "/v1/instances/\(instance)/transitions",
                                                           ["to": target, "expect": state, "request_id": requestID], timeout: 5),
                   result.0 != 503 && result.0 != 504 {
                    answer = result
                } else {
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
            guard let (status, body) = answer else { break }
            if status == 200, body["state"] as? String == target {
                acknowledged.append(Acknowledged(instance: instance, requestID: requestID, to: target))
                state = target
            } else {
                // A definite rejection: re-read the state and go on from there.
                if let (_, current) = try? await cluster.request("GET", node, "/v1/instances/\(instance)"),
                   let now = current["state"] as? String { state = now }
            }
        }
        return acknowledged
    }
}
