/// The hand-off to the caller: `hasReady`, `ready()` and `advance(_:)`.
extension RaftNode {
    /// Whether ``ready()`` has anything for the caller.
    public var hasReady: Bool {
        !messages.isEmpty || pendingBroadcast || hardState != previousHardState || softState != previousSoftState
            || log.stableIndex < log.lastIndex || snapshotToPersist != nil || !readStates.isEmpty
            || nextToApply <= log.committed
    }

    /// The first index the application has not been handed yet.
    var nextToApply: LogIndex {
        max(log.applied, snapshotToPersist?.metadata.index ?? 0) + 1
    }

    /// Collects what the caller must persist, send and apply (see ``Ready`` for the order).
    /// Call ``advance(_:)`` with the result before calling any other method.
    public mutating func ready() -> Ready {
        if pendingBroadcast {
            pendingBroadcast = false
            if role == .leader { broadcastAppend(sendIfEmpty: false) }
        }
        var rd = Ready()
        let hs = hardState
        var termOrVoteChanged = false
        if hs != previousHardState {
            rd.hardState = hs
            termOrVoteChanged = hs.term != previousHardState.term || hs.vote != previousHardState.vote
            previousHardState = hs
        }
        rd.mustSync = termOrVoteChanged
        let ss = softState
        if ss != previousSoftState {
            rd.softState = ss
            previousSoftState = ss
        }
        rd.snapshot = snapshotToPersist
        rd.entries = log.unstableEntries
        rd.mustSync = rd.mustSync || rd.snapshot != nil || !rd.entries.isEmpty
        if nextToApply <= log.committed {
            rd.committedEntries = log.slice(from: nextToApply, to: log.committed + 1, maxBytes: config.maxCommittedBytesPerReady)
        }
        rd.messages = messages
        messages = []
        rd.readStates = readStates
        readStates = []
        rd.mayPersistInBackground = role == .leader && !termOrVoteChanged && rd.snapshot == nil
            && rd.messages.allSatisfy(\.isLeaderTraffic)
        return rd
    }

    /// Tells the node the caller has persisted, sent and applied everything in `ready`.
    ///
    /// A leader may instead hand `ready`'s entries (and a hard state that only moves the commit
    /// index) to a background writer and send, apply and advance at once, with `persisted:
    /// false`; it then reports the write with ``persisted(through:term:)``. Only a leader's
    /// `Ready` whose hard state keeps the durable term and vote, without a snapshot, and whose
    /// messages are a leader's (appends, heartbeats, snapshot chunks, `timeoutNow`, read
    /// answers) may be handled so; everything else must be durable before its messages leave,
    /// and after any earlier background write (docs/raft.md, "Ready contract").
    public mutating func advance(_ ready: Ready, persisted: Bool = true) {
        if let snapshot = ready.snapshot {
            precondition(persisted, "a snapshot must be durable before advance")
            if snapshotToPersist == snapshot { snapshotToPersist = nil }
            log.applied = max(log.applied, snapshot.metadata.index)
            log.stableIndex = max(log.stableIndex, snapshot.metadata.index)
            log.durableIndex = max(log.durableIndex, snapshot.metadata.index)
        }
        if let last = ready.entries.last, log.matchTerm(last.index, last.term) {
            log.stableIndex = max(log.stableIndex, last.index)
            if persisted { log.durableIndex = max(log.durableIndex, last.index) }
        }
        if let last = ready.committedEntries.last {
            precondition(last.index <= log.committed, "applied \(last.index) beyond commit \(log.committed)")
            log.applied = max(log.applied, last.index)
        }
        if persisted { leaderEntriesDurable() }
    }

    /// Reports that a background write made this node's log durable through `index`, whose
    /// entry has `term` (see ``advance(_:persisted:)``). Ignored if the log no longer holds
    /// that entry (it was replaced after the write was handed over). Call it between
    /// `Ready`s, never between ``ready()`` and ``advance(_:persisted:)``.
    public mutating func persisted(through index: LogIndex, term: Term) {
        guard index <= log.stableIndex, log.matchTerm(index, term) else { return }
        log.durableIndex = max(log.durableIndex, index)
        leaderEntriesDurable()
    }

    /// The highest index of this node's log known durable.
    public var durableIndex: LogIndex { log.durableIndex }

    /// The current term.
    public var currentTerm: Term { term }
    /// This node's role.
    public var currentRole: Role { role }
    /// The leader this node knows of (0: none).
    public var currentLeader: NodeID { leader }
    /// The highest index known committed.
    public var commitIndex: LogIndex { log.committed }
    /// The highest index the application has applied (as reported through `advance`).
    public var appliedIndex: LogIndex { log.applied }

    /// This node's state, for status reports and tests.
    public var status: RaftStatus {
        var report: [NodeID: ProgressStatus] = [:]
        if role == .leader {
            for (member, pr) in progress {
                report[member] = ProgressStatus(match: pr.match, next: pr.next, state: pr.state,
                                                isLearner: configuration.learners.contains(member),
                                                isLive: isLive(member))
            }
        }
        return RaftStatus(id: id, term: term, vote: vote, role: role, leader: leader, commit: log.committed,
                          applied: log.applied, firstIndex: log.firstIndex, lastIndex: log.lastIndex,
                          configuration: configuration, progress: report, leadTransferee: leadTransferee)
    }
}
