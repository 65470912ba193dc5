/// Log replication: proposals, append messages, flow control and the commit rule.
extension RaftNode {
    /// Appends `data` to the log if this node leads. The entry is committed once a quorum
    /// has it; it took effect if the entry applied at the returned index has the returned term.
    public mutating func propose(_ data: [UInt8]) throws(ProposalError) -> LogPosition {
        try proposeEntry(kind: .normal, data: data)
    }

    mutating func proposeEntry(kind: EntryKind, data: [UInt8]) throws(ProposalError) -> LogPosition {
        guard role == .leader else { throw .notLeader(leader: leader) }
        guard leadTransferee == 0 else { throw .leadershipTransferInProgress }
        let size = data.count
        if uncommittedBytes > 0 && uncommittedBytes + size > config.maxUncommittedBytes {
            throw .uncommittedLimitReached
        }
        let entry = Entry(term: term, index: log.lastIndex + 1, kind: kind, data: data)
        appendAsLeader([entry])
        pendingBroadcast = true
        return LogPosition(index: entry.index, term: term)
    }

    /// Appends entries of the current term to the leader's own log. The leader counts them
    /// towards a quorum only once they are durable here (``leaderEntriesDurable()``): a
    /// single-voter cluster commits when its write completes, not when it appends.
    mutating func appendAsLeader(_ entries: [Entry]) {
        log.append(entries)
        for entry in entries { uncommittedBytes += entry.data.count }
        progress[id]?.next = log.lastIndex + 1
    }

    /// The leader's own log is durable through `log.durableIndex`: that is its match, and
    /// may complete a quorum (Raft thesis §10.2.1: the leader's write runs in parallel with
    /// its followers', and counts like theirs).
    mutating func leaderEntriesDurable() {
        guard role == .leader, var pr = progress[id], log.durableIndex > pr.match else { return }
        pr.match = log.durableIndex
        progress[id] = pr
        let membership = configuration
        if maybeCommit() && configuration != membership { broadcastAppend() }
    }

    /// Sends new entries to every member that can take them.
    mutating func broadcastAppend(sendIfEmpty: Bool = true) {
        for member in progress.keys.sorted() where member != id {
            sendAppend(to: member, sendIfEmpty: sendIfEmpty)
        }
    }

    mutating func broadcastHeartbeat() {
        for member in progress.keys.sorted() where member != id {
            let match = progress[member]!.match
            send(to: member, .heartbeat(Message.Heartbeat(commit: min(match, log.committed), readRound: readRound)))
        }
    }

    /// Sends `to` the entries it lacks (or a snapshot chunk, when they were compacted).
    /// Returns whether a message was sent.
    @discardableResult
    mutating func sendAppend(to member: NodeID, sendIfEmpty: Bool = true) -> Bool {
        guard var pr = progress[member], !isPaused(pr) else { return false }
        let prevIndex = pr.next - 1
        guard pr.next > log.snapshotIndex, let prevTerm = log.term(at: prevIndex) else {
            startSnapshot(to: member)
            return true
        }
        // In the replicate state a message takes at most what is left of the byte budget
        // in flight (at least one entry, which only happens with nothing else in flight).
        let budget = pr.state == .replicate ? config.maxInflightBytes - pr.inflights.bytes : config.maxInflightBytes
        let entries = log.slice(from: pr.next, to: log.lastIndex + 1, maxCount: config.maxEntriesPerMessage,
                                maxBytes: min(config.maxBytesPerMessage, budget))
        if entries.isEmpty && !sendIfEmpty { return false }
        send(to: member, .append(Message.Append(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: log.committed)))
        switch pr.state {
        case .replicate:
            if let last = entries.last {
                pr.next = last.index + 1
                pr.inflights.add(last.index, bytes: entries.reduce(0) { $0 + $1.sizeBytes })
            }
        case .probe:
            pr.probeSent = true
        case .snapshot:
            preconditionFailure("append sent to \(member) while it is receiving a snapshot")
        }
        progress[member] = pr
        return true
    }

    /// Whether the leader should not send `pr` more entries now: a probe outstanding, a
    /// snapshot being sent, or the inflight window full (by messages or by bytes).
    func isPaused(_ pr: Progress) -> Bool {
        pr.isPaused || (pr.state == .replicate && pr.inflights.bytes >= config.maxInflightBytes)
    }

