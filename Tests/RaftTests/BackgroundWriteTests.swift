@testable import Raft
import XCTest

/// A leader may write its log in the background (`advance(_:persisted: false)`, then
/// `persisted(through:term:)`): it counts towards a quorum only for what its write reported.
final class BackgroundWriteTests: XCTestCase {
    func testALeaderReadyWithAppendsMayBeWrittenInTheBackgroundAndAFollowersMayNot() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        _ = try c.nodes[1]!.propose(Array("x".utf8))
        let leaderReady = c.nodes[1]!.ready()
        XCTAssertTrue(leaderReady.mayPersistInBackground)
        XCTAssertFalse(leaderReady.entries.isEmpty)
        c.nodes[1]!.advance(leaderReady)
        c.inFlight.append(contentsOf: leaderReady.messages)
        c.deliverRound()
        let followerReady = c.nodes[2]!.ready()
        XCTAssertFalse(followerReady.mayPersistInBackground, "an acknowledgement needs the follower's write first")
        c.nodes[2]!.advance(followerReady)
    }

    func testAPendingLeaderWriteDoesNotCountTowardsTheQuorum() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.writesHeld = [1]
        c.down = [3]
        let position = try c.propose(1, "x")
        // Leader (not durable) + node 2 (durable) are one durable copy short of a quorum of 3.
        XCTAssertLessThan(c.nodes[1]!.commitIndex, position.index)
        XCTAssertEqual(c.appliedTexts(1), [])
        c.completeWrites(1)
        c.stabilize()
        XCTAssertGreaterThanOrEqual(c.nodes[1]!.commitIndex, position.index)
        XCTAssertEqual(c.appliedTexts(1), ["x"])
        XCTAssertEqual(c.nodes[1]!.durableIndex, c.nodes[1]!.status.lastIndex)
    }

    func testTwoDurableFollowersCommitWhileTheLeadersWriteIsPending() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.writesHeld = [1]
        let position = try c.propose(1, "x")
        XCTAssertGreaterThanOrEqual(c.nodes[1]!.commitIndex, position.index, "nodes 2 and 3 are a durable quorum")
        XCTAssertEqual(c.appliedTexts(1), ["x"])
        XCTAssertLessThan(c.nodes[1]!.durableIndex, position.index)
        XCTAssertFalse(c.durable[1]!.entries.contains { $0.index == position.index }, "not on the leader's disk yet")
        c.completeWrites(1)
        XCTAssertTrue(c.durable[1]!.entries.contains { $0.index == position.index })
    }

    func testASingleVoterCommitsOnlyWhenItsWriteIsReported() throws {
        var c = TestCluster(voters: [1])
        c.tick(25)
        c.writesHeld = [1]
        let position = try c.propose(1, "solo")
        XCTAssertLessThan(c.nodes[1]!.commitIndex, position.index)
        XCTAssertEqual(c.appliedTexts(1), [])
        c.completeWrites(1)
        c.stabilize()
        XCTAssertEqual(c.nodes[1]!.commitIndex, position.index)
        XCTAssertEqual(c.appliedTexts(1), ["solo"])
    }

    func testAReportForAnEntryTheLogNoLongerHoldsIsIgnored() throws {
        var c = TestCluster(voters: [1])
        c.tick(25)
        let before = c.nodes[1]!.durableIndex
        let term = c.nodes[1]!.currentTerm
        c.nodes[1]!.persisted(through: before, term: term + 7)
        c.nodes[1]!.persisted(through: before + 50, term: term)
        XCTAssertEqual(c.nodes[1]!.durableIndex, before)
    }
}
