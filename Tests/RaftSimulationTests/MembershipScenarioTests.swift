import Raft
import RaftSimulation
import XCTest

/// Membership changes, one at a time.
final class MembershipScenarioTests: XCTestCase {
    /// The leader removes itself: once the change commits it steps down, the others elect
    /// a leader among themselves and keep committing.
    func testLeaderRemoval() throws {
        var sim = try cluster([1, 2, 3])
        let leader = try sim.waitForLeader(withinTicks: 50)
        try sim.commitAtLeader(3)

        // Action: the leader proposes its own removal.
        guard case .success = try sim.proposeConfigChange(.remove(leader), at: leader) else {
            return XCTFail("the leader accepts its own removal")
        }
        try sim.run(untilWithinTicks: 30) { !$0.committedConfiguration.voters.contains(leader) }

        // Expectation: it is no longer a voter, no longer leads; a new leader emerges.
        XCTAssertFalse(sim.committedConfiguration.voters.contains(leader))
        XCTAssertNotEqual(sim.status(leader)?.role, .leader)
        sim.retire(leader)
        let next = try sim.waitForLeader(withinTicks: 60)
        XCTAssertNotEqual(next, leader)
        try sim.commitAtLeader(3)
        XCTAssertEqual(sim.committedConfiguration.voters.count, 2)
    }

    /// A new node joins as a learner, catches up (by snapshot: the log was compacted),
    /// never votes, and is then promoted to a voter that counts towards the quorum.
    func testAddLearnerCatchUpAndPromote() throws {
        var sim = try cluster([1, 2, 3]) { options in
            options.snapshotEveryEntries = 10
            options.snapshotRetainEntries = 2
            options.snapshotPaddingBytes = 400
        }
        let leader = try sim.waitForLeader(withinTicks: 50)
        for _ in 0..<5 { try sim.commitAtLeader(10) }

        // Action: node 4 starts empty and is added as a learner.
        try sim.addNode(4)
        guard case .success = try sim.proposeConfigChange(.addLearner(4), at: leader) else {
            return XCTFail("the leader accepts a learner")
        }
        let caughtUp = try sim.run(untilWithinTicks: 60) { sim in
            sim.committedConfiguration.learners.contains(4) && sim.node(4).applied?.index == sim.node(leader).applied?.index
        }

        // Expectation: it caught up, as a learner, without ever campaigning.
        XCTAssertTrue(caughtUp)
        XCTAssertEqual(sim.status(4)?.configuration.learners, [4])
        XCTAssertEqual(sim.status(4)?.term, sim.status(leader)?.term)
        XCTAssertEqual(sim.status(4)?.role, .follower)

        // Action: it is promoted.
        guard case .success = try sim.proposeConfigChange(.addVoter(4), at: leader) else {
            return XCTFail("the leader promotes the learner")
        }
        try sim.run(untilWithinTicks: 30) { $0.committedConfiguration.voters.contains(4) }
        XCTAssertEqual(sim.committedConfiguration.voters, [1, 2, 3, 4])

        // Expectation: with two original members down, the quorum of three needs node 4.
        let others = [NodeID](1...3).filter { $0 != leader }
        sim.crash(others[0])
        try sim.commitAtLeader(3)
        sim.crash(others[1])
        let stuck = try sim.proposeAtLeader(count: 1)
        try sim.run(ticks: 5)
        XCTAssertTrue(stuck.allSatisfy { sim.proposal($0).outcome == .pending }, "two of four voters cannot commit")
        try sim.healAndCheckLiveness(withinTicks: 200)
    }

    /// A member is cut off while a change commits without it; when it returns it learns
    /// the new membership from the log.
    func testMembershipChangeWhileMemberPartitioned() throws {
        var sim = try cluster([1, 2, 3, 4, 5])
        let leader = try sim.waitForLeader(withinTicks: 50)
        try sim.commitAtLeader(2)
        let cutOff = [NodeID](1...5).last { $0 != leader }!
        let removed = [NodeID](1...5).first { $0 != leader && $0 != cutOff }!

        // Action: one member is isolated; another is removed; a new node is added and promoted.
        sim.isolate(cutOff)
        guard case .success = try sim.proposeConfigChange(.remove(removed), at: leader) else {
            return XCTFail("removal accepted")
        }
        try sim.run(untilWithinTicks: 30) { !$0.committedConfiguration.members.contains(removed) }
        sim.retire(removed)
        try sim.addNode(6)
        _ = try sim.proposeConfigChange(.addLearner(6), at: leader)
        try sim.run(untilWithinTicks: 30) { $0.committedConfiguration.learners.contains(6) }
        // The leader promotes a learner only once it is in sync (RaftConfig.promotionLagEntriesMax).
        try sim.run(untilWithinTicks: 60) { $0.node(6).applied?.index == $0.node(leader).applied?.index }
        guard case .success = try sim.proposeConfigChange(.addVoter(6), at: leader) else {
            return XCTFail("the caught-up learner is promoted")
        }
        try sim.run(untilWithinTicks: 30) { $0.committedConfiguration.voters.contains(6) }
        XCTAssertEqual(sim.committedConfiguration.voters, Set([NodeID](1...6)).subtracting([removed]))

        // Action: the partition heals.
        sim.heal()
        try sim.commitAtLeader(2)
        try sim.run(ticks: 20)

        // Expectation: the returning member sees the membership the log committed.
        XCTAssertEqual(sim.status(cutOff)?.configuration, sim.committedConfiguration)
        XCTAssertEqual(sim.node(cutOff).applied, sim.node(leader).applied)
    }
}
