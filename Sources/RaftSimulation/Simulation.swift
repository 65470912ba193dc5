import Raft

/// Settings of one simulated run. Everything not given here is drawn from `seed`.
public struct SimulationOptions: Sendable {
    /// The seed every random choice of the run derives from.
    public var seed: UInt64
    /// Template for every node's core settings; `id` and `randomSeed` are set per node.
    public var raft: RaftConfig
    /// Loss, duplication and delay of the virtual network.
    public var network: NetworkConditions = .reliable
    /// Hold sent messages until the test delivers them (``Simulation/deliverHeld(where:)``)
    /// instead of scheduling them with random delays. For transcript-style scenarios.
    public var manualDelivery = false
    /// Each node snapshots its applied state every this many applied entries (nil: never).
    public var snapshotEveryEntries: Int? = nil
    /// Entries kept in the log behind a local snapshot when compacting.
    public var snapshotRetainEntries = 4
    /// Filler bytes in every snapshot, so snapshots need several chunks.
    public var snapshotPaddingBytes = 0
    /// Leaders write their `Ready`s in the background when the core allows it
    /// (``Ready/mayPersistInBackground``), as the cluster's node loop does; the writes
    /// complete at seeded later points or are lost in a crash. False: every `Ready` is
    /// persisted before its messages leave.
    public var leaderWritesInBackground = false
    /// Size of each client proposal in bytes.
    public var payloadBytes = 16
    /// The command that replays this run, printed with every failure.
    public var replayCommand: String
    /// How many recent events a failure report shows.
    public var traceEventsInReport = 80
    /// Print every event as it happens (also `SIM_TRACE=1` in the tests).
    public var echoTrace = false

    public init(seed: UInt64, raft: RaftConfig = RaftConfig(id: 1), replayCommand: String? = nil) {
        self.seed = seed
        self.raft = raft
        self.replayCommand = replayCommand ?? "SIM_SEED=\(seed) swift test --filter RaftSimulationTests"
    }
}

/// Where in the handling of a `Ready` a planned crash strikes.
public enum CrashPoint: String, Sendable, CaseIterable {
    /// After `ready()` but before anything was persisted: the whole `Ready` is lost.
    case beforePersist = "before persisting its Ready"
    /// After persisting but before sending messages or applying.
    case afterPersist = "after persisting, before sending"
    /// After persisting and sending, before applying and `advance`.
    case afterSend = "after sending, before applying"
}

/// Counters of what happened in a run.
public struct SimulationStats: Sendable, Hashable {
    public var steps: UInt64 = 0
    public var messagesSent = 0
    public var messagesDelivered = 0
    public var messagesDropped = 0
    public var messagesDuplicated = 0
    public var crashes = 0
    /// Crashes that struck inside `Ready` handling: before persist, after persist, after send.
    public var crashesBeforePersist = 0
    public var crashesAfterPersist = 0
    public var crashesAfterSend = 0
    public var membershipChanges = 0
    /// Leader `Ready`s whose write was handed to the background.
    public var backgroundWrites = 0
    public var restarts = 0
    public var elections = 0
    public var snapshotsTaken = 0
    public var snapshotsInstalled = 0
    public var proposalsAccepted = 0
    public var proposalsRejected = 0
    public var proposalsCommitted = 0
    public var proposalsLost = 0
    public var readsServed = 0
}

/// One simulated node: the core (absent while crashed), its durable twin and its state machine.
public struct SimulatedNode {
    public let id: NodeID
    var core: RaftNode?
    /// The node's simulated disk.
    public internal(set) var storage: StorageTwin
    /// The node's state machine (nil while crashed).
    public internal(set) var applied: AppliedState?
    /// Restarts so far (each restart gets a fresh election-jitter seed).
    public internal(set) var restarts = 0
    /// Shut down for good (removed from the cluster): never restarted.
    public internal(set) var retired = false
    var crashPlan: CrashPoint?
    /// Leader `Ready`s handed to the background writer and not yet durable, oldest first.
    var backgroundWrites: [Ready] = []
    var lastLocalSnapshot: LogIndex = 0
    var lastRole: Role = .follower
    var lastTerm: Term = 0
    // Leader completeness is verified incrementally while this node leads `completenessTerm`.
    var completenessTerm: Term = 0
    var completenessThrough: LogIndex = 0

    /// Whether the node is running.
    public var isUp: Bool { core != nil }
}

/// A deterministic cluster of Raft cores on a virtual network and clock.
///
/// Time advances in ticks (every live node's `tick()` is called at each tick boundary) and,
/// between ticks, in microticks at which messages arrive. Every handling of a `Ready`
/// follows its contract — persist to the node's ``StorageTwin``, send, apply, `advance` —
/// and after every step the invariants listed in ``Invariant`` are checked; a violation
/// throws a ``SimulationFailure`` that names the seed and the command to replay it.
///
/// ```swift
/// var sim = try Simulation(voters: [1, 2, 3], options: SimulationOptions(seed: 7))
/// let leader = try sim.waitForLeader(withinTicks: 50)
/// _ = try sim.propose(at: leader)
/// try sim.run(ticks: 5)
/// ```
public struct Simulation {
    /// Microticks per tick: the resolution of message delays.
    public static let microticksPerTick: UInt64 = 1_000

