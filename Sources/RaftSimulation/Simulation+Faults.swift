import Raft

extension Simulation {
    // MARK: Crashes

    /// Crashes a node now, between two `Ready`s: it keeps only its durable twin.
    public mutating func crash(_ id: NodeID) {
        let index = slot(id)
        guard nodes[index].core != nil else { return }
        crashNow(index, why: "at rest")
    }

    /// Plans a crash of `id` at `point` of the next `Ready` that reaches it.
    public mutating func crash(_ id: NodeID, at point: CrashPoint) {
        let index = slot(id)
        guard nodes[index].core != nil else { return }
        nodes[index].crashPlan = point
        trace.record(.note(now, "node \(id) will crash \(point.rawValue)"))
    }

    mutating func crashNow(_ index: Int, why: String) {
        let id = nodes[index].id
        nodes[index].core = nil
        nodes[index].applied = nil
        nodes[index].crashPlan = nil
        nodes[index].backgroundWrites = []  // never written
        nodes[index].storage.loseUnsyncedWrites()
        stats.crashes += 1
        trace.record(.crash(now, id, why))
        abandonReads(at: id)
    }

    /// Restarts a crashed node from its durable twin alone.
    public mutating func restart(_ id: NodeID) throws {
        let index = slot(id)
        guard nodes[index].core == nil, !nodes[index].retired else { return }
        nodes[index].restarts += 1
        stats.restarts += 1
        trace.record(.restart(now, id))
        try start(index)
    }

    /// Stops a node for good (for example after removing it from the cluster).
    public mutating func retire(_ id: NodeID) {
        let index = slot(id)
        if nodes[index].core != nil { crashNow(index, why: "retired") }
        nodes[index].retired = true
    }

    // MARK: Network

    /// Splits the cluster into groups that cannot talk to each other; nodes named in no
    /// group are isolated. Replaces any earlier partition.
    public mutating func partition(_ groups: [[NodeID]]) {
        var groupOf: [NodeID: Int] = [:]
        for (k, group) in groups.enumerated() { for id in group { groupOf[id] = k } }
        blockedLinks = []
        for a in nodeIDs {
            for b in nodeIDs where a != b {
                if groupOf[a] == nil || groupOf[a] != groupOf[b] { blockedLinks.insert(Link(from: a, to: b)) }
            }
        }
        trace.record(.note(now, "partition \(groups.map { $0.sorted() })"))
    }

    /// Cuts `id` off from every other node, both ways.
    public mutating func isolate(_ id: NodeID) {
        for other in nodeIDs where other != id {
            blockedLinks.insert(Link(from: id, to: other))
            blockedLinks.insert(Link(from: other, to: id))
        }
        trace.record(.note(now, "isolate \(id)"))
    }

    /// Cuts the one-way link `from → to`; the other direction keeps working.
    public mutating func cutLink(from: NodeID, to: NodeID) {
        blockedLinks.insert(Link(from: from, to: to))
        trace.record(.note(now, "cut \(from)→\(to)"))
    }

    /// Two groups that cannot talk to each other, and a bridge node that talks to both.
    public mutating func bridge(_ left: [NodeID], _ right: [NodeID], via bridge: NodeID) {
        partition([left + [bridge], right])
        for id in right {
            blockedLinks.remove(Link(from: id, to: bridge))
            blockedLinks.remove(Link(from: bridge, to: id))
        }
        trace.record(.note(now, "bridge \(left.sorted()) ⟷ \(bridge) ⟷ \(right.sorted())"))
    }

    /// Restores every link (network conditions are unchanged).
    public mutating func heal() {
        blockedLinks = []
        trace.record(.note(now, "heal"))
    }

    // MARK: Manual delivery (transcript scenarios)

    /// Delivers, in send order, the held messages matching `predicate` that are held now,
    /// then handles whatever they caused. Returns how many were delivered.
    @discardableResult
    public mutating func deliverHeld(where predicate: (Message) -> Bool = { _ in true }) throws -> Int {
        let batch = heldMessages.filter(predicate)
        heldMessages.removeAll(where: predicate)
        for message in batch { try deliver(message) }
        return batch.count
    }

    /// Delivers held messages matching `predicate` until none is left (the network
    /// "stabilises"); fails if that takes more than `maxRounds` rounds.
    public mutating func stabilize(where predicate: (Message) -> Bool = { _ in true }, maxRounds: Int = 1_000) throws {
        for _ in 0..<maxRounds {
            if try deliverHeld(where: predicate) == 0 { return }
        }
        throw failure(.liveness, "messages still flowing after \(maxRounds) rounds")
    }

    /// Drops the held messages matching `predicate`; returns how many.
    @discardableResult
    public mutating func dropHeld(where predicate: (Message) -> Bool) -> Int {
        let count = heldMessages.filter(predicate).count
        for message in heldMessages where predicate(message) { trace.record(.drop(now, message, "dropped by the test")) }
        heldMessages.removeAll(where: predicate)
        stats.messagesDropped += count
        return count
    }

    /// Steps a hand-made message into its receiver (for term and vote rules).
    public mutating func inject(_ message: Message) throws {
        try deliver(message)
    }
}