    mutating func handleAppend(from leaderID: NodeID, _ append: Message.Append) {
        if append.prevIndex < log.committed {
            // Everything up to our commit index agrees with the leader already.
            send(to: leaderID, .appendResponse(Message.AppendResponse(index: log.committed)))
            return
        }
        if let lastNew = log.maybeAppend(prevIndex: append.prevIndex, prevTerm: append.prevTerm, incoming: append.entries) {
            commit(to: min(append.commit, lastNew))
            send(to: leaderID, .appendResponse(Message.AppendResponse(index: lastNew)))
        } else {
            let hint = log.findConflictByTerm(index: min(append.prevIndex, log.lastIndex), term: append.prevTerm)
            send(to: leaderID, .appendResponse(Message.AppendResponse(index: append.prevIndex, reject: true,
                                                                       hintIndex: hint.index, hintTerm: hint.term)))
        }
    }

    mutating func handleAppendResponse(from member: NodeID, _ response: Message.AppendResponse) {
        guard var pr = progress[member] else { return }
        pr.heard()
        if response.reject {
            var matchHint = response.hintIndex
            if response.hintTerm > 0 {
                matchHint = log.findConflictByTerm(index: response.hintIndex, term: response.hintTerm).index
            }
            if pr.maybeDecrease(rejected: response.index, matchHint: matchHint) {
                if pr.state == .replicate { pr.becomeProbe() }
                progress[member] = pr
                sendAppend(to: member)
            } else {
                progress[member] = pr
            }
            return
        }
        let wasPaused = isPaused(pr)
        guard pr.maybeUpdate(response.index) else {
            progress[member] = pr
            return
        }
        switch pr.state {
        case .probe:
            pr.becomeReplicate()
        case .snapshot:
            if pr.match >= pr.pendingSnapshotIndex { pr.becomeReplicate() }
        case .replicate:
            pr.inflights.free(through: response.index)
        }
        progress[member] = pr
        let membership = configuration
        if maybeCommit() {
            // Followers learn a new commit index with the next append or heartbeat (at most
            // `heartbeatTicks` later), as in hashicorp/raft, not from a message of its own:
            // at low load that extra round per commit cost every follower a wake-up and a
            // write, and the leader 15% of its single-proposer latency. Reads through a
            // follower are unaffected (their ReadIndex round is a heartbeat, which carries
            // it). A committed membership change is still announced at once.
            if configuration != membership {
                broadcastAppend()
            } else if wasPaused {
                sendAppend(to: member)
            }
        } else if wasPaused {
            sendAppend(to: member)
        }
        // Keep the pipeline full.
        while role == .leader && sendAppend(to: member, sendIfEmpty: false) {}
        if member == leadTransferee && progress[member]?.match == log.lastIndex {
            send(to: member, .timeoutNow)
        }
    }

    mutating func handleHeartbeatResponse(from member: NodeID, _ response: Message.HeartbeatResponse) {
        guard var pr = progress[member] else { return }
        pr.heard()
        pr.probeSent = false
        if pr.state == .replicate && isPaused(pr) { pr.inflights.freeFirst() }
        if configuration.voters.contains(member) { pr.readRoundAcked = max(pr.readRoundAcked, response.readRound) }
        progress[member] = pr
        if pr.match < log.lastIndex { sendAppend(to: member) }
        resolveReads()
    }

    /// The commit rule: the highest index a quorum of voters has, if it is of this term
    /// (Raft §5.4.2, Figure 8: older entries commit only by being below such an entry).
    @discardableResult
    mutating func maybeCommit() -> Bool {
        var matches = configuration.voters.map { progress[$0]?.match ?? 0 }
        guard !matches.isEmpty else { return false }
        matches.sort(by: >)
        let quorumIndex = matches[configuration.quorum - 1]
        guard quorumIndex > log.committed, log.term(at: quorumIndex) == term else { return false }
        commit(to: quorumIndex)
        return true
    }

    /// Moves the commit index forward and activates membership changes that committed.
    mutating func commit(to index: LogIndex) {
        let old = log.committed
        guard index > old else { return }
        let wasCommittedInTerm = role == .leader && log.term(at: old) == term
        log.commit(to: index)
        let scan = log.scan(from: max(old + 1, log.firstIndex), through: index, term: term)
        if role == .leader { uncommittedBytes = max(0, uncommittedBytes - scan.bytesOfTerm) }
        for entry in scan.configChanges { activate(entry) }
        let membershipChanged = !scan.configChanges.isEmpty
        guard role == .leader else { return }
        if membershipChanged { afterMembershipChange() }
        if role == .leader && !wasCommittedInTerm && log.term(at: log.committed) == term {
            releaseReadsAwaitingCommit()
        }
    }
}
