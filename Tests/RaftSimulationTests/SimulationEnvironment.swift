import Foundation
import Raft
import RaftSimulation
import XCTest

/// How many seeds the randomized tests run, from the environment:
/// - `SIM_SEED=S` runs only seed S (replaying a failure);
/// - `SIM_SEEDS=N` runs seeds 1…N (thousands, for a soak);
/// - `SIM_TRACE=1` prints every event of the run(s).
enum SimulationEnvironment {
    static let environment = ProcessInfo.processInfo.environment

    static func seeds(default count: Int) -> [UInt64] {
        if let one = environment["SIM_SEED"].flatMap(UInt64.init) { return [one] }
        let n = environment["SIM_SEEDS"].flatMap(Int.init) ?? count
        return (1...UInt64(max(n, 1))).map { $0 }
    }

    static var echoTrace: Bool { environment["SIM_TRACE"] == "1" }

    /// The command that replays one seed of one test.
    static func replay(_ test: String, seed: UInt64) -> String {
        "SIM_SEED=\(seed) swift test --filter RaftSimulationTests.\(test)"
    }
}

extension XCTestCase {
    /// Runs a randomized mix over the environment's seeds; the first failure stops the test
    /// and reports its seed and replay command.
    func runRandomized(_ mix: FaultMix, voters: Int, seeds defaultCount: Int,
                       file: StaticString = #filePath, line: UInt = #line, function: String = #function) {
        let test = "\(String(describing: type(of: self)))/\(function.replacingOccurrences(of: "()", with: ""))"
        var ticks: UInt64 = 0, elections = 0, crashes = 0, inReady = 0, changes = 0, committed = 0, lost = 0, snapshots = 0, reads = 0, recovery = 0, background = 0
        let seeds = SimulationEnvironment.seeds(default: defaultCount)
        for seed in seeds {
            do {
                let report = try RandomizedRun.run(voters: voters, mix: mix, seed: seed,
                                                   replayCommand: SimulationEnvironment.replay(test, seed: seed),
                                                   echoTrace: SimulationEnvironment.echoTrace)
                ticks += report.ticks
                elections += report.stats.elections
                crashes += report.stats.crashes
                inReady += report.stats.crashesBeforePersist + report.stats.crashesAfterPersist + report.stats.crashesAfterSend
                changes += report.stats.membershipChanges
                committed += report.stats.proposalsCommitted
                lost += report.stats.proposalsLost
                snapshots += report.stats.snapshotsInstalled
                reads += report.stats.readsServed
                background += report.stats.backgroundWrites
                recovery = max(recovery, report.ticksToRecover)
            } catch {
                XCTFail("\(error)", file: file, line: line)
                return
            }
        }
        print("\(test) [\(mix.name), \(voters) voters]: \(seeds.count) seeds, \(ticks) ticks, \(elections) elections, \(crashes) crashes (\(inReady) inside Ready handling), \(changes) membership changes, \(committed) proposals committed, \(lost) lost, \(snapshots) snapshots installed, \(reads) reads served, \(background) leader writes in the background, slowest recovery \(recovery) ticks")
    }
}
