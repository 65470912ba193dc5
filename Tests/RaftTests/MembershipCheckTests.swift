import XCTest
@testable import Raft

/// The leader's availability checks on membership changes (RaftNode+Membership.swift):
/// a learner is promoted only in sync, and no change may leave the live voters short of a
/// quorum of the new configuration (strict reconfiguration). Every scenario is a
/// deterministic `TestCluster`; default settings are 10 election ticks and 1,000 entries.
final class MembershipCheckTests: XCTestCase {
    /// A cluster of three with learner 4 added while it was down: it never answered.
    private func clusterWithSilentLearner(tweak: @escaping (inout RaftConfig) -> Void = { _ in }) throws -> TestCluster {
        var c = TestCluster(voters: [1, 2, 3], tweak: tweak)
        c.elect(1)
        _ = try c.propose(1, "a")
        c.addNode(4, tweak: tweak)
        c.crash(4)
        _ = try c.nodes[1]!.proposeConfigChange(.addLearner(4))
        c.stabilize()
        c.tick(2)
        XCTAssertEqual(c.nodes[1]!.status.configuration.learners, [4])
        return c
    }

    func testPromotingALearnerThatNeverAnsweredIsRefused() throws {
        var c = try clusterWithSilentLearner()
        let lastBefore = c.nodes[1]!.status.lastIndex
        XCTAssertThrowsError(try c.nodes[1]!.proposeConfigChange(.addVoter(4))) { error in
            guard case .learnerNotReady(let lag)? = error as? ProposalError else { return XCTFail("\(error)") }
            XCTAssertEqual(lag, LearnerLag(learner: 4, match: 0, leaderLastIndex: lastBefore, lagEntriesMax: 1_000, isLive: false))
            XCTAssertFalse(lag.isReady)
            XCTAssertTrue(lag.description.contains("its match index is 0"), lag.description)
        }
        XCTAssertEqual(c.nodes[1]!.status.lastIndex, lastBefore, "a refused change appends nothing")
        XCTAssertEqual(c.nodes[1]!.status.progress[4]?.isLive, false)
    }

    func testALearnerThatCaughtUpIsPromoted() throws {
        var c = try clusterWithSilentLearner()
        c.restart(4)
        c.tick(2)
        XCTAssertEqual(c.nodes[1]!.status.progress[4]?.match, c.nodes[1]!.status.lastIndex)
        _ = try c.nodes[1]!.proposeConfigChange(.addVoter(4))
        c.stabilize()
        XCTAssertEqual(c.nodes[1]!.status.configuration.voters, [1, 2, 3, 4])
    }

    /// Live (it answers heartbeats) but more than `promotionLagEntriesMax` entries behind:
    /// refused until it has caught up.
    func testALiveLearnerTooFarBehindIsRefusedUntilItCatchesUp() throws {
        let tweak: (inout RaftConfig) -> Void = {
            $0.maxEntriesPerMessage = 1
            $0.promotionLagEntriesMax = 3
        }
        var c = try clusterWithSilentLearner(tweak: tweak)
        for i in 0..<20 { _ = try c.propose(1, "e\(i)") }
        c.restart(4)
        // One heartbeat round trip: the leader hears from 4, which has 20-odd entries to go
        // and gets them one per append.
        c.nodes[1]!.tick()
        for _ in 0..<4 { c.deliverRound() }
        let status = c.nodes[1]!.status
        XCTAssertEqual(status.progress[4]?.isLive, true)
        XCTAssertThrowsError(try c.nodes[1]!.proposeConfigChange(.addVoter(4))) { error in
            guard case .learnerNotReady(let lag)? = error as? ProposalError else { return XCTFail("\(error)") }
            XCTAssertTrue(lag.isLive)
            XCTAssertEqual(lag.leaderLastIndex, status.lastIndex)
            XCTAssertGreaterThan(lag.lagEntries, 3)
        }
        c.stabilize()
        _ = try c.nodes[1]!.proposeConfigChange(.addVoter(4))
        c.stabilize()
        XCTAssertEqual(c.nodes[1]!.status.configuration.voters, [1, 2, 3, 4])
    }

