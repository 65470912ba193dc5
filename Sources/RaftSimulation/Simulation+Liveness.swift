import Raft

extension Simulation {
    /// Ends every fault — partitions healed, loss and duplicates off, crashed nodes
    /// restarted — and then requires, within `limit` ticks: a stable leader; a fresh probe
    /// proposal committed and applied by every live member; no proposal left pending.
    ///
    /// Returns the tick count it took.
    @discardableResult
    public mutating func healAndCheckLiveness(withinTicks limit: Int) throws -> Int {
        heal()
        network = NetworkConditions(minDelayMicroticks: network.minDelayMicroticks,
                                    maxDelayMicroticks: min(network.maxDelayMicroticks, 500))
        for index in nodes.indices {
            nodes[index].crashPlan = nil
            if nodes[index].core == nil && !nodes[index].retired { try restart(nodes[index].id) }
        }
        let start = tick
        var probe: UInt64?
        while tick - start <= UInt64(limit) {
            if let leader = stableLeader {
                if probe == nil || proposal(probe!).outcome == .lost {
                    if case .success(let id) = try propose(at: leader) { probe = id }
                }
                if let probe, case .committed = proposal(probe).outcome, ledger.pending.isEmpty,
                   allMembersApplied(through: proposal(probe).position.index) {
                    return Int(tick - start)
                }
            }
            try runTick()
        }
        let probeState = probe.map { "\(proposal($0).outcome) at \(proposal($0).position.index)" } ?? "never accepted"
        throw failure(.liveness, "\(limit) ticks after healing: stable leader \(stableLeader.map(String.init) ?? "none"), probe \(probeState), \(ledger.pending.count) proposals pending; \(roleSummary)")
    }

    func allMembersApplied(through index: LogIndex) -> Bool {
        for id in committedConfiguration.members {
            guard let slot = slots[id] else { continue }
            guard let applied = nodes[slot].applied else { continue }  // down (retired)
            if applied.index < index { return false }
        }
        return true
    }
}