    public let options: SimulationOptions
    public var seed: UInt64 { options.seed }
    /// Ticks elapsed.
    public private(set) var tick: UInt64 = 0
    /// Virtual time in microticks.
    public internal(set) var now: UInt64 = 0
    /// The network's loss, duplication and delays; change at any time.
    public var network: NetworkConditions
    /// Directed links currently cut.
    public internal(set) var blockedLinks: Set<Link> = []
    /// Messages held for manual delivery (``SimulationOptions/manualDelivery``), in send order.
    public internal(set) var heldMessages: [Message] = []
    /// What happened so far.
    public internal(set) var stats = SimulationStats()

    var random: SimulationRandom
    var nodes: [SimulatedNode] = []
    var slots: [NodeID: Int] = [:]
    var inFlight = InFlightQueue()
    var history = History()
    var ledger = ClientLedger()
    var trace: Trace

    /// A cluster whose members all start from `DurableState.bootstrap(voters)`.
    public init(voters: [NodeID], options: SimulationOptions) throws {
        try self.init(states: Dictionary(uniqueKeysWithValues: voters.map { ($0, DurableState.bootstrap(Set(voters))) }),
                      options: options)
    }

    /// A cluster whose nodes start from the given durable states (scenarios that begin from
    /// a hand-written log, like the paper's Figure 7). Logs must satisfy log matching.
    public init(states: [NodeID: DurableState], options: SimulationOptions) throws {
        self.options = options
        network = options.network
        random = SimulationRandom(seed: options.seed)
        trace = Trace(capacity: max(options.traceEventsInReport, 1), echo: options.echoTrace)
        if let first = states.values.first {
            history.configurations = [(first.snapshot.metadata.index, first.snapshot.metadata.configuration)]
        }
        // Every twin exists before any node starts, so the first apply sees the whole cluster.
        for id in states.keys.sorted() {
            try addNode(id, state: states[id]!, start: false)
        }
        for index in nodes.indices { try start(index) }
    }

    // MARK: - Looking at the cluster

    /// Ids of every node ever added, ascending.
    public var nodeIDs: [NodeID] { nodes.map(\.id) }

    /// Ids of the running nodes.
    public var liveNodeIDs: [NodeID] { nodes.filter(\.isUp).map(\.id) }

    /// The node with this id.
    public func node(_ id: NodeID) -> SimulatedNode { nodes[slot(id)] }

    /// The core's status of a running node, nil while it is down.
    public func status(_ id: NodeID) -> RaftStatus? { nodes[slot(id)].core?.status }

    /// The running leader with the highest term, if any.
    public var leader: NodeID? {
        var best: (NodeID, Term)?
        for node in nodes {
            guard let status = node.core?.status, status.role == .leader else { continue }
            if best == nil || status.term > best!.1 { best = (node.id, status.term) }
        }
        return best?.0
    }

    /// The highest index any node has applied (every entry up to it is committed).
    public var committedIndex: LogIndex { history.committedMax }

    /// The durable log of a node: entries after its snapshot.
    public func log(_ id: NodeID) -> [Entry] { nodes[slot(id)].storage.durableState.entries }

    /// The terms of a node's durable log, index 1 first (0 for positions inside its snapshot).
    public func logTerms(_ id: NodeID) -> [Term] {
        let storage = nodes[slot(id)].storage
        guard storage.lastIndex > 0 else { return [] }
        return (1...storage.lastIndex).map { storage.term(at: $0) ?? 0 }
    }

    /// The membership the committed log has reached so far.
    public var committedConfiguration: Configuration { history.configurations.last!.configuration }

    func slot(_ id: NodeID) -> Int {
        guard let index = slots[id] else { preconditionFailure("no node \(id) in the simulation") }
        return index
    }

    // MARK: - Running

    /// Runs `count` ticks: all messages due before each tick boundary are delivered, then
    /// every live node ticks.
    public mutating func run(ticks count: Int) throws {
        for _ in 0..<count { try runTick() }
    }

    /// Runs until `condition` holds (checked before each tick) or `limit` ticks pass;
    /// returns whether it held.
    @discardableResult
    public mutating func run(untilWithinTicks limit: Int, _ condition: (Simulation) -> Bool) throws -> Bool {
        for _ in 0..<limit {
            if condition(self) { return true }
            try runTick()
        }
        return condition(self)
    }

    /// Runs until some node leads and every live voter in its configuration follows it;
    /// a liveness failure if that takes more than `limit` ticks.
    @discardableResult
    public mutating func waitForLeader(withinTicks limit: Int) throws -> NodeID {
        let settled = try run(untilWithinTicks: limit) { $0.stableLeader != nil }
        guard settled, let leader = stableLeader else {
            throw failure(.liveness, "no stable leader within \(limit) ticks: \(roleSummary)")
        }
        return leader
    }

