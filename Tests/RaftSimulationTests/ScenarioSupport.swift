import Raft
import RaftSimulation
import XCTest

/// Builders shared by the named scenarios. Each scenario has a fixed seed, so its replay
/// command is just its own filter.
extension XCTestCase {
    func replayCommand(_ function: String) -> String {
        "swift test --filter RaftSimulationTests.\(String(describing: type(of: self)))/\(function.replacingOccurrences(of: "()", with: ""))"
    }

    /// A fresh cluster of `voters` nodes on a reliable network (or held messages).
    func cluster(_ voters: [NodeID], seed: UInt64 = 1, manual: Bool = false, function: String = #function,
                 _ configure: (inout SimulationOptions) -> Void = { _ in }) throws -> Simulation {
        var options = SimulationOptions(seed: seed, raft: RandomizedRun.raftConfig(), replayCommand: replayCommand(function))
        options.manualDelivery = manual
        options.echoTrace = SimulationEnvironment.echoTrace
        configure(&options)
        return try Simulation(voters: voters, options: options)
    }

    /// A cluster whose nodes start from hand-written logs (terms per index); entries carry
    /// data derived from (index, term) so equal positions hold equal data.
    func cluster(logs: [NodeID: [Term]], term: Term, commit: LogIndex, seed: UInt64 = 1, manual: Bool = true,
                 function: String = #function, _ configure: (inout SimulationOptions) -> Void = { _ in }) throws -> Simulation {
        let voters = Set(logs.keys)
        var states: [NodeID: DurableState] = [:]
        for (id, terms) in logs {
            let entries = terms.enumerated().map { offset, entryTerm in
                Entry(term: entryTerm, index: LogIndex(offset + 1), data: Array("entry \(offset + 1) of term \(entryTerm)".utf8))
            }
            states[id] = DurableState(
                hardState: HardState(term: term, vote: 0, commit: commit),
                snapshot: Snapshot(metadata: SnapshotMetadata(index: 0, term: 0, configuration: Configuration(voters: voters)), data: []),
                entries: entries)
        }
        var options = SimulationOptions(seed: seed, raft: RandomizedRun.raftConfig(), replayCommand: replayCommand(function))
        options.manualDelivery = manual
        options.echoTrace = SimulationEnvironment.echoTrace
        configure(&options)
        return try Simulation(states: states, options: options)
    }
}

extension Simulation {
    /// Whether a held message travels only between members of `group`.
    static func within(_ group: Set<NodeID>) -> (Message) -> Bool {
        { group.contains($0.from) && group.contains($0.to) }
    }

    /// Proposes `count` entries at the leader and runs until they are all committed.
    @discardableResult
    mutating func commitAtLeader(_ count: Int, withinTicks limit: Int = 100) throws -> [UInt64] {
        let ids = try proposeAtLeader(count: count)
        XCTAssertEqual(ids.count, count, "the leader accepted every proposal")
        let done = try run(untilWithinTicks: limit) { sim in
            ids.allSatisfy { if case .committed = sim.proposal($0).outcome { true } else { false } }
        }
        XCTAssertTrue(done, "proposals \(ids) committed within \(limit) ticks")
        return ids
    }

    func isCommitted(_ id: UInt64) -> Bool {
        if case .committed = proposal(id).outcome { return true }
        return false
    }
}
