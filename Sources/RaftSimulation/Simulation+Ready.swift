import Raft

extension Simulation {
    /// Handles every `Ready` of node `index` until it has none, following the contract:
    /// persist (snapshot, entries, hard state), send, apply, advance. A planned crash
    /// strikes at its point; afterwards the node's observable state is checked.
    mutating func drain(_ index: Int) throws {
        while let core = nodes[index].core, core.hasReady {
            let ready = nodes[index].core!.ready()
            stats.steps += 1
            if ready.mayPersistInBackground && ready.needsPersistence && options.leaderWritesInBackground {
                try handInBackground(index, ready)
                if nodes[index].core == nil { return }
                continue
            }
            // Anything written in the background goes first, in order (the node loop waits
            // for its writer the same way).
            let flushed = try flushBackgroundWrites(index)
            if ready.needsPersistence, nodes[index].crashPlan == .beforePersist {
                stats.crashesBeforePersist += 1
                crashNow(index, why: CrashPoint.beforePersist.rawValue)
                return
            }
            try persist(index, ready)
            if ready.needsPersistence, nodes[index].crashPlan == .afterPersist {
                stats.crashesAfterPersist += 1
                crashNow(index, why: CrashPoint.afterPersist.rawValue)
                return
            }
            for message in ready.messages {
                try checkOutgoing(message, from: index)
                send(message)
            }
            if nodes[index].crashPlan == .afterSend,
               ready.needsPersistence || !ready.committedEntries.isEmpty {
                stats.crashesAfterSend += 1
                crashNow(index, why: CrashPoint.afterSend.rawValue)
                return
            }
            try apply(index, ready)
            nodes[index].core!.advance(ready)
            if let flushed { nodes[index].core!.persisted(through: flushed.index, term: flushed.term) }
            try takeLocalSnapshotIfDue(index)
        }
        try checkNode(index)
    }

    // MARK: Background writes

    /// A leader's `Ready` handled as the node loop does with its background writer: messages
    /// sent and committed entries applied now, the write queued, `advance` told it is not
    /// durable yet. The write completes later (``completeBackgroundWrites(_:)``) or is lost
    /// in a crash.
    mutating func handInBackground(_ index: Int, _ ready: Ready) throws {
        for message in ready.messages {
            try checkOutgoing(message, from: index)
            send(message)
        }
        if nodes[index].crashPlan == .afterSend {
            stats.crashesAfterSend += 1
            crashNow(index, why: CrashPoint.afterSend.rawValue + " (its write still queued)")
            return
        }
        try apply(index, ready)
        nodes[index].core!.advance(ready, persisted: false)
        nodes[index].backgroundWrites.append(ready)
        stats.backgroundWrites += 1
    }

    /// Makes every queued background write of node `index` durable, in order; returns the
    /// last entry written, for ``RaftNode/persisted(through:term:)`` once the caller may call
    /// the core.
    mutating func flushBackgroundWrites(_ index: Int) throws -> LogPosition? {
        var last: LogPosition?
        while !nodes[index].backgroundWrites.isEmpty {
            let write = nodes[index].backgroundWrites.removeFirst()
            try persist(index, write)
            if let entry = write.entries.last { last = LogPosition(index: entry.index, term: entry.term) }
        }
        return last
    }

    /// The background writer of every node with queued writes finishes them (called between
    /// ticks, with a seeded chance, so writes lag their sends by a varying time).
    mutating func completeBackgroundWrites() throws {
        for index in nodes.indices where nodes[index].core != nil && !nodes[index].backgroundWrites.isEmpty {
            guard random.chance(0.5) else { continue }
            if let last = try flushBackgroundWrites(index) {
                nodes[index].core!.persisted(through: last.index, term: last.term)
            }
            try drain(index)
        }
    }

    // MARK: Persist

    mutating func persist(_ index: Int, _ ready: Ready) throws {
        let id = nodes[index].id
        if let snapshot = ready.snapshot {
            try persistSnapshot(index, snapshot)
        }
        if !ready.entries.isEmpty {
            try persistEntries(index, ready.entries, commit: max(nodes[index].storage.hardState.commit, ready.hardState?.commit ?? 0))
        }
        if let hardState = ready.hardState {
            let old = nodes[index].storage.hardState
            if hardState.term < old.term {
                throw failure(.readyContract, "node \(id) persists term \(hardState.term) below its durable term \(old.term)")
            }
            if hardState.term == old.term && old.vote != 0 && hardState.vote != old.vote {
                throw failure(.electionSafety, "node \(id) changes its vote in term \(old.term) from \(old.vote) to \(hardState.vote)")
            }
            if hardState.commit < old.commit {
                throw failure(.durability, "node \(id) persists commit \(hardState.commit) below its durable commit \(old.commit)")
            }
            if hardState.commit > nodes[index].storage.lastIndex {
                throw failure(.readyContract, "node \(id) persists commit \(hardState.commit) past its durable log (last \(nodes[index].storage.lastIndex))")
            }
            // As the cluster's node does: a hard state that only moves the commit index is
            // written without a sync, and a crash may lose it.
            if !ready.mustSync {
                nodes[index].storage.setCommitWithoutSync(hardState)
                return
            }
            nodes[index].storage.setHardState(hardState)
        }
        if ready.needsPersistence {
            // The sync also makes any earlier unsynced commit index durable (same file).
            nodes[index].storage.markSynced()
            nodes[index].storage.countSync()
        }
    }

