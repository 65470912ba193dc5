import Raft

/// What the invariant checker remembers about the whole run.
struct History {
    struct Committed {
        var term: Term
        var digest: UInt64
        /// The term of the node that first applied it: the entry was committed in this term
        /// or earlier, so every leader of a later term must hold it.
        var observedTerm: Term
    }

    /// The one leader of each term seen so far.
    var leaderOfTerm: [Term: NodeID] = [:]
    /// Prefix digest of every (index, term) any node ever persisted.
    var prefixDigests: [PositionKey: UInt64] = [PositionKey(index: 0, term: 0): LogDigest.empty]
    /// Every committed entry, as first applied by some node.
    var committed: [LogIndex: Committed] = [:]
    var committedMax: LogIndex = 0
    /// The committed membership history: (index of the change, membership after it).
    var configurations: [(index: LogIndex, configuration: Configuration)] = []
    /// Membership changes proposed, by the position `proposeConfigChange` returned.
    var proposedChanges: [PositionKey: ConfigChange] = [:]

    /// The membership in force once the committed log reaches `index`.
    func configurationIndex(atOrBefore index: LogIndex) -> Int {
        var k = configurations.count - 1
        while k > 0 && configurations[k].index > index { k -= 1 }
        return k
    }
}

extension Simulation {
    /// Registers a node's initial log so later logs are compared against it.
    mutating func registerInitialLog(_ state: DurableState, digest: UInt64, node id: NodeID) throws {
        let meta = state.snapshot.metadata
        var previous = digest
        var key = PositionKey(index: meta.index, term: meta.term)
        if let known = history.prefixDigests[key], known != digest {
            throw failure(.logMatching, "initial snapshot of node \(id) at \(meta.index)/\(meta.term) differs from another node's")
        }
        history.prefixDigests[key] = digest
        for entry in state.entries {
            previous = LogDigest.chain(previous, entry)
            key = PositionKey(index: entry.index, term: entry.term)
            if let known = history.prefixDigests[key], known != previous {
                throw failure(.logMatching, "initial log of node \(id) breaks log matching at \(entry.index)/\(entry.term)")
            }
            history.prefixDigests[key] = previous
        }
    }

    /// Called when node `index` applies `entry`: state-machine safety, durability at commit,
    /// client bookkeeping, the committed membership history.
    mutating func recordCommitted(_ entry: Entry, digest: UInt64, by index: Int) throws {
        let id = nodes[index].id
        if let record = history.committed[entry.index] {
            if record.term != entry.term || record.digest != digest {
                throw failure(.stateMachineSafety, "node \(id) applies \(entry.index)/\(entry.term), but \(entry.index)/\(record.term) was applied elsewhere (or the applied prefixes differ)")
            }
            return
        }
        if let known = history.prefixDigests[PositionKey(index: entry.index, term: entry.term)], known != digest {
            throw failure(.stateMachineSafety, "node \(id) applied a sequence ending at \(entry.index)/\(entry.term) that differs from the log holding that entry")
        }
        let observedTerm = nodes[index].core!.status.term
        try checkQuorumHolds(entry, reportedBy: index)
        history.committed[entry.index] = History.Committed(term: entry.term, digest: digest, observedTerm: observedTerm)
        history.committedMax = max(history.committedMax, entry.index)
        if entry.kind == .configChange {
            guard let change = ConfigChange(encoded: entry.data) else {
                throw failure(.membership, "entry \(entry.index)/\(entry.term) is marked a membership change but does not decode as one")
            }
            if let proposed = history.proposedChanges[PositionKey(index: entry.index, term: entry.term)], proposed != change {
                throw failure(.membership, "entry \(entry.index)/\(entry.term) carries \(change), but \(proposed) was proposed there")
            }
            let next = change.applied(to: history.configurations.last!.configuration)
            history.configurations.append((entry.index, next))
            if history.proposedChanges[PositionKey(index: entry.index, term: entry.term)] != nil { stats.membershipChanges += 1 }
            trace.record(.note(now, "membership \(change) committed at \(entry.index): voters \(next.voters.sorted()) learners \(next.learners.sorted())"))
        }
        try resolveProposals(committed: entry)
        // Every current leader of a later term must already hold it.
        for k in nodes.indices where k != index {
            if let status = nodes[k].core?.status, status.role == .leader, status.term > observedTerm,
               !nodes[k].storage.covers(index: entry.index, term: entry.term) {
                throw failure(.leaderCompleteness, "leader \(nodes[k].id) of term \(status.term) lacks entry \(entry.index)/\(entry.term), just committed in term \(observedTerm)")
            }
        }
    }

    /// When an entry is first seen committed, a quorum of voters must hold it durably
    /// (under the membership just before or just after the last change preceding it).
    func checkQuorumHolds(_ entry: Entry, reportedBy index: Int) throws {
        let k = history.configurationIndex(atOrBefore: entry.index - 1)
        var candidates = [history.configurations[k].configuration]
        if k > 0 { candidates.append(history.configurations[k - 1].configuration) }
        if entry.kind == .configChange, let change = ConfigChange(encoded: entry.data) {
            candidates.append(change.applied(to: candidates[0]))
        }
        var holders: [NodeID] = []
        for node in nodes where node.storage.covers(index: entry.index, term: entry.term) { holders.append(node.id) }
        for configuration in candidates {
            if configuration.voters.isEmpty { return }
            let count = configuration.voters.filter { holders.contains($0) }.count
            if count >= configuration.quorum { return }
        }
        throw failure(.durability, "entry \(entry.index)/\(entry.term) is applied by node \(nodes[index].id) but only \(holders.sorted()) hold it durably; voters \(candidates[0].voters.sorted())")
    }