    /// The live window is one election timeout of leader ticks since the last answer.
    func testAVoterIsLiveForOneElectionTimeoutAfterItsLastAnswer() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.crash(3)
        c.tick(9)
        XCTAssertEqual(c.nodes[1]!.status.progress[3]?.isLive, true)
        c.tick(1)
        XCTAssertEqual(c.nodes[1]!.status.progress[3]?.isLive, false)
        XCTAssertEqual(c.nodes[1]!.status.progress[2]?.isLive, true)
        XCTAssertEqual(c.nodes[1]!.status.progress[1]?.isLive, true, "the leader is always live")
    }

    func testRemovingALiveVoterWhileAnotherIsDownIsRefused() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.crash(3)
        c.tick(12)
        XCTAssertEqual(c.leaders, [1], "two of three keep the leader")
        XCTAssertThrowsError(try c.nodes[1]!.proposeConfigChange(.remove(2))) { error in
            XCTAssertEqual(error as? ProposalError,
                           .wouldLoseQuorum(QuorumShortfall(change: .remove(2), votersAfter: [1, 3], liveVoters: [1], quorum: 2)))
        }
        // Removing the leader itself is refused for the same reason: 2 alone is no quorum of {2, 3}.
        XCTAssertThrowsError(try c.nodes[1]!.proposeConfigChange(.remove(1))) { error in
            guard case .wouldLoseQuorum(let shortfall)? = error as? ProposalError else { return XCTFail("\(error)") }
            XCTAssertEqual(shortfall.liveVoters, [2])
        }
        // Removing the voter that is down leaves {1, 2}, both live: accepted.
        _ = try c.nodes[1]!.proposeConfigChange(.remove(3))
        c.stabilize()
        XCTAssertEqual(c.nodes[1]!.status.configuration.voters, [1, 2])
    }

    func testAddingAVoterWhileOneIsDownIsRefusedButALearnerIsNot() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.crash(3)
        c.tick(12)
        c.addNode(4)
        XCTAssertThrowsError(try c.nodes[1]!.proposeConfigChange(.addVoter(4))) { error in
            XCTAssertEqual(error as? ProposalError,
                           .wouldLoseQuorum(QuorumShortfall(change: .addVoter(4), votersAfter: [1, 2, 3, 4], liveVoters: [1, 2],
                                                            quorum: 3)))
        }
        _ = try c.nodes[1]!.proposeConfigChange(.addLearner(4))
        c.stabilize()
        XCTAssertEqual(c.nodes[1]!.status.configuration.learners, [4])
    }

    /// With one original voter down, promoting a caught-up learner is fine: three of the four
    /// voters it makes are live, a quorum.
    func testPromotionCountsTheLearnerAmongTheLiveVoters() throws {
        var c = try clusterWithSilentLearner()
        c.restart(4)
        c.tick(2)
        c.crash(3)
        c.tick(12)
        _ = try c.nodes[1]!.proposeConfigChange(.addVoter(4))
        c.stabilize()
        XCTAssertEqual(c.nodes[1]!.status.configuration.voters, [1, 2, 3, 4])
    }

    /// Votes are not answers to the leader: a new leader counts a voter live only once it
    /// answered one of its appends or heartbeats.
    func testANewLeaderCountsOnlyTheVotersItHasHeardFrom() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.nodes[1]!.campaign()
        while c.nodes[1]!.status.role != .leader { XCTAssertTrue(c.deliverRound(), "the election ends") }
        XCTAssertEqual(c.nodes[1]!.status.progress[2]?.isLive, false)
        XCTAssertEqual(c.nodes[1]!.status.progress[3]?.isLive, false)
        XCTAssertThrowsError(try c.nodes[1]!.proposeConfigChange(.addLearner(4))) {
            XCTAssertEqual($0 as? ProposalError, .configChangePending, "nothing of its term has committed yet")
        }
        c.stabilize()
        XCTAssertEqual(c.nodes[1]!.status.progress[2]?.isLive, true)
        XCTAssertEqual(c.nodes[1]!.status.progress[3]?.isLive, true)
    }

    func testTheStrictCheckCanBeTurnedOff() throws {
        var c = TestCluster(voters: [1, 2, 3]) { $0.strictReconfigCheck = false }
        c.elect(1)
        c.crash(3)
        c.tick(12)
        _ = try c.nodes[1]!.proposeConfigChange(.remove(2))
        XCTAssertEqual(c.nodes[1]!.status.progress[2]?.isLive, true)
    }

    func testLearnerLagArithmetic() {
        XCTAssertTrue(LearnerLag(learner: 4, match: 9_000, leaderLastIndex: 10_000, lagEntriesMax: 1_000, isLive: true).isReady)
        XCTAssertFalse(LearnerLag(learner: 4, match: 8_999, leaderLastIndex: 10_000, lagEntriesMax: 1_000, isLive: true).isReady)
        XCTAssertFalse(LearnerLag(learner: 4, match: 10_000, leaderLastIndex: 10_000, lagEntriesMax: 1_000, isLive: false).isReady)
        XCTAssertEqual(LearnerLag(learner: 4, match: 12, leaderLastIndex: 10, lagEntriesMax: 0, isLive: true).lagEntries, 0)
    }
}
