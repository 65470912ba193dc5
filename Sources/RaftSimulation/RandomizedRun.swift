import Raft

/// One randomized run: a cluster, a fault mix, a seed. The "nemesis" below draws every fault
/// from the seed, so a failing run replays exactly.
///
/// ```swift
/// let report = try RandomizedRun.run(voters: 5, mix: .partitions, seed: 17,
///                                    replayCommand: "SIM_SEED=17 swift test --filter …")
/// ```
public enum RandomizedRun {
    /// What a finished run did.
    public struct Report: Sendable {
        public var seed: UInt64
        public var ticks: UInt64
        public var ticksToRecover: Int
        public var stats: SimulationStats
    }

    /// Core settings used by randomized runs: small limits so batching, flow control and
    /// chunking are exercised.
    public static func raftConfig() -> RaftConfig {
        var config = RaftConfig(id: 1)
        config.electionTicks = 10
        config.heartbeatTicks = 1
        config.maxEntriesPerMessage = 16
        config.maxBytesPerMessage = 4_096
        config.maxInflightMessages = 8
        config.maxUncommittedBytes = 64 << 10
        config.snapshotChunkBytes = 128
        return config
    }

    /// Runs `mix` on a fresh cluster of `voters` nodes: chaos, then heal and check liveness.
    public static func run(voters: Int, mix: FaultMix, seed: UInt64, replayCommand: String,
                           echoTrace: Bool = false) throws -> Report {
        var raft = raftConfig()
        var settings = SimulationRandom(seed: seed ^ 0x5EED_5E77_1A65_0000)
        raft.checkQuorum = settings.chance(mix.checkQuorumShare)
        raft.preVote = settings.chance(mix.preVoteShare)
        var options = SimulationOptions(seed: seed, raft: raft, replayCommand: replayCommand)
        // Half the runs write leaders' logs in the background, as the cluster's nodes do.
        options.leaderWritesInBackground = settings.chance(0.5)
        options.network = mix.network
        options.snapshotEveryEntries = mix.snapshotEveryEntries
        options.snapshotRetainEntries = 2
        options.snapshotPaddingBytes = mix.snapshotPaddingBytes
        options.echoTrace = echoTrace
        let ids = (1...NodeID(voters)).map { $0 }
        var sim = try Simulation(voters: ids, options: options)
        var nemesis = Nemesis(mix: mix, random: SimulationRandom(seed: seed ^ 0xC0FF_EE00_D15E_A5E5), nextNodeID: NodeID(voters) + 1)
        for _ in 0..<mix.chaosTicks {
            try nemesis.act(on: &sim)
            try sim.runTick()
        }
        let recovery = try sim.healAndCheckLiveness(withinTicks: mix.livenessTicks)
        try sim.checkWholeCluster()
        return Report(seed: seed, ticks: sim.tick, ticksToRecover: recovery, stats: sim.stats)
    }
}

/// Draws faults and client traffic for a randomized run.
struct Nemesis {
    let mix: FaultMix
    var random: SimulationRandom
    var nextNodeID: NodeID
    var partitioned = false
    /// Nodes ever made members, so they are retired once removed.
    var everMember: Set<NodeID> = []
    var addedAtTick: [NodeID: UInt64] = [:]

    mutating func act(on sim: inout Simulation) throws {
        everMember.formUnion(sim.committedConfiguration.members)
        try traffic(&sim)
        if partitioned {
            if random.chance(mix.healChance) {
                sim.heal()
                partitioned = false
            }
        } else if random.chance(mix.partitionChance) {
            partition(&sim)
            partitioned = true
        }
        if random.chance(mix.crashChance) { crash(&sim) }
        for id in sim.nodeIDs where !sim.node(id).isUp && !sim.node(id).retired {
            if random.chance(mix.restartChance) { try sim.restart(id) }
        }
        if random.chance(mix.transferChance), let leader = sim.leader, let status = sim.status(leader) {
            let targets = status.configuration.voters.filter { $0 != leader }.sorted()
            if !targets.isEmpty { _ = try sim.transferLeadership(from: leader, to: random.pick(targets)) }
        }
        if random.chance(mix.membershipChance) { try changeMembership(&sim) }
        retireRemoved(&sim)
    }

