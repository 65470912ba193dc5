import Raft
import RaftSimulation
import XCTest

/// Leadership transfer and ReadIndex.
final class LeadershipAndReadTests: XCTestCase {
    /// Transfer to a follower that is behind: the leader first brings it up to date, then
    /// tells it to campaign; proposals are refused meanwhile.
    func testLeadershipTransferToLaggingFollower() throws {
        var sim = try cluster([1, 2, 3])
        let leader = try sim.waitForLeader(withinTicks: 50)
        let target = [NodeID](1...3).first { $0 != leader }!
        sim.isolate(target)
        for _ in 0..<3 { try sim.commitAtLeader(10) }
        XCTAssertLessThan(sim.node(target).storage.lastIndex, sim.node(leader).storage.lastIndex)

        // Action: the partition heals and the leader is asked to hand over to the laggard.
        sim.heal()
        guard case .success = try sim.transferLeadership(from: leader, to: target) else {
            return XCTFail("transfer accepted")
        }
        if case .failure(let error) = try sim.propose(at: leader) {
            XCTAssertEqual(error, .leadershipTransferInProgress)
        } else {
            XCTFail("a leader handing over refuses proposals")
        }

        // Expectation: the target leads, holding every committed entry, and commits.
        let moved = try sim.run(untilWithinTicks: 30) { $0.stableLeader == target }
        XCTAssertTrue(moved, "leadership moved: \(sim.roleSummary)")
        try sim.commitAtLeader(3)
    }

    /// A leader cut off with a minority does not know it was deposed. Reads asked of it
    /// (or of its follower) are never confirmed: confirming one would serve a stale value,
    /// since the majority has committed newer entries meanwhile.
    func testReadIndexFromDeposedLeaderIsNeverServedStale() throws {
        // Without check-quorum the old leader keeps believing it leads.
        var sim = try cluster([1, 2, 3, 4, 5]) { $0.raft.checkQuorum = false }
        let old = try sim.waitForLeader(withinTicks: 50)
        try sim.commitAtLeader(2)
        let others = [NodeID](1...5).filter { $0 != old }
        let minority = [old, others[0]]
        let majority = Array(others.dropFirst())

        // Action: the old leader and one follower are cut off from the other three,
        // which elect a new leader and commit new entries.
        sim.partition([minority, majority])
        let elected = try sim.run(untilWithinTicks: 80) { sim in
            majority.contains { sim.status($0)?.role == .leader }
        }
        XCTAssertTrue(elected)
        let new = majority.first { sim.status($0)?.role == .leader }!
        for _ in 0..<3 { _ = try sim.propose(at: new) }
        try sim.run(ticks: 5)
        XCTAssertEqual(sim.status(old)?.role, .leader, "the old leader does not know yet")

        // Action: reads at the deposed leader and at its follower.
        let atOld = try sim.requestRead(at: old)
        let viaFollower = try sim.requestRead(at: minority[1])
        try sim.run(ticks: 30)

        // Expectation: neither is confirmed (the checker would flag a stale one).
        XCTAssertEqual(sim.read(atOld).state, .waiting)
        XCTAssertEqual(sim.read(viaFollower).state, .waiting)

        // Action: heal; read at the new leader. Expectation: served, and fresh.
        sim.heal()
        try sim.run(ticks: 20)
        XCTAssertNotEqual(sim.status(old)?.role, .leader)
        let fresh = try sim.requestRead(at: new)
        try sim.run(ticks: 5)
        guard case .served(let index, _) = sim.read(fresh).state else {
            return XCTFail("read at the new leader served: \(sim.read(fresh).state)")
        }
        XCTAssertGreaterThanOrEqual(index, sim.read(fresh).mustSee)
    }

    /// A follower's read goes through the leader and is served once the follower applied
    /// the read point.
    func testFollowerReadIsServedAfterApplyingReadPoint() throws {
        var sim = try cluster([1, 2, 3])
        let leader = try sim.waitForLeader(withinTicks: 50)
        try sim.commitAtLeader(4)
        let follower = [NodeID](1...3).first { $0 != leader }!
        let context = try sim.requestRead(at: follower)
        try sim.run(ticks: 3)
        guard case .served(let index, let applied) = sim.read(context).state else {
            return XCTFail("follower read served: \(sim.read(context).state)")
        }
        XCTAssertGreaterThanOrEqual(index, sim.read(context).mustSee)
        XCTAssertGreaterThanOrEqual(applied, index)
    }
}
