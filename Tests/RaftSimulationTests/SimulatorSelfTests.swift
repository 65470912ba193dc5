import Raft
import RaftSimulation
import XCTest

/// The simulator itself: determinism, and that the checker notices what it should.
final class SimulatorSelfTests: XCTestCase {
    /// A seed replays the same run, event for event; another seed gives another run.
    func testSameSeedReplaysTheSameRun() throws {
        let replay = "swift test --filter RaftSimulationTests.SimulatorSelfTests"
        let a = try RandomizedRun.run(voters: 3, mix: .everything, seed: 42, replayCommand: replay)
        let b = try RandomizedRun.run(voters: 3, mix: .everything, seed: 42, replayCommand: replay)
        let c = try RandomizedRun.run(voters: 3, mix: .everything, seed: 43, replayCommand: replay)
        XCTAssertEqual(a.stats, b.stats)
        XCTAssertEqual(a.ticksToRecover, b.ticksToRecover)
        XCTAssertNotEqual(a.stats, c.stats)
    }

    /// The generator's output is pinned: changing it would silently change every seed.
    func testRandomGeneratorIsPinned() {
        var random = SimulationRandom(seed: 1)
        let first = (0..<3).map { _ in random.next() }
        var again = SimulationRandom(seed: 1)
        XCTAssertEqual(first, (0..<3).map { _ in again.next() })
        XCTAssertEqual(first[0], SimulationRandom.pinnedFirstOutputOfSeed1)
        var bounded = SimulationRandom(seed: 9)
        for _ in 0..<1_000 { XCTAssertTrue((3...7).contains(bounded.int(in: 3...7))) }
    }

    /// Logs that break log matching are refused before the run starts.
    func testCheckerRejectsLogsThatBreakLogMatching() {
        let configuration = Configuration(voters: [1, 2])
        func state(_ data: UInt8) -> DurableState {
            DurableState(hardState: HardState(term: 1, vote: 0, commit: 0),
                         snapshot: Snapshot(metadata: SnapshotMetadata(index: 0, term: 0, configuration: configuration), data: []),
                         entries: [Entry(term: 1, index: 1, data: [data])])
        }
        XCTAssertThrowsError(try Simulation(states: [1: state(1), 2: state(2)], options: SimulationOptions(seed: 1))) { error in
            XCTAssertEqual((error as? SimulationFailure)?.invariant, .logMatching)
        }
    }

    /// A failure names the seed and the command that replays it.
    func testFailureReportNamesSeedAndReplayCommand() throws {
        var sim = try cluster([1, 2, 3], seed: 77)
        // Nothing can be elected in one tick: the liveness check must fail, with its seed.
        XCTAssertThrowsError(try sim.waitForLeader(withinTicks: 1)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("seed 77"), text)
            XCTAssertTrue(text.contains("swift test --filter RaftSimulationTests.SimulatorSelfTests/testFailureReportNamesSeedAndReplayCommand"), text)
        }
    }
}