    /// A snapshot's membership must be the committed membership at its index.
    func checkConfigurationOfSnapshot(_ snapshot: Snapshot, node id: NodeID) throws {
        let meta = snapshot.metadata
        guard meta.index <= history.committedMax else { return }
        let expected = history.configurations[history.configurationIndex(atOrBefore: meta.index)].configuration
        if expected != meta.configuration {
            throw failure(.membership, "snapshot at \(meta.index) for node \(id) records voters \(meta.configuration.voters.sorted()) learners \(meta.configuration.learners.sorted()); the committed log says voters \(expected.voters.sorted()) learners \(expected.learners.sorted())")
        }
    }

    /// After a node handled all its `Ready`s: it mirrors its durable state, and election
    /// safety, leader completeness and membership sanity hold for it.
    mutating func checkNode(_ index: Int) throws {
        guard let status = nodes[index].core?.status else { return }
        let id = nodes[index].id
        let storage = nodes[index].storage
        if status.term != storage.hardState.term || status.vote != storage.hardState.vote {
            throw failure(.readyContract, "node \(id) is in term \(status.term) with vote \(status.vote) but persisted term \(storage.hardState.term) vote \(storage.hardState.vote) (a Ready omitted the hard state)")
        }
        // A leader's background writes not yet done count as handed over.
        let handed = nodes[index].backgroundWrites.last(where: { !$0.entries.isEmpty })?.entries.last?.index ?? storage.lastIndex
        if status.lastIndex != handed {
            throw failure(.readyContract, "node \(id) has last index \(status.lastIndex) in memory but \(handed) durable or being written after all Readys were handled")
        }
        if let applied = nodes[index].applied, status.applied != applied.index {
            throw failure(.readyContract, "node \(id) reports applied \(status.applied) but its state machine applied \(applied.index)")
        }
        if status.role != nodes[index].lastRole || status.term != nodes[index].lastTerm {
            nodes[index].lastRole = status.role
            nodes[index].lastTerm = status.term
            trace.record(.role(now, id, status.role, status.term))
            if status.role == .leader { stats.elections += 1 }
        }
        if status.role == .leader {
            if let other = history.leaderOfTerm[status.term], other != id {
                throw failure(.electionSafety, "nodes \(other) and \(id) are both leader of term \(status.term)")
            }
            history.leaderOfTerm[status.term] = id
            try checkLeaderCompleteness(index, term: status.term)
            if storage.configChanges(after: status.commit) > 1 {
                throw failure(.membership, "leader \(id) holds \(storage.configChanges(after: status.commit)) uncommitted membership changes")
            }
        }
        try checkConfigurationView(index, status)
    }

    /// Every entry committed in an earlier term is in this leader's durable log.
    mutating func checkLeaderCompleteness(_ index: Int, term: Term) throws {
        if nodes[index].completenessTerm != term {
            nodes[index].completenessTerm = term
            nodes[index].completenessThrough = 0
        }
        var position = nodes[index].completenessThrough + 1
        while position <= history.committedMax {
            if let record = history.committed[position], record.observedTerm < term,
               !nodes[index].storage.covers(index: position, term: record.term) {
                throw failure(.leaderCompleteness, "node \(nodes[index].id) leads term \(term) without committed entry \(position)/\(record.term)")
            }
            position += 1
        }
        nodes[index].completenessThrough = history.committedMax
    }

    /// A node's membership is the committed membership somewhere between its applied index
    /// and its commit index.
    func checkConfigurationView(_ index: Int, _ status: RaftStatus) throws {
        if status.applied == 0 && nodes[index].storage.snapshot.metadata.configuration.members.isEmpty { return }  // not joined yet
        guard status.commit <= history.committedMax else { return }  // the history cannot tell yet
        let low = history.configurationIndex(atOrBefore: status.applied)
        let high = history.configurationIndex(atOrBefore: status.commit)
        for k in low...high where history.configurations[k].configuration == status.configuration { return }
        let expected = history.configurations[high].configuration
        throw failure(.membership, "node \(nodes[index].id) (applied \(status.applied), commit \(status.commit)) sees voters \(status.configuration.voters.sorted()) learners \(status.configuration.learners.sorted()); the committed log says voters \(expected.voters.sorted()) learners \(expected.learners.sorted())")
    }

    /// Checks that need the whole cluster at once; cheap enough to run at the end of a run.
    public func checkWholeCluster() throws {
        for node in nodes {
            let storage = node.storage
            var index = storage.entryOffset + 1
            while index <= storage.lastIndex {
                if let entry = storage.entry(at: index), let digest = storage.digest(at: index),
                   history.prefixDigests[PositionKey(index: index, term: entry.term)] != digest {
                    throw failure(.logMatching, "node \(node.id)'s durable entry \(index)/\(entry.term) no longer matches the log it came from")
                }
                if index <= min(storage.hardState.commit, history.committedMax), let record = history.committed[index],
                   storage.term(at: index) != record.term {
                    throw failure(.durability, "node \(node.id) holds \(index)/\(storage.term(at: index) ?? 0) below its commit, but \(index)/\(record.term) was committed")
                }
                index += 1
            }
            if let applied = node.applied, applied.index > 0 {
                guard let record = history.committed[applied.index], record.digest == applied.digest else {
                    throw failure(.stateMachineSafety, "node \(node.id)'s state at \(applied.index) is not the committed prefix")
                }
            }
        }
    }
}