    mutating func persistSnapshot(_ index: Int, _ snapshot: Snapshot) throws {
        let id = nodes[index].id
        let meta = snapshot.metadata
        let durable = nodes[index].storage.snapshot.metadata
        if meta.index <= durable.index {
            throw failure(.readyContract, "node \(id) is handed a snapshot at \(meta.index) that does not advance past its durable snapshot at \(durable.index)")
        }
        if let applied = nodes[index].applied, applied.index > meta.index {
            throw failure(.stateMachineSafety, "node \(id) is handed a snapshot at \(meta.index) behind its applied index \(applied.index)")
        }
        guard let digest = history.prefixDigests[PositionKey(index: meta.index, term: meta.term)] else {
            throw failure(.logMatching, "node \(id) is handed a snapshot at \(meta.index)/\(meta.term), a position no node ever had in its log")
        }
        guard let state = AppliedState.decode(snapshot.data), state.index == meta.index, state.term == meta.term else {
            throw failure(.stateMachineSafety, "node \(id) is handed a snapshot at \(meta.index)/\(meta.term) whose data describes another state")
        }
        if state.digest != digest {
            throw failure(.stateMachineSafety, "snapshot at \(meta.index)/\(meta.term) for node \(id) holds a state that differs from the log prefix it claims")
        }
        if let record = history.committed[meta.index], record.term != meta.term {
            throw failure(.durability, "snapshot at \(meta.index)/\(meta.term) for node \(id) contradicts the committed entry there (term \(record.term))")
        }
        try checkConfigurationOfSnapshot(snapshot, node: id)
        nodes[index].storage.installSnapshot(snapshot, digest: digest)
        stats.snapshotsInstalled += 1
    }

    mutating func persistEntries(_ index: Int, _ entries: [Entry], commit: LogIndex) throws {
        let id = nodes[index].id
        let storage = nodes[index].storage
        let first = entries[0].index
        for (k, entry) in entries.enumerated() {
            if entry.index != first + LogIndex(k) {
                throw failure(.readyContract, "node \(id) is asked to persist non-contiguous entries (\(first)… then \(entry.index) at position \(k))")
            }
            if k > 0 && entry.term < entries[k - 1].term {
                throw failure(.readyContract, "node \(id) is asked to persist entry \(entry.index) with term \(entry.term) after a term-\(entries[k - 1].term) entry")
            }
        }
        if first <= storage.entryOffset || first > storage.lastIndex + 1 {
            throw failure(.readyContract, "node \(id) is asked to persist entries from \(first), but its durable log holds \(storage.entryOffset + 1)…\(storage.lastIndex) (snapshot at \(storage.snapshot.metadata.index))")
        }
        if let previousTerm = storage.term(at: first - 1), previousTerm > entries[0].term {
            throw failure(.readyContract, "node \(id) appends entry \(first) of term \(entries[0].term) after an entry of term \(previousTerm)")
        }
        // A node holding a committed entry never loses it: it may be rewritten only with
        // itself, and never truncated away. (A stale node may hold a different entry at a
        // committed index; that one it may replace.)
        if first <= min(storage.lastIndex, history.committedMax) {
            for position in first...min(storage.lastIndex, history.committedMax) {
                guard let record = history.committed[position], storage.term(at: position) == record.term else { continue }
                let offset = Int(position - first)
                let replacement = offset < entries.count ? entries[offset].term : nil
                if replacement != record.term {
                    throw failure(.durability, "node \(id) \(replacement == nil ? "truncates" : "overwrites") committed entry \(position)/\(record.term)\(replacement.map { " with term \($0)" } ?? "")")
                }
            }
        }
        // Below its own commit index a node's log is the committed log.
        for entry in entries where entry.index <= commit {
            if let record = history.committed[entry.index], record.term != entry.term {
                throw failure(.durability, "node \(id) (commit \(commit)) writes \(entry.index)/\(entry.term), but \(entry.index)/\(record.term) is committed")
            }
        }
        nodes[index].storage.append(entries)
        for entry in entries {
            let digest = nodes[index].storage.digest(at: entry.index)!
            let key = PositionKey(index: entry.index, term: entry.term)
            if let known = history.prefixDigests[key] {
                if known != digest {
                    throw failure(.logMatching, "node \(id) holds entry \(entry.index)/\(entry.term) with a prefix (or data) that differs from another log holding \(entry.index)/\(entry.term)")
                }
            } else {
                history.prefixDigests[key] = digest
            }
        }
    }

    // MARK: Send

