import Raft
import RaftSimulation
import XCTest

/// Snapshots: compaction, chunked transfer to a lagging follower, restart from snapshots.
final class SnapshotScenarioTests: XCTestCase {
    /// A follower cut off while the leader compacts far past it catches up through a
    /// snapshot sent in many chunks, then through the log.
    func testSnapshotInstallToFollowerFarBehind() throws {
        var sim = try cluster([1, 2, 3]) { options in
            options.snapshotEveryEntries = 10
            options.snapshotRetainEntries = 2
            options.snapshotPaddingBytes = 2_000  // 128-byte chunks: about 16 of them
        }
        let leader = try sim.waitForLeader(withinTicks: 50)
        let lagging = [NodeID](1...3).first { $0 != leader }!

        // Action: the follower is cut off while 100 entries commit and everyone compacts.
        sim.isolate(lagging)
        for _ in 0..<10 { try sim.commitAtLeader(10) }
        XCTAssertGreaterThan(sim.node(leader).storage.entryOffset, sim.node(lagging).storage.lastIndex,
                             "the leader compacted past everything the follower has")
        let installedBefore = sim.stats.snapshotsInstalled
        sim.heal()
        try sim.commitAtLeader(3)
        try sim.run(ticks: 30)

        // Expectation: the follower installed a snapshot and applied what the leader applied.
        XCTAssertGreaterThan(sim.stats.snapshotsInstalled, installedBefore)
        XCTAssertGreaterThan(sim.node(lagging).storage.snapshot.data.count, 10 * RandomizedRun.raftConfig().snapshotChunkBytes)
        XCTAssertEqual(sim.node(lagging).applied, sim.node(leader).applied)
    }

    /// Every node crashes after snapshotting and compacting; all restart from their
    /// snapshots plus log tails, agree on the state and keep committing.
    func testSnapshotRecoveryAfterAllNodesCrash() throws {
        var sim = try cluster([1, 2, 3], seed: 3) { options in
            options.snapshotEveryEntries = 7
            options.snapshotRetainEntries = 1
            options.snapshotPaddingBytes = 500
            options.network = .flaky
        }
        try sim.waitForLeader(withinTicks: 50)
        for _ in 0..<6 { try sim.commitAtLeader(10) }
        let committed = sim.committedIndex

        // Action: all three crash, one of them in the middle of handling a Ready.
        sim.crash(2, at: .afterPersist)
        try sim.proposeAtLeader(count: 3)
        try sim.run(ticks: 2)
        for id: NodeID in 1...3 { sim.crash(id) }
        for id: NodeID in 1...3 {
            XCTAssertGreaterThan(sim.node(id).storage.snapshot.metadata.index, 0, "node \(id) has a snapshot")
        }

        // Action: all restart.
        for id: NodeID in 1...3 { try sim.restart(id) }

        // Expectation: each node's state machine starts from its snapshot, re-applies its
        // committed tail, and the cluster converges and commits again.
        try sim.waitForLeader(withinTicks: 60)
        try sim.commitAtLeader(5)
        XCTAssertGreaterThan(sim.committedIndex, committed)
        try sim.healAndCheckLiveness(withinTicks: 200)
        let states = Set([NodeID](1...3).map { sim.node($0).applied })
        XCTAssertEqual(states.count, 1, "all nodes applied the same sequence")
    }
}
