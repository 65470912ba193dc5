import Foundation
import XCTest

/// Five real processes whose links run through test-controlled TCP proxies.
final class PartitionTests: XCTestCase {
    func testPartitionedLeaderStepsDownMajorityCommitsAndAllConvergeOnHeal() async throws {
        let cluster = try ProcessCluster(count: 5)
        defer { cluster.stop() }
        try cluster.withProxies()
        try cluster.startAll()
        let oldLeader = try await cluster.waitForLeader()
        try await cluster.waitForWorkflow(on: oldLeader)
        var (status, body) = try await cluster.requestUntilAvailable("POST", oldLeader, "/v1/instances",
                                                                     ["workflow": "cookbook", "id": "p"])
        XCTAssertEqual(status, 201, "\(body)")

        cluster.isolate(oldLeader)
        let majority = [1, 2, 3, 4, 5].filter { $0 != oldLeader }
        let newLeader = try await cluster.waitForLeader(among: majority, timeout: 30)
        XCTAssertNotEqual(newLeader, oldLeader)
        (status, body) = try await cluster.requestUntilAvailable("POST", newLeader, "/v1/instances/p/transitions",
                                                                 ["transition": "second"])
        XCTAssertEqual(status, 200, "the majority side keeps committing: \(body)")

        // Check-quorum: the isolated leader steps down on its own.
        var stepped = false
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline && !stepped {
            if let (_, health) = try? await cluster.request("GET", oldLeader, "/v1/health") {
                stepped = health["role"] as? String != "leader"
            }
            if !stepped { try await Task.sleep(for: .milliseconds(100)) }
        }
        XCTAssertTrue(stepped, "the isolated old leader stepped down")

        cluster.healAll()
        let agreed = try await cluster.waitForLeader(among: [1, 2, 3, 4, 5], timeout: 30)
        XCTAssertNotEqual(agreed, oldLeader, "the old leader, whose log is behind, did not take over")
        var state: String?
        let converge = Date().addingTimeInterval(20)
        while Date() < converge && state != "second" {
            if let (_, instance) = try? await cluster.request("GET", oldLeader, "/v1/instances/p?stale=true") {
                state = instance["state"] as? String
            }
            if state != "second" { try await Task.sleep(for: .milliseconds(100)) }
        }
        XCTAssertEqual(state, "second", "the old leader converged on the majority's history")
    }
}
