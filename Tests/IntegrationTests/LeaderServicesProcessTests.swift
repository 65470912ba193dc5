import Foundation
import XCTest

/// Leader services on real processes: they start on the node that wins an election, stop on
/// a leader cut off from its peers (check-quorum) within an election timeout or two, and
/// workflow registration happens once per changed file however often leadership moves.
final class LeaderServicesProcessTests: XCTestCase {
    private func lines(_ cluster: ProcessCluster, _ id: Int, containing text: String) -> Int {
        cluster.log(id).split(separator: "\n").filter { $0.contains(text) }.count
    }

    private func waitFor(_ timeout: Double, _ condition: () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    private func versions(_ cluster: ProcessCluster, on id: Int) async throws -> Int {
        let (status, body) = try await cluster.requestUntilAvailable("GET", id, "/v1/workflows/cookbook")
        XCTAssertEqual(status, 200, "\(body)")
        return (body["versions"] as? [Any])?.count ?? -1
    }

    func testServicesFollowLeadershipAndRegistrationHappensOnceAcrossLeaderChanges() async throws {
        let cluster = try ProcessCluster(count: 3)
        defer { cluster.stop() }
        try cluster.withProxies()
        try cluster.startAll()
        let first = try await cluster.waitForLeader()
        try await cluster.waitForWorkflow(on: first)
        let started = try await waitFor(10) { self.lines(cluster, first, containing: "leader services starting") >= 1 }
        XCTAssertTrue(started, "the leader started its services:\n\(cluster.log(first))")
        for id in [1, 2, 3] where id != first {
            XCTAssertEqual(lines(cluster, id, containing: "leader services starting"), 0, "follower \(id) runs no leader services")
        }
        XCTAssertEqual(lines(cluster, first, containing: "registered workflow"), 1)

        // Cut the leader off: check-quorum deposes it, and its services stop with it.
        let isolatedAt = Date()
        cluster.isolate(first)
        let stopped = try await waitFor(15) { self.lines(cluster, first, containing: "leader services stopped") >= 1 }
        let took = Date().timeIntervalSince(isolatedAt)
        XCTAssertTrue(stopped, "the isolated leader stopped its services:\n\(cluster.log(first))")
        // --tick-ms 30 and 10 election ticks: an election timeout is 0.3–0.6 s. A leader notices
        // it lost its quorum at its next check, at most two timeouts after isolation.
        XCTAssertLessThan(took, 2.5, "leader services stopped \(took) s after isolation")
        print("leader services stopped \(String(format: "%.3f", took)) s after the leader was isolated")

        let second = try await cluster.waitForLeader(among: [1, 2, 3].filter { $0 != first }, timeout: 30)
        let secondStarted = try await waitFor(10) { self.lines(cluster, second, containing: "leader services starting") >= 1 }
        XCTAssertTrue(secondStarted)
        cluster.healAll()

        // Kill the second leader too: a third term, a third start of the services.
        let startsBefore = [1, 2, 3].map { lines(cluster, $0, containing: "leader services starting") }
        cluster.kill9(second)
        let third = try await cluster.waitForLeader(among: [1, 2, 3].filter { $0 != second }, timeout: 30)
        let thirdStarted = try await waitFor(10) {
            self.lines(cluster, third, containing: "leader services starting") > startsBefore[third - 1]
        }
        XCTAssertTrue(thirdStarted)
        let versions = try await versions(cluster, on: third)
        XCTAssertEqual(versions, 1, "the unchanged workflow file was registered once, across three leaders")
        var registrations = 0
        for id in [1, 2, 3] { registrations += lines(cluster, id, containing: "registered workflow") }
        XCTAssertEqual(registrations, 1, "no later leader proposed the unchanged definition again")
    }
}