    mutating func traffic(_ sim: inout Simulation) throws {
        if random.chance(mix.proposalChance) {
            let burst = random.int(in: 1...mix.proposalBurstMax)
            // Clients talk to whichever node believes it leads — a deposed leader too, so
            // uncommitted suffixes grow on minorities — and sometimes to any node.
            let live = sim.liveNodeIDs
            let leaders = live.filter { sim.status($0)?.role == .leader }
            let target = !leaders.isEmpty && random.chance(0.9) ? random.pick(leaders) : (live.isEmpty ? nil : random.pick(live))
            if let target {
                for _ in 0..<burst { _ = try sim.propose(at: target) }
            }
        }
        if random.chance(mix.readChance) {
            let live = sim.liveNodeIDs
            let leaders = live.filter { sim.status($0)?.role == .leader }
            if !leaders.isEmpty && random.chance(0.5) {
                try sim.requestRead(at: random.pick(leaders))
            } else if !live.isEmpty {
                try sim.requestRead(at: random.pick(live))
            }
        }
    }

    mutating func partition(_ sim: inout Simulation) {
        let members = sim.committedConfiguration.voters.sorted().filter { sim.nodeIDs.contains($0) }
        guard members.count >= 2 else { return }
        switch random.below(6) {
        case 0:  // two halves, one of them a majority
            let shuffled = random.shuffled(members)
            let cut = random.int(in: 1...(shuffled.count - 1))
            sim.partition([Array(shuffled[..<cut]), Array(shuffled[cut...])])
        case 1:  // the leader alone
            sim.isolate(sim.leader ?? random.pick(members))
        case 2:  // the leader with a minority
            let leader = sim.leader ?? random.pick(members)
            let others = random.shuffled(members.filter { $0 != leader })
            let minority = max(0, (members.count - 1) / 2 - 1)
            sim.partition([[leader] + others.prefix(minority), Array(others.dropFirst(minority))])
        case 3:  // one-way links
            for _ in 0..<random.int(in: 1...3) {
                let from = random.pick(members)
                let to = random.pick(members.filter { $0 != from })
                sim.cutLink(from: from, to: to)
            }
        case 4 where members.count >= 3:  // a bridge node between two halves
            let shuffled = random.shuffled(members)
            let bridge = shuffled[0]
            let rest = Array(shuffled.dropFirst())
            let cut = random.int(in: 1...(rest.count - 1))
            sim.bridge(Array(rest[..<cut]), Array(rest[cut...]), via: bridge)
        default:  // one random node alone
            sim.isolate(random.pick(members))
        }
    }

    mutating func crash(_ sim: inout Simulation) {
        let voters = sim.committedConfiguration.voters
        let live = sim.liveNodeIDs
        guard !live.isEmpty else { return }
        let downVoters = voters.filter { !live.contains($0) }.count
        let victim = random.chance(0.3) ? (sim.leader ?? random.pick(live)) : random.pick(live)
        if !mix.allowTotalOutage && voters.contains(victim) && downVoters + 1 > (voters.count - 1) / 2 { return }
        if random.chance(mix.plannedCrashShare) {
            sim.crash(victim, at: random.pick(CrashPoint.allCases))
        } else {
            sim.crash(victim)
        }
    }

    mutating func changeMembership(_ sim: inout Simulation) throws {
        guard let leader = sim.stableLeader else { return }
        let configuration = sim.committedConfiguration
        if let learner = configuration.learners.sorted().first, random.chance(0.7) {
            _ = try sim.proposeConfigChange(.addVoter(learner), at: leader)
        } else if configuration.voters.count > 3 && random.chance(0.5) {
            _ = try sim.proposeConfigChange(.remove(random.pick(configuration.voters.sorted())), at: leader)
        } else if sim.nodeIDs.count < 9 {
            let id = nextNodeID
            nextNodeID += 1
            try sim.addNode(id)
            addedAtTick[id] = sim.tick
            if case .failure = try sim.proposeConfigChange(.addLearner(id), at: leader) { sim.retire(id) }
        }
    }

    /// Nodes removed from the cluster (or never admitted) are shut down.
    mutating func retireRemoved(_ sim: inout Simulation) {
        let members = sim.committedConfiguration.members
        for id in sim.liveNodeIDs where !members.contains(id) {
            if everMember.contains(id) || sim.tick > (addedAtTick[id] ?? 0) + 100 { sim.retire(id) }
        }
    }
}
