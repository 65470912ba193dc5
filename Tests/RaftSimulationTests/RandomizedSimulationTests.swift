import RaftSimulation
import XCTest

/// Randomized runs: every fault mix on 3, 5 and 7 voters. Each seed runs ~250 ticks of
/// chaos, then heals and checks liveness; invariants are checked after every step.
/// `SIM_SEEDS=N` runs N seeds per test, `SIM_SEED=S` replays one.
final class RandomizedSimulationTests: XCTestCase {
    func testCalm3Nodes() { runRandomized(.calm, voters: 3, seeds: 10) }
    func testLossyNetwork3Nodes() { runRandomized(.lossyNetwork, voters: 3, seeds: 20) }
    func testLossyNetwork5Nodes() { runRandomized(.lossyNetwork, voters: 5, seeds: 15) }
    func testPartitions3Nodes() { runRandomized(.partitions, voters: 3, seeds: 20) }
    func testPartitions5Nodes() { runRandomized(.partitions, voters: 5, seeds: 20) }
    func testPartitions7Nodes() { runRandomized(.partitions, voters: 7, seeds: 10) }
    func testCrashes3Nodes() { runRandomized(.crashes, voters: 3, seeds: 25) }
    func testCrashes5Nodes() { runRandomized(.crashes, voters: 5, seeds: 15) }
    func testSnapshots3Nodes() { runRandomized(.snapshots, voters: 3, seeds: 20) }
    func testSnapshots5Nodes() { runRandomized(.snapshots, voters: 5, seeds: 15) }
    func testMembershipChurn3Nodes() { runRandomized(.membership, voters: 3, seeds: 20) }
    func testMembershipChurn5Nodes() { runRandomized(.membership, voters: 5, seeds: 10) }
    func testEverything3Nodes() { runRandomized(.everything, voters: 3, seeds: 25) }
    func testEverything5Nodes() { runRandomized(.everything, voters: 5, seeds: 20) }
    func testEverything7Nodes() { runRandomized(.everything, voters: 7, seeds: 10) }
}
