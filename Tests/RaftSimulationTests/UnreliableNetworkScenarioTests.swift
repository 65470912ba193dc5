import Raft
import RaftSimulation
import XCTest

/// Long runs on a network that loses, duplicates and reorders, with nodes crashing under
/// them (after MIT 6.824's Figure8Unreliable and UnreliableChurn).
final class UnreliableNetworkScenarioTests: XCTestCase {
    /// Figure 8 on an unreliable network: leaders keep crashing right after taking
    /// proposals, so entries of old terms pile up on minorities. Committed entries must
    /// never be lost, and once things calm down everything pending resolves.
    func testFigure8UnderUnreliableNetwork() throws {
        for seed in SimulationEnvironment.seeds(default: 3) {
            // One entry per append, so an old-term entry can be acknowledged on its own, as
            // in the figure; without pre-vote and check-quorum, as in the paper.
            var sim = try cluster([1, 2, 3, 4, 5], seed: seed) { options in
                options.network = .unreliable
                options.raft.maxEntriesPerMessage = 1
                options.raft.preVote = false
                options.raft.checkQuorum = false
            }
            var random = SimulationRandom(seed: seed)
            for _ in 0..<150 {
                // Clients reach every node that believes it leads, deposed ones included.
                for id in sim.liveNodeIDs where sim.status(id)?.role == .leader {
                    for _ in 0..<random.int(in: 1...3) { _ = try sim.propose(at: id) }
                    if random.chance(0.5) {
                        // Crash it soon, often with its new entries durable but unsent.
                        sim.crash(id, at: random.chance(0.6) ? .afterPersist : random.pick(CrashPoint.allCases))
                    }
                }
                try sim.run(ticks: random.int(in: 1...8))
                let down = sim.nodeIDs.filter { !sim.node($0).isUp }
                if down.count >= 3 || (!down.isEmpty && random.chance(0.3)) { try sim.restart(random.pick(down)) }
            }
            try sim.healAndCheckLiveness(withinTicks: 400)
            XCTAssertGreaterThan(sim.stats.proposalsCommitted, 0, "seed \(seed)")
        }
    }

    /// Unreliable churn: any node, up to all of them, crashes and restarts at random while
    /// clients keep proposing over a lossy network.
    func testUnreliableChurn() throws {
        for seed in SimulationEnvironment.seeds(default: 3) {
            var sim = try cluster([1, 2, 3, 4, 5], seed: seed) { options in
                options.network = .unreliable
                options.snapshotEveryEntries = 20
            }
            var random = SimulationRandom(seed: seed ^ 0xFEED)
            for _ in 0..<400 {
                try sim.proposeAtLeader(count: random.int(in: 0...2))
                if random.chance(0.05) {
                    let victim = random.pick(sim.nodeIDs)
                    if random.chance(0.5) { sim.crash(victim) } else { sim.crash(victim, at: random.pick(CrashPoint.allCases)) }
                }
                for id in sim.nodeIDs where !sim.node(id).isUp && random.chance(0.05) { try sim.restart(id) }
                try sim.run(ticks: 1)
            }
            XCTAssertGreaterThan(sim.stats.crashes, 5, "seed \(seed)")
            try sim.healAndCheckLiveness(withinTicks: 400)
            try sim.checkWholeCluster()
        }
    }
}
