import Foundation
import XCTest

/// The probes on real processes: a follower cut off from its peers loses its leader and says
/// so on `/readyz` (503) while `/livez` stays 200 — it needs no restart — and it is ready again
/// once the links heal. The rest of the cluster stays ready throughout.
final class ProbeProcessTests: XCTestCase {
    /// Polls `/readyz?verbose` on `id` until it answers `status`; returns the last answer.
    private func readyz(_ cluster: ProcessCluster, _ id: Int, until status: Int, within seconds: Double,
                        alsoCheckLive: Bool = true) async throws -> (Int, String) {
        let deadline = Date().addingTimeInterval(seconds)
        var last: (Int, String) = (0, "")
        while true {
            last = (try? await cluster.text(id, "/readyz?verbose")) ?? (0, "no answer")
            if alsoCheckLive {
                let live = try await cluster.text(id, "/livez")
                XCTAssertEqual(live.0, 200, "node \(id) stays live: \(live.1)")
            }
            if last.0 == status || Date() > deadline { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func testReadyzFlipsOnANodeCutOffFromItsPeersAndBackAfterTheHealWhileLivezStaysOk() async throws {
        let cluster = try ProcessCluster(count: 3)
        defer { cluster.stop() }
        try cluster.withProxies()
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        for id in [1, 2, 3] {
            let (status, body) = try await readyz(cluster, id, until: 200, within: 10)
            XCTAssertEqual(status, 200, "node \(id) is ready once a leader is known: \(body)")
            XCTAssertTrue(body.hasSuffix("readyz check passed\n"), body)
            let live = try await cluster.text(id, "/livez")
            XCTAssertEqual(live.0, 200)
            XCTAssertEqual(live.1, "ok")
        }

        let follower = [1, 2, 3].first { $0 != leader }!
        cluster.isolate(follower)
        // --tick-ms 30: the follower's election timeout (0.3–0.6 s) passes without a heartbeat,
        // it starts a pre-vote and forgets its leader.
        let (cutStatus, cutBody) = try await readyz(cluster, follower, until: 503, within: 10)
        XCTAssertEqual(cutStatus, 503, "the cut-off node is not ready: \(cutBody)\n\(cluster.log(follower))")
        XCTAssertTrue(cutBody.contains("[-]leader failed: no leader is known"), cutBody)
        XCTAssertTrue(cutBody.contains("[+]node_loop ok\n") && cutBody.contains("[+]storage ok\n"), cutBody)
        XCTAssertTrue(cutBody.hasSuffix("readyz check failed\n"), cutBody)
        for id in [1, 2, 3] where id != follower {
            let (status, body) = try await cluster.text(id, "/readyz")
            XCTAssertEqual(status, 200, "node \(id), still in the majority, stays ready: \(body)")
        }

        cluster.healAll()
        let (healedStatus, healedBody) = try await readyz(cluster, follower, until: 200, within: 15)
        XCTAssertEqual(healedStatus, 200, "ready again after the heal: \(healedBody)\n\(cluster.logTails())")
        let (plainStatus, plainBody) = try await cluster.text(follower, "/readyz")
        XCTAssertEqual(plainStatus, 200)
        XCTAssertEqual(plainBody, "ok")
    }
}
