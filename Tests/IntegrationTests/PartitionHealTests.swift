import Foundation
import XCTest

/// How soon a node cut off from the cluster follows the leader again once the network is
/// back, with `serve`'s default tick (100 ms: heartbeats every 100 ms, election timeout 1–2 s).
final class PartitionHealTests: XCTestCase {
    /// Isolates `follower` for `seconds`, heals, and returns the seconds until its
    /// /v1/health names `leader` again.
    private func isolateAndHeal(_ cluster: ProcessCluster, follower: Int, leader: Int, blackhole: Bool,
                                seconds: Double = 4) async throws -> Double {
        if blackhole { cluster.blackhole(follower) } else { cluster.isolate(follower) }
        let cutAt = Date()
        var lostLeader = false
        while Date().timeIntervalSince(cutAt) < seconds {
            if let (status, health) = try? await cluster.request("GET", follower, "/v1/health", timeout: 1) {
                if status != 200 || (health["leader"] as? Int ?? 0) != leader { lostLeader = true }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTAssertTrue(lostLeader, "the isolated follower lost the leader (the cut works)")
        cluster.healAll()
        let healedAt = Date()
        while Date().timeIntervalSince(healedAt) < 20 {
            if let (status, health) = try? await cluster.request("GET", follower, "/v1/health", timeout: 1),
               status == 200, health["leader"] as? Int == leader {
                return Date().timeIntervalSince(healedAt)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        XCTFail("node \(follower) did not follow leader \(leader) within 20 s of the heal\n\(cluster.logTails(lines: 30))")
        return 20
    }

    func testIsolatedFollowerFollowsTheLeaderSoonAfterTheHeal() async throws {
        let cluster = try ProcessCluster(count: 3, tickMillis: 100)
        defer { cluster.stop() }
        try cluster.withProxies()
        try cluster.startAll()
        let leader = try await cluster.waitForLeader(timeout: 30)
        let follower = [1, 2, 3].first { $0 != leader }!
        // PARTITION_HEAL_ROUNDS=N repeats both cuts N times (default once), to measure many heals.
        let rounds = max(1, ProcessInfo.processInfo.environment["PARTITION_HEAL_ROUNDS"].flatMap { Int($0) } ?? 1)
        var took: [String: [Double]] = [:]
        for _ in 0..<rounds {
            // A partition that drops packets (connections stay open and carry nothing), then one
            // that resets them.
            for blackhole in [true, false] {
                let seconds = try await isolateAndHeal(cluster, follower: follower, leader: leader, blackhole: blackhole)
                let kind = blackhole ? "blackholed" : "reset"
                took[kind, default: []].append(seconds)
                print("partition heal (\(kind), 4 s, tick 100 ms): node \(follower) follows leader \(leader) \(String(format: "%.3f", seconds)) s after the heal")
                // Target ≤ 0.3 s (a heartbeat plus a reconnect); the bound leaves room for a loaded machine.
                XCTAssertLessThan(seconds, 1.5, "\(kind): node \(follower) followed the leader \(seconds) s after the heal\n\(cluster.logTails(lines: 30))")
                let current = try await cluster.waitForLeader(timeout: 30)
                XCTAssertEqual(current, leader, "pre-vote and check-quorum: the rejoining follower did not depose the leader")
            }
        }
        for (kind, samples) in took.sorted(by: { $0.key < $1.key }) where samples.count > 1 {
            let sorted = samples.sorted()
            print("partition heal (\(kind)): \(sorted.count) heals, median "
                + String(format: "%.3f s, max %.3f s", sorted[sorted.count / 2], sorted.last!))
        }
    }
}
