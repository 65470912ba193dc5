import Raft
import RaftSimulation
import XCTest

/// Elections and partitions: who leads, and what happens to entries nobody committed.
final class ElectionScenarioTests: XCTestCase {
    /// The leader crashes; the rest elect a new one that has every committed entry, and the
    /// old leader catches up when it returns.
    func testReelectionAfterLeaderLoss() throws {
        for size in [3, 5] {
            var sim = try cluster((1...NodeID(size)).map { $0 }, seed: UInt64(size))
            let first = try sim.waitForLeader(withinTicks: 50)
            let firstTerm = sim.status(first)!.term
            try sim.commitAtLeader(5)

            // Action: the leader crashes.
            sim.crash(first)

            // Expectation: another node leads a later term and commits new proposals.
            let second = try sim.waitForLeader(withinTicks: 60)
            XCTAssertNotEqual(second, first)
            XCTAssertGreaterThan(sim.status(second)!.term, firstTerm)
            try sim.commitAtLeader(5)

            // Action: the old leader restarts. Expectation: it follows and catches up.
            try sim.restart(first)
            try sim.run(ticks: 20)
            XCTAssertEqual(sim.status(first)?.role, .follower)
            XCTAssertEqual(sim.node(first).applied?.index, sim.node(second).applied?.index)
        }
    }

    /// With a majority down, nothing commits; once a majority is back, it does.
    func testNoAgreementWithoutQuorum() throws {
        var sim = try cluster([1, 2, 3, 4, 5])
        let leader = try sim.waitForLeader(withinTicks: 50)
        try sim.commitAtLeader(3)
        let committed = sim.committedIndex
        let followers = [NodeID](1...5).filter { $0 != leader }

        // Action: three followers crash; the leader is asked to commit more.
        for id in followers.prefix(3) { sim.crash(id) }
        let ids = try sim.proposeAtLeader(count: 3)
        XCTAssertEqual(ids.count, 3, "a leader accepts proposals it cannot yet commit")
        try sim.run(ticks: 60)

        // Expectation: no agreement: the commit index does not move, nothing is lost.
        XCTAssertEqual(sim.committedIndex, committed)
        XCTAssertTrue(ids.allSatisfy { sim.proposal($0).outcome == .pending })
        // With check-quorum the leader gave up leading.
        XCTAssertNil(sim.leader)

        // Action: one follower returns: three of five are up again.
        try sim.restart(followers[0])

        // Expectation: a leader emerges and the cluster commits again.
        try sim.waitForLeader(withinTicks: 100)
        try sim.commitAtLeader(2)
        XCTAssertGreaterThan(sim.committedIndex, committed)
    }

    /// An isolated leader keeps accepting proposals it cannot commit; the majority elects
    /// a new leader and moves on; when the old leader rejoins, its uncommitted entries are
    /// overwritten and its proposals reported lost.
    func testPartitionedOldLeaderRejoinsAndItsUncommittedEntriesAreOverwritten() throws {
        var sim = try cluster([1, 2, 3, 4, 5])
        let old = try sim.waitForLeader(withinTicks: 50)
        try sim.commitAtLeader(3)

        // Action: the leader is cut off and takes three proposals it cannot commit.
        sim.isolate(old)
        let orphaned = try sim.proposeAtLeader(count: 3)
        XCTAssertEqual(orphaned.count, 3)
        XCTAssertTrue(orphaned.allSatisfy { sim.proposal($0).node == old })

        // The majority elects a new leader and commits its own entries at the same indexes.
        let majority = try sim.run(untilWithinTicks: 80) { sim in
            if let leader = sim.leader, leader != old { return true }
            return false
        }
        XCTAssertTrue(majority)
        let new = sim.leader!
        XCTAssertNotEqual(new, old)
        try sim.commitAtLeader(5)

        // Action: the partition heals.
        sim.heal()
        try sim.run(ticks: 30)

        // Expectation: the old leader follows, holds the new leader's log, and every
        // proposal it took in isolation was lost (never applied anywhere).
        XCTAssertNotEqual(sim.status(old)?.role, .leader)
        XCTAssertEqual(sim.log(old).map(\.term), sim.log(new).map(\.term))
        for id in orphaned { XCTAssertEqual(sim.proposal(id).outcome, .lost, "proposal \(id)") }
    }

    /// Pre-vote: a follower cut off for a long time keeps timing out but, without a
    /// majority's pre-votes, never raises its term; when it returns the leader stays.
    func testDisruptiveRejoiningNodeWithPreVoteDoesNotInflateTerms() throws {
        var sim = try cluster([1, 2, 3])
        let leader = try sim.waitForLeader(withinTicks: 50)
        let term = sim.status(leader)!.term
        let loner = [NodeID](1...3).first { $0 != leader }!

        // Action: one follower is isolated for ten election timeouts, then returns.
        sim.isolate(loner)
        try sim.run(ticks: 100)
        XCTAssertEqual(sim.status(loner)?.term, term, "pre-vote kept the isolated node's term")
        sim.heal()
        try sim.run(ticks: 30)

        // Expectation: same leader, same term, everyone following it.
        XCTAssertEqual(sim.leader, leader)
        for id: NodeID in 1...3 { XCTAssertEqual(sim.status(id)?.term, term, "term of node \(id)") }
        try sim.commitAtLeader(2)
    }

    /// The contrast: without pre-vote, the same isolated follower inflates its term and
    /// deposes the healthy leader when it returns.
    func testWithoutPreVoteRejoiningNodeInflatesTerms() throws {
        var sim = try cluster([1, 2, 3]) { $0.raft.preVote = false }
        let leader = try sim.waitForLeader(withinTicks: 50)
        let term = sim.status(leader)!.term
        let loner = [NodeID](1...3).first { $0 != leader }!
        sim.isolate(loner)
        try sim.run(ticks: 100)
        XCTAssertGreaterThan(sim.status(loner)!.term, term + 3)
        sim.heal()
        try sim.waitForLeader(withinTicks: 80)
        XCTAssertGreaterThan(sim.status(sim.leader!)!.term, term + 3, "the returning node forced a new election")
    }
}
