import XCTest
@testable import Raft

final class RaftNodeTests: XCTestCase {
    func testSingleNodeElectsItselfAndCommitsAtOnce() throws {
        var c = TestCluster(voters: [1])
        c.tick(25)
        XCTAssertEqual(c.leaders, [1])
        let position = try c.propose(1, "a")
        XCTAssertEqual(position, LogPosition(index: 3, term: 2))
        XCTAssertEqual(c.appliedTexts(1), ["a"])
        XCTAssertEqual(c.durable[1]!.hardState.commit, 3)
    }

    func testThreeNodesElectOneLeaderAndReplicate() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.tick(30)
        XCTAssertEqual(c.leaders.count, 1)
        let leader = c.leaders[0]
        _ = try c.propose(leader, "x")
        _ = try c.propose(leader, "y")
        c.tick(2)
        for id: NodeID in [1, 2, 3] { XCTAssertEqual(c.appliedTexts(id), ["x", "y"], "node \(id)") }
    }

    func testFollowerRefusesProposalsAndNamesTheLeader() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        XCTAssertThrowsError(try c.nodes[2]!.propose([1])) { error in
            XCTAssertEqual(error as? ProposalError, .notLeader(leader: 1))
        }
    }

    func testNewLeaderAfterLeaderCrashKeepsCommittedEntries() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        _ = try c.propose(1, "before")
        c.crash(1)
        c.tick(40)
        XCTAssertEqual(c.leaders.count, 1)
        let leader = c.leaders[0]
        XCTAssertNotEqual(leader, 1)
        _ = try c.propose(leader, "after")
        c.restart(1)
        c.tick(5)
        for id: NodeID in [1, 2, 3] { XCTAssertEqual(c.appliedTexts(id), ["before", "after"], "node \(id)") }
    }

    func testNoCommitWithoutQuorum() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.isolate(1)
        let position = try c.propose(1, "lost")
        c.tick(3)
        XCTAssertEqual(c.nodes[1]!.status.commit, position.index - 1)
        XCTAssertEqual(c.appliedTexts(1), [])
    }

    func testPartitionedLeaderStepsDownByCheckQuorumAndItsEntriesAreOverwritten() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.isolate(1)
        _ = try c.nodes[1]!.propose(Array("orphan".utf8))
        c.tick(40)
        XCTAssertNotEqual(c.nodes[1]!.status.role, .leader, "check-quorum deposes the isolated leader")
        let leader = c.leaders.first { $0 != 1 }!
        _ = try c.propose(leader, "kept")
        c.heal()
        c.tick(10)
        for id: NodeID in [1, 2, 3] { XCTAssertEqual(c.appliedTexts(id), ["kept"], "node \(id)") }
    }

    func testPreVoteStopsARejoiningNodeFromInflatingTerms() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        let term = c.nodes[1]!.status.term
        c.isolate(3)
        c.tick(100)
        XCTAssertEqual(c.nodes[3]!.status.term, term, "pre-vote never reaches a quorum, so the term stays")
        c.heal()
        c.tick(5)
        XCTAssertEqual(c.leaders, [1])
        XCTAssertEqual(c.nodes[1]!.status.term, term)
    }

    func testLeaderCompletenessVoteRequiresUpToDateLog() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.cut.insert([1, 3])
        _ = try c.propose(1, "only-1-and-2")
        // Node 3 lacks the entry: 2 will not vote for it, so it cannot lead.
        c.crash(1)
        c.nodes[3]!.campaign()
        c.stabilize()
        XCTAssertNotEqual(c.nodes[3]!.status.role, .leader)
    }

    func testReadIndexOnLeaderAndFollower() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        _ = try c.propose(1, "v")
        c.nodes[1]!.requestRead(context: 7)
        c.stabilize()
        XCTAssertEqual(c.readStates[1], [ReadState(index: 5, context: 7)])
        c.nodes[2]!.requestRead(context: 9)
        c.stabilize()
        XCTAssertEqual(c.readStates[2], [ReadState(index: 5, context: 9)])
    }

    func testDeposedLeaderNeverConfirmsARead() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.isolate(1)
        c.nodes[1]!.requestRead(context: 1)
        c.stabilize()
        c.tick(3)
        XCTAssertNil(c.readStates[1]?.first)
    }

    func testLeadershipTransferToLaggingFollower() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.cut.insert([1, 3])
        _ = try c.propose(1, "a")
        c.heal()
        try c.nodes[1]!.transferLeadership(to: 3)
        c.stabilize()
        c.tick(3)
        XCTAssertEqual(c.leaders, [3])
        _ = try c.propose(3, "b")
        c.tick(2)
        for id: NodeID in [1, 2, 3] { XCTAssertEqual(c.appliedTexts(id), ["a", "b"], "node \(id)") }
    }

    func testFollowersLearnACommitWithTheNextHeartbeatNotAMessageOfItsOwn() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        _ = try c.propose(1, "a")
        c.stabilize()
        let committed = c.nodes[1]!.status.commit
        XCTAssertEqual(c.appliedTexts(1), ["a"], "the leader committed and applied")
        for id: NodeID in [2, 3] {
            XCTAssertLessThan(c.nodes[id]!.status.commit, committed, "node \(id) has not been told yet: no extra round per commit")
        }
        c.tick(1)   // one heartbeat interval
        c.stabilize()
        for id: NodeID in [2, 3] {
            XCTAssertEqual(c.nodes[id]!.status.commit, committed, "node \(id) learned it from the heartbeat")
            XCTAssertEqual(c.appliedTexts(id), ["a"])
        }
    }

    func testOnlyEntriesSnapshotsTermsAndVotesMustSync() throws {
        var node = RaftNode(config: RaftConfig(id: 1), state: .bootstrap([1]))
        node.campaign()
        let election = node.ready()
        XCTAssertTrue(election.mustSync, "a new term and vote must be durable")
        node.advance(election)
        _ = try node.propose(Array("a".utf8))
        while node.hasReady {
            let rd = node.ready()
            XCTAssertEqual(rd.mustSync, !rd.entries.isEmpty || rd.snapshot != nil
                           || rd.hardState.map { $0.term != node.currentTerm || $0.vote != 1 } ?? false)
            node.advance(rd)
        }
        // (A leader's commit-only Ready, with mustSync false, is covered by
        // ClusterNodeTests.testOnlyEntriesAndVotesWaitForTheDiskNotCommitIndexMoves.)
    }

    func testAddLearnerThenPromoteThenRemoveLeader() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        _ = try c.propose(1, "a")
        c.addNode(4)
        _ = try c.nodes[1]!.proposeConfigChange(.addLearner(4))
        c.stabilize()
        c.tick(3)
        XCTAssertEqual(c.nodes[1]!.status.configuration.learners, [4])
        XCTAssertEqual(c.appliedTexts(4), ["a"], "the learner caught up")
        _ = try c.nodes[1]!.proposeConfigChange(.addVoter(4))
        c.stabilize()
        XCTAssertEqual(c.nodes[1]!.status.configuration.voters, [1, 2, 3, 4])
        XCTAssertEqual(c.nodes[4]!.status.configuration.voters, [1, 2, 3, 4])
        _ = try c.nodes[1]!.proposeConfigChange(.remove(1))
        c.stabilize()
        XCTAssertNotEqual(c.nodes[1]!.status.role, .leader, "a removed leader steps down")
        c.tick(60)
        let leader = try XCTUnwrap(c.leaders.first)
        XCTAssertTrue([2, 3, 4].contains(leader))
        _ = try c.propose(leader, "b")
        c.tick(2)
        for id: NodeID in [2, 3, 4] { XCTAssertEqual(c.appliedTexts(id), ["a", "b"], "node \(id)") }
    }

    func testOnlyOneMembershipChangeAtATime() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.isolate(1)
        _ = try c.nodes[1]!.proposeConfigChange(.addLearner(4))
        XCTAssertThrowsError(try c.nodes[1]!.proposeConfigChange(.addLearner(5))) {
            XCTAssertEqual($0 as? ProposalError, .configChangePending)
        }
    }

    func testSnapshotInstallToFollowerBehindCompactedLog() throws {
        var c = TestCluster(voters: [1, 2, 3]) { $0.snapshotChunkBytes = 4 }
        c.elect(1)
        c.crash(3)
        for i in 0..<20 { _ = try c.propose(1, "e\(i)") }
        let snapIndex = c.nodes[1]!.status.applied
        let snapshot = c.nodes[1]!.createSnapshot(at: snapIndex, data: c.snapshotData(1))
        c.durable[1]!.snapshot = snapshot
        c.nodes[1]!.compact(through: snapIndex)
        c.durable[1]!.entries.removeAll { $0.index <= snapIndex }
        c.restart(3)
        c.tick(30)
        XCTAssertEqual(c.appliedTexts(3), (0..<20).map { "e\($0)" })
        XCTAssertEqual(c.durable[3]!.snapshot.metadata.index, snapIndex)
        _ = try c.propose(1, "after")
        c.tick(2)
        XCTAssertEqual(c.appliedTexts(3).last, "after")
    }

    func testRestartFromDurableStateRecoversEverything() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        for i in 0..<5 { _ = try c.propose(1, "e\(i)") }
        c.tick(2)
        for id: NodeID in [1, 2, 3] { c.crash(id) }
        for id: NodeID in [1, 2, 3] { c.restart(id) }
        c.tick(50)
        XCTAssertEqual(c.leaders.count, 1)
        for id: NodeID in [1, 2, 3] { XCTAssertEqual(c.appliedTexts(id), (0..<5).map { "e\($0)" }, "node \(id)") }
    }

    func testConfigChangeCodecRoundTripsAndRejectsJunk() {
        for change in [ConfigChange.addVoter(7), .addLearner(1 << 40), .remove(3)] {
            XCTAssertEqual(ConfigChange(encoded: change.encoded), change)
        }
        XCTAssertNil(ConfigChange(encoded: []))
        XCTAssertNil(ConfigChange(encoded: [9, 1, 0, 0, 0, 0, 0, 0, 0]))
        XCTAssertNil(ConfigChange(encoded: [1, 0, 0, 0, 0, 0, 0, 0, 0]))
    }
}

extension RaftNodeTests {
    func testRestartedFollowerBehindRepeatedCompactionsGetsTheSnapshot() throws {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        _ = try c.propose(1, "warm")
        c.crash(3)
        for i in 0..<60 {
            _ = try c.propose(1, "e\(i)")
            let applied = c.nodes[1]!.status.applied
            if applied % 20 == 0 {
                let snapshot = c.nodes[1]!.createSnapshot(at: applied, data: c.snapshotData(1))
                c.durable[1]!.snapshot = snapshot
                c.nodes[1]!.compact(through: applied - 5)
            }
        }
        XCTAssertGreaterThan(c.nodes[1]!.status.firstIndex, 40)
        c.restart(3)
        c.tick(30)
        XCTAssertGreaterThan(c.durable[3]!.snapshot.metadata.index, 0, "the follower installed a snapshot")
        XCTAssertEqual(c.appliedTexts(3).count, 61)
    }
}
