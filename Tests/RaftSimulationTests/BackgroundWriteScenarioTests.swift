import Raft
import RaftSimulation
import XCTest

/// Leaders that write their log in the background (as the cluster's node loop does): what a
/// quorum acknowledged survives the leader losing its unwritten tail in a crash.
final class BackgroundWriteScenarioTests: XCTestCase {
    func testALeaderCrashingWithUnwrittenEntriesLosesNothingCommitted() throws {
        for seed: UInt64 in 1...20 {
            var options = SimulationOptions(seed: seed, raft: RandomizedRun.raftConfig(),
                                            replayCommand: "swift test --filter BackgroundWriteScenarioTests (seed \(seed))")
            options.leaderWritesInBackground = true
            var sim = try Simulation(voters: [1, 2, 3], options: options)
            let leader = try sim.waitForLeader(withinTicks: 100)
            let ids = try sim.proposeAtLeader(count: 12)
            // Part of a tick: some appends acknowledged, the leader's own writes partly queued.
            try sim.run(ticks: 1)
            sim.crash(leader)
            _ = try sim.waitForLeader(withinTicks: 200)
            try sim.restart(leader)
            try sim.run(ticks: 40)
            try sim.checkWholeCluster()
            XCTAssertGreaterThan(sim.stats.backgroundWrites, 0, "seed \(seed): no leader Ready went to the background")
            for id in ids {
                if case .committed = sim.proposal(id).outcome { continue }
                if case .lost = sim.proposal(id).outcome { continue }
                XCTFail("seed \(seed): proposal \(id) neither committed nor known lost: \(sim.proposal(id).outcome)")
            }
        }
    }
}
