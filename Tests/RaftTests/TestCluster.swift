@testable import Raft

/// A tiny synchronous cluster for unit tests: every node's Ready is persisted into an
/// in-memory durable state, messages are delivered in order unless a link is cut.
struct TestCluster {
    var nodes: [NodeID: RaftNode] = [:]
    var durable: [NodeID: DurableState] = [:]
    var applied: [NodeID: [Entry]] = [:]
    var readStates: [NodeID: [ReadState]] = [:]
    var inFlight: [Message] = []
    var cut: Set<[NodeID]> = []
    var down: Set<NodeID> = []
    var configs: [NodeID: RaftConfig] = [:]
    /// Nodes that, while leading, hold their writes back (as a background writer would) until
    /// ``completeWrites(_:)``: the `Ready`s whose durable part is not on "disk" yet.
    var writesHeld: Set<NodeID> = []
    var heldWrites: [NodeID: [Ready]] = [:]

    init(voters: [NodeID], preVote: Bool = true, checkQuorum: Bool = true, tweak: (inout RaftConfig) -> Void = { _ in }) {
        for id in voters {
            var config = RaftConfig(id: id)
            config.preVote = preVote
            config.checkQuorum = checkQuorum
            config.randomSeed = 42
            tweak(&config)
            configs[id] = config
            durable[id] = .bootstrap(Set(voters))
            nodes[id] = RaftNode(config: config, state: durable[id]!)
            applied[id] = []
        }
    }

    mutating func addNode(_ id: NodeID, tweak: (inout RaftConfig) -> Void = { _ in }) {
        var config = RaftConfig(id: id)
        config.randomSeed = 42
        tweak(&config)
        configs[id] = config
        durable[id] = .empty
        nodes[id] = RaftNode(config: config, state: .empty)
        applied[id] = []
    }

    /// Handles every node's Ready: persist, send, apply, advance.
    mutating func processReadies() {
        for id in nodes.keys.sorted() where !down.contains(id) {
            guard nodes[id]!.hasReady else { continue }
            let rd = nodes[id]!.ready()
            if writesHeld.contains(id) && rd.mayPersistInBackground {
                inFlight.append(contentsOf: rd.messages)
                applied[id]!.append(contentsOf: rd.committedEntries)
                readStates[id, default: []].append(contentsOf: rd.readStates)
                if rd.needsPersistence { heldWrites[id, default: []].append(rd) }
                nodes[id]!.advance(rd, persisted: false)
                continue
            }
            precondition(heldWrites[id, default: []].isEmpty, "node \(id) must complete its held writes first")
            write(rd, to: id)
            inFlight.append(contentsOf: rd.messages)
            if let snapshot = rd.snapshot {
                applied[id] = decodeApplied(snapshot.data)
            }
            applied[id]!.append(contentsOf: rd.committedEntries)
            readStates[id, default: []].append(contentsOf: rd.readStates)
            nodes[id]!.advance(rd)
        }
    }

    /// Writes the held-back writes of `id` to its "disk" and reports them to its core.
    mutating func completeWrites(_ id: NodeID) {
        let writes = heldWrites.removeValue(forKey: id) ?? []
        for rd in writes { write(rd, to: id) }
        if let last = writes.last(where: { !$0.entries.isEmpty })?.entries.last {
            nodes[id]!.persisted(through: last.index, term: last.term)
        }
    }

    private mutating func write(_ rd: Ready, to id: NodeID) {
        var state = durable[id]!
        if let snapshot = rd.snapshot {
            state.snapshot = snapshot
            state.entries.removeAll()
        }
        if let first = rd.entries.first {
            let keep = Int(first.index - state.snapshot.metadata.index - 1)
            state.entries.removeSubrange(keep...)
            state.entries.append(contentsOf: rd.entries)
        }
        if let hs = rd.hardState { state.hardState = hs }
        durable[id] = state
    }

    /// Delivers messages and processes readies until the cluster is quiet.
    mutating func stabilize(maxRounds: Int = 1000) {
        for _ in 0..<maxRounds {
            if !deliverRound() { return }
        }
        preconditionFailure("cluster did not stabilize")
    }

    /// Processes every Ready, then delivers the messages that were in flight (not the ones
    /// their delivery produces). Returns false when nothing was in flight.
    @discardableResult
    mutating func deliverRound() -> Bool {
        processReadies()
        // A node may have more to hand over after `advance` (a single voter commits once its
        // write is reported durable there).
        let moreReady = nodes.contains { !down.contains($0.key) && $0.value.hasReady }
        if inFlight.isEmpty && !moreReady { return false }
        let batch = inFlight
        inFlight = []
        for message in batch where !down.contains(message.to) && !down.contains(message.from)
            && !cut.contains([message.from, message.to]) && nodes[message.to] != nil {
            nodes[message.to]!.step(message)
        }
        return true
    }

    mutating func tick(_ count: Int = 1) {
        for _ in 0..<count {
            for id in nodes.keys.sorted() where !down.contains(id) { nodes[id]!.tick() }
            stabilize()
        }
    }

    mutating func isolate(_ id: NodeID) {
        for other in nodes.keys where other != id {
            cut.insert([id, other])
            cut.insert([other, id])
        }
    }

    mutating func heal() { cut = [] }

    mutating func crash(_ id: NodeID) { down.insert(id) }

    mutating func restart(_ id: NodeID) {
        down.remove(id)
        nodes[id] = RaftNode(config: configs[id]!, state: durable[id]!)
        let snapshot = durable[id]!.snapshot
        applied[id] = decodeApplied(snapshot.data)
    }

    var leaders: [NodeID] { nodes.keys.sorted().filter { !down.contains($0) && nodes[$0]!.status.role == .leader } }

    mutating func elect(_ id: NodeID) {
        nodes[id]!.campaign()
        stabilize()
    }

    mutating func propose(_ id: NodeID, _ text: String) throws(ProposalError) -> LogPosition {
        let position = try nodes[id]!.propose(Array(text.utf8))
        stabilize()
        return position
    }

    /// Application payloads each node applied, as strings (empty leader entries skipped).
    func appliedTexts(_ id: NodeID) -> [String] {
        applied[id]!.filter { $0.kind == .normal && !$0.data.isEmpty }.map { String(decoding: $0.data, as: UTF8.self) }
    }

    /// Snapshot data: the applied entries' texts joined by newlines.
    func snapshotData(_ id: NodeID) -> [UInt8] {
        Array(appliedTexts(id).joined(separator: "\n").utf8)
    }

    func decodeApplied(_ data: [UInt8]) -> [Entry] {
        guard !data.isEmpty else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            Entry(term: 0, index: 0, data: Array($0.utf8))
        }
    }
}