    /// A leader that every live voter of its configuration recognises in the same term.
    public var stableLeader: NodeID? {
        guard let leader, let status = status(leader) else { return nil }
        for voter in status.configuration.voters where voter != leader {
            guard let slot = slots[voter], let other = nodes[slot].core?.status else { continue }
            if other.term != status.term || other.leader != leader { return nil }
        }
        return leader
    }

    /// One line per node: role, term, commit, applied, last index.
    public var roleSummary: String {
        nodes.map { node in
            guard let s = node.core?.status else { return "\(node.id): down" }
            return "\(node.id): \(s.role) t\(s.term) commit \(s.commit) applied \(s.applied) last \(s.lastIndex)"
        }.joined(separator: "; ")
    }

    mutating func runTick() throws {
        let boundary = (tick + 1) * Simulation.microticksPerTick
        while let item = inFlight.pop(before: boundary) {
            now = item.time
            try deliver(item.message)
        }
        now = boundary
        tick += 1
        trace.record(.tick(tick))
        try completeBackgroundWrites()
        for index in nodes.indices where nodes[index].core != nil {
            nodes[index].core!.tick()
            try drain(index)
        }
        try afterTick()
    }

    mutating func afterTick() throws {
        try sweepProposals()
    }

    // MARK: - Driving nodes

    /// Tells a node to start an election now.
    public mutating func campaign(_ id: NodeID) throws {
        let index = slot(id)
        guard nodes[index].core != nil else { return }
        trace.record(.note(now, "campaign at node \(id)"))
        nodes[index].core!.campaign()
        try drain(index)
    }

    /// Asks `id` (the leader) to hand leadership to `target`.
    public mutating func transferLeadership(from id: NodeID, to target: NodeID) throws -> Result<Void, ProposalError> {
        let index = slot(id)
        guard nodes[index].core != nil else { return .failure(.notLeader(leader: 0)) }
        trace.record(.note(now, "transfer leadership \(id) → \(target)"))
        do {
            try nodes[index].core!.transferLeadership(to: target)
        } catch {
            try drain(index)
            return .failure(error)
        }
        try drain(index)
        return .success(())
    }

    /// Adds a node. With `.empty` state it is not a member yet: a leader must add it.
    public mutating func addNode(_ id: NodeID, state: DurableState = .empty) throws {
        try addNode(id, state: state, start: true)
    }

    mutating func addNode(_ id: NodeID, state: DurableState, start startNow: Bool) throws {
        precondition(slots[id] == nil, "node \(id) exists already")
        guard let digest = snapshotDigest(state.snapshot) else {
            throw failure(.readyContract, "initial snapshot of node \(id) is not a simulator snapshot")
        }
        try registerInitialLog(state, digest: digest, node: id)
        slots[id] = nodes.count
        nodes.append(SimulatedNode(id: id, core: nil, storage: StorageTwin(state, snapshotDigest: digest), applied: nil))
        if startNow { try start(nodes.count - 1) }
    }

    func snapshotDigest(_ snapshot: Snapshot) -> UInt64? {
        if snapshot.metadata.index == 0 { return LogDigest.empty }
        return AppliedState.decode(snapshot.data)?.digest
    }

    mutating func start(_ index: Int) throws {
        let id = nodes[index].id
        var config = options.raft
        config.id = id
        // A fresh jitter sequence per (seed, node, restart), all derived from the run's seed.
        var seeds = SimulationRandom(seed: options.seed ^ (id &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(nodes[index].restarts) << 48)
        config.randomSeed = seeds.next()
        let storage = nodes[index].storage
        if storage.hardState.commit > storage.lastIndex {
            throw failure(.durability, "node \(id) restarts with commit \(storage.hardState.commit) but its durable log ends at \(storage.lastIndex)")
        }
        let snapshot = storage.snapshot
        guard let state = snapshot.metadata.index == 0
            ? AppliedState(index: 0, term: 0, digest: LogDigest.empty, proposalCount: 0)
            : AppliedState.decode(snapshot.data)
        else {
            throw failure(.stateMachineSafety, "node \(id) cannot decode its durable snapshot at \(snapshot.metadata.index)")
        }
        nodes[index].applied = state
        nodes[index].lastLocalSnapshot = snapshot.metadata.index
        nodes[index].crashPlan = nil
        nodes[index].lastRole = .follower
        nodes[index].completenessTerm = 0
        nodes[index].core = RaftNode(config: config, state: storage.durableState)
        try drain(index)
    }

    // MARK: - Failures

    func failure(_ invariant: Invariant, _ detail: String) -> SimulationFailure {
        SimulationFailure(invariant: invariant, detail: detail, seed: options.seed, tick: tick, step: stats.steps,
                          replayCommand: options.replayCommand, recentEvents: trace.recent(options.traceEventsInReport))
    }
}
