import Raft

/// What became of a client proposal.
public enum ProposalOutcome: Sendable, Hashable {
    /// Appended by a leader; not known committed or lost yet.
    case pending
    /// Committed at the position `propose` returned, first applied at this tick.
    case committed(tick: UInt64)
    /// Another entry committed at its index (or a later term's entry committed before it).
    case lost
}

/// One client proposal and its fate.
public struct ProposalRecord: Sendable, Hashable {
    public var id: UInt64
    public var node: NodeID
    public var position: LogPosition
    public var proposedAtTick: UInt64
    public var outcome: ProposalOutcome
}

/// One ReadIndex request and its fate.
public struct ReadRecord: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        case waiting
        /// The leader confirmed this read point.
        case confirmed(index: LogIndex)
        /// Served once the node had applied `appliedIndex` ≥ the read point.
        case served(index: LogIndex, appliedIndex: LogIndex)
        /// The node crashed first.
        case abandoned
    }
    public var node: NodeID
    public var context: UInt64
    public var requestedAtTick: UInt64
    /// Everything committed anywhere before the request: the read point may not precede it.
    public var mustSee: LogIndex
    public var state: State
}

struct ClientLedger {
    var nextProposalID: UInt64 = 1
    var proposals: [UInt64: ProposalRecord] = [:]
    var pendingAt: [LogIndex: [UInt64]] = [:]
    var pending: Set<UInt64> = []
    var reads: [UInt64: ReadRecord] = [:]
    var readCounter: [NodeID: UInt64] = [:]
    /// Confirmed, not yet served reads per node.
    var confirmedReads: [NodeID: [UInt64]] = [:]
}

extension Simulation {
    // MARK: Proposals

    /// Proposes a fresh, unique payload at `id`. The outer `throws` is an invariant
    /// violation; the result says whether the core accepted it (and the proposal id).
    public mutating func propose(at id: NodeID) throws -> Result<UInt64, ProposalError> {
        let index = slot(id)
        guard nodes[index].core != nil else { return .failure(.notLeader(leader: 0)) }
        let proposalID = ledger.nextProposalID
        let data = ProposalPayload.encode(id: proposalID, bytes: options.payloadBytes)
        let position: LogPosition
        do {
            position = try nodes[index].core!.propose(data)
        } catch {
            stats.proposalsRejected += 1
            return .failure(error)
        }
        ledger.nextProposalID += 1
        stats.proposalsAccepted += 1
        ledger.proposals[proposalID] = ProposalRecord(id: proposalID, node: id, position: position,
                                                      proposedAtTick: tick, outcome: .pending)
        ledger.pendingAt[position.index, default: []].append(proposalID)
        ledger.pending.insert(proposalID)
        if let record = history.committed[position.index] {
            // A stale leader appended at an index that is committed already: a different
            // entry is there for good (it cannot be this one, appended just now).
            if record.term == position.term {
                throw failure(.proposals, "node \(id) accepted proposal #\(proposalID) at \(position.index)/\(position.term), a position committed before")
            }
            try resolve(proposalID, at: position.index, committedTerm: record.term, entry: nil)
        }
        try drain(index)
        return .success(proposalID)
    }

    /// Proposes `count` entries at the current leader, if there is one; returns the ids.
    @discardableResult
    public mutating func proposeAtLeader(count: Int = 1) throws -> [UInt64] {
        guard let leader else { return [] }
        var ids: [UInt64] = []
        for _ in 0..<count {
            if case .success(let id) = try propose(at: leader) { ids.append(id) }
        }
        return ids
    }

    /// The record of proposal `id`.
    public func proposal(_ id: UInt64) -> ProposalRecord { ledger.proposals[id]! }

    /// Ids of proposals neither committed nor lost yet.
    public var pendingProposals: [UInt64] { ledger.pending.sorted() }

    /// Proposes a membership change at `id` (the leader).
    public mutating func proposeConfigChange(_ change: ConfigChange, at id: NodeID) throws -> Result<LogPosition, ProposalError> {
        let index = slot(id)
        guard nodes[index].core != nil else { return .failure(.notLeader(leader: 0)) }
        let position: LogPosition
        do {
            position = try nodes[index].core!.proposeConfigChange(change)
        } catch {
            return .failure(error)
        }
        let status = nodes[index].core!.status
        // One-change-at-a-time is safe only once the leader committed an entry of its term.
        if nodes[index].storage.term(at: status.commit) != status.term {
            throw failure(.membership, "leader \(id) of term \(status.term) accepted \(change) before committing an entry of its term (commit \(status.commit))")
        }
        history.proposedChanges[PositionKey(index: position.index, term: position.term)] = change
        trace.record(.note(now, "node \(id) proposes \(change) at \(position.index)/\(position.term)"))
        try drain(index)
        return .success(position)
    }