    func checkOutgoing(_ message: Message, from index: Int) throws {
        let id = nodes[index].id
        let storage = nodes[index].storage
        if message.from != id || message.to == id || message.to == 0 {
            throw failure(.readyContract, "node \(id) sends a message addressed \(message.from)→\(message.to)")
        }
        var preVote = false
        switch message.payload {
        case .vote(let request): preVote = request.preVote
        case .voteResponse(let response):
            preVote = response.preVote
            if response.granted && !response.preVote {
                if storage.hardState.term != message.term || storage.hardState.vote != message.to {
                    throw failure(.readyContract, "node \(id) grants its term-\(message.term) vote to \(message.to) before persisting it (durable term \(storage.hardState.term), vote \(storage.hardState.vote))")
                }
            }
        case .appendResponse(let response):
            if !response.reject && response.index > storage.lastIndex {
                throw failure(.readyContract, "node \(id) acknowledges index \(response.index) but its durable log ends at \(storage.lastIndex)")
            }
        default: break
        }
        if !preVote && message.term > storage.hardState.term {
            throw failure(.readyContract, "node \(id) sends a term-\(message.term) message before persisting that term (durable term \(storage.hardState.term))")
        }
    }

    mutating func send(_ message: Message) {
        stats.messagesSent += 1
        if options.manualDelivery {
            heldMessages.append(message)
            return
        }
        if random.chance(network.dropProbability) {
            stats.messagesDropped += 1
            trace.record(.drop(now, message, "lost"))
            return
        }
        let copies = random.chance(network.duplicateProbability) ? 2 : 1
        if copies == 2 { stats.messagesDuplicated += 1 }
        for _ in 0..<copies {
            let span = network.maxDelayMicroticks - network.minDelayMicroticks
            let delay = network.minDelayMicroticks + random.below(span + 1)
            inFlight.push(message, at: now + delay)
        }
    }

    /// Delivers one message now: dropped if a link is cut or the receiver is down.
    mutating func deliver(_ message: Message) throws {
        guard let index = slots[message.to], nodes[index].core != nil else {
            stats.messagesDropped += 1
            trace.record(.drop(now, message, "receiver down"))
            return
        }
        if blockedLinks.contains(Link(from: message.from, to: message.to)) {
            stats.messagesDropped += 1
            trace.record(.drop(now, message, "partitioned"))
            return
        }
        stats.messagesDelivered += 1
        trace.record(.deliver(now, message))
        nodes[index].core!.step(message)
        try drain(index)
    }

    // MARK: Apply

    mutating func apply(_ index: Int, _ ready: Ready) throws {
        let id = nodes[index].id
        if let snapshot = ready.snapshot {
            nodes[index].applied = AppliedState.decode(snapshot.data)!
            trace.record(.note(now, "node \(id) installs snapshot at \(snapshot.metadata.index)/\(snapshot.metadata.term)"))
        }
        for entry in ready.committedEntries {
            guard var state = nodes[index].applied else { break }
            if entry.index != state.index + 1 {
                throw failure(.stateMachineSafety, "node \(id) is handed committed entry \(entry.index) to apply after applying \(state.index)")
            }
            state.apply(entry)
            nodes[index].applied = state
            try recordCommitted(entry, digest: state.digest, by: index)
        }
        for readState in ready.readStates {
            try confirmRead(readState, at: index)
        }
        serveReads(at: index)
    }

    /// Takes a local snapshot and compacts when the cadence asks for it.
    mutating func takeLocalSnapshotIfDue(_ index: Int) throws {
        guard let every = options.snapshotEveryEntries, let state = nodes[index].applied,
              state.index >= nodes[index].lastLocalSnapshot + LogIndex(every),
              state.index > nodes[index].storage.snapshot.metadata.index
        else { return }
        // As the node loop does: the log is durable before a snapshot is adopted and compacts it.
        if let last = try flushBackgroundWrites(index) {
            nodes[index].core!.persisted(through: last.index, term: last.term)
        }
        let id = nodes[index].id
        let data = state.encoded(paddingBytes: options.snapshotPaddingBytes)
        let snapshot = nodes[index].core!.createSnapshot(at: state.index, data: data)
        if snapshot.metadata.index != state.index || snapshot.metadata.term != state.term || snapshot.data != data {
            throw failure(.readyContract, "node \(id) createSnapshot(at: \(state.index)) returned a snapshot at \(snapshot.metadata.index)/\(snapshot.metadata.term)")
        }
        try checkConfigurationOfSnapshot(snapshot, node: id)
        nodes[index].storage.saveLocalSnapshot(snapshot)
        nodes[index].lastLocalSnapshot = state.index
        stats.snapshotsTaken += 1
        let retain = LogIndex(options.snapshotRetainEntries)
        if state.index > retain {
            let through = state.index - retain
            if through > nodes[index].storage.entryOffset {
                nodes[index].core!.compact(through: through)
                nodes[index].storage.compact(through: through)
            }
        }
    }
}