    /// Resolves proposals once the entry at their index committed.
    mutating func resolveProposals(committed entry: Entry) throws {
        if let waiting = ledger.pendingAt[entry.index] {
            for proposalID in waiting {
                try resolve(proposalID, at: entry.index, committedTerm: entry.term, entry: entry)
            }
        }
        if let proposalID = ProposalPayload.decode(entry) {
            guard let record = ledger.proposals[proposalID] else {
                throw failure(.proposals, "entry \(entry.index)/\(entry.term) carries proposal #\(proposalID), which was never accepted")
            }
            if record.position != LogPosition(index: entry.index, term: entry.term) {
                throw failure(.proposals, "proposal #\(proposalID) commits at \(entry.index)/\(entry.term), but propose() returned \(record.position.index)/\(record.position.term) (applied twice or misplaced)")
            }
        }
    }

    /// Settles a pending proposal once the entry at its index is known committed.
    mutating func resolve(_ proposalID: UInt64, at index: LogIndex, committedTerm: Term, entry: Entry?) throws {
        let record = ledger.proposals[proposalID]!
        if record.position.term == committedTerm {
            if let entry, ProposalPayload.decode(entry) != proposalID {
                throw failure(.proposals, "proposal #\(proposalID) was accepted at \(index)/\(committedTerm), but the entry committed there carries other data")
            }
            ledger.proposals[proposalID]!.outcome = .committed(tick: tick)
            stats.proposalsCommitted += 1
        } else {
            ledger.proposals[proposalID]!.outcome = .lost
            stats.proposalsLost += 1
        }
        ledger.pending.remove(proposalID)
        ledger.pendingAt[index]?.removeAll(where: { $0 == proposalID })
        if ledger.pendingAt[index]?.isEmpty == true { ledger.pendingAt[index] = nil }
    }

    /// A proposal at index i in term t can never commit once an entry of a later term has
    /// committed at an index ≤ i (log terms never decrease along the committed log).
    mutating func sweepProposals() throws {
        guard !ledger.pending.isEmpty, let newest = history.committed[history.committedMax] else { return }
        for proposalID in ledger.pending.sorted() {
            let record = ledger.proposals[proposalID]!
            if let committed = history.committed[record.position.index] {
                try resolve(proposalID, at: record.position.index, committedTerm: committed.term, entry: nil)
            } else if record.position.index > history.committedMax && record.position.term < newest.term {
                try resolve(proposalID, at: record.position.index, committedTerm: newest.term, entry: nil)
            }
        }
    }

    // MARK: Reads

    /// Asks node `id` for a linearizable read point; returns the request's context.
    @discardableResult
    public mutating func requestRead(at id: NodeID) throws -> UInt64 {
        let index = slot(id)
        let counter = ledger.readCounter[id, default: 0] + 1
        ledger.readCounter[id] = counter
        let context = id << 32 | counter
        ledger.reads[context] = ReadRecord(node: id, context: context, requestedAtTick: tick,
                                           mustSee: history.committedMax, state: .waiting)
        guard nodes[index].core != nil else {
            ledger.reads[context]!.state = .abandoned
            return context
        }
        trace.record(.note(now, "read requested at node \(id), ctx \(context), must see \(history.committedMax)"))
        nodes[index].core!.requestRead(context: context)
        try drain(index)
        return context
    }

    /// The record of the read request with this context.
    public func read(_ context: UInt64) -> ReadRecord { ledger.reads[context]! }

    mutating func confirmRead(_ readState: ReadState, at index: Int) throws {
        let id = nodes[index].id
        guard let record = ledger.reads[readState.context], record.node == id else {
            throw failure(.linearizableReads, "node \(id) confirms read context \(readState.context), which it never requested")
        }
        if readState.index < record.mustSee {
            throw failure(.linearizableReads, "node \(id) confirms read point \(readState.index) for a read requested after \(record.mustSee) had committed: a stale read")
        }
        // A duplicated request may be confirmed twice; the first confirmation serves it.
        guard record.state == .waiting else { return }
        ledger.reads[readState.context]!.state = .confirmed(index: readState.index)
        ledger.confirmedReads[id, default: []].append(readState.context)
        trace.record(.note(now, "node \(id) confirms read ctx \(readState.context) at \(readState.index)"))
    }

    mutating func serveReads(at index: Int) {
        guard let applied = nodes[index].applied else { return }
        let id = nodes[index].id
        guard let waiting = ledger.confirmedReads[id], !waiting.isEmpty else { return }
        var still: [UInt64] = []
        for context in waiting {
            if case .confirmed(let readIndex) = ledger.reads[context]!.state, applied.index >= readIndex {
                ledger.reads[context]!.state = .served(index: readIndex, appliedIndex: applied.index)
                stats.readsServed += 1
            } else if case .confirmed = ledger.reads[context]!.state {
                still.append(context)
            }
        }
        ledger.confirmedReads[id] = still
    }

    mutating func abandonReads(at id: NodeID) {
        ledger.confirmedReads[id] = []
        for (context, record) in ledger.reads where record.node == id {
            if case .waiting = record.state { ledger.reads[context]!.state = .abandoned }
            if case .confirmed = record.state { ledger.reads[context]!.state = .abandoned }
        }
    }
}
