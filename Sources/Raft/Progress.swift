/// How a leader is replicating to one follower.
public enum ReplicationState: String, Sendable, Hashable {
    /// Sending one `append` at a time, until the follower's match index is found.
    case probe
    /// Streaming entries optimistically, bounded by the inflight window.
    case replicate
    /// Sending a snapshot, chunk by chunk, because the entries it needs were compacted.
    case snapshot
}

/// The leader's bookkeeping for one follower (or learner).
struct Progress: Sendable {
    var match: LogIndex = 0
    var next: LogIndex
    var state: ReplicationState = .probe
    /// In the probe state: an append is outstanding; wait for a response or heartbeat.
    var probeSent = false
    /// Heard from since the last check-quorum round.
    var recentActive = true
    /// Leader ticks since this member last answered anything; `Int.max` until it first does
    /// (a new leader, or a member just added, has not heard from it yet). Unlike
    /// `recentActive`, which check-quorum clears once per election timeout, this says at
    /// any moment whether the member was heard from within the last election timeout: what
    /// the membership checks count as live.
    var silentTicks = Int.max
    var inflights: Inflights
    /// In the snapshot state: the index of the snapshot being sent.
    var pendingSnapshotIndex: LogIndex = 0
    /// In the snapshot state: the next offset to send and ticks since the last progress.
    var snapshotOffset = 0
    var snapshotIdleTicks = 0
    /// Highest read round this voter acknowledged (ReadIndex).
    var readRoundAcked: UInt64 = 0

    init(next: LogIndex, inflightCapacity: Int) {
        self.next = next
        inflights = Inflights(capacity: inflightCapacity)
    }

    /// Records that the member answered (any response).
    mutating func heard() {
        recentActive = true
        silentTicks = 0
    }

    /// One leader tick without hearing from the member (saturates).
    mutating func tickSilent() {
        if silentTicks < Int.max { silentTicks += 1 }
    }

    /// Heard from within the last `electionTicks` leader ticks.
    func isLive(electionTicks: Int) -> Bool { silentTicks < electionTicks }

    var isPaused: Bool {
        switch state {
        case .probe: probeSent
        case .replicate: inflights.isFull
        case .snapshot: true
        }
    }

    mutating func becomeProbe() {
        if state == .snapshot {
            next = max(match + 1, pendingSnapshotIndex + 1)
        } else {
            next = match + 1
        }
        state = .probe
        probeSent = false
        pendingSnapshotIndex = 0
        inflights.reset()
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match + 1
        probeSent = false
        pendingSnapshotIndex = 0
        inflights.reset()
    }

    mutating func becomeSnapshot(index: LogIndex) {
        state = .snapshot
        pendingSnapshotIndex = index
        snapshotOffset = 0
        snapshotIdleTicks = 0
        probeSent = false
        inflights.reset()
    }

    /// Records an acknowledgement up to `index`; returns whether the match index moved.
    mutating func maybeUpdate(_ index: LogIndex) -> Bool {
        var updated = false
        if match < index {
            match = index
            updated = true
            probeSent = false
        }
        next = max(next, index + 1)
        return updated
    }

    /// Handles a rejection of the append at `rejected`; `matchHint` is where the logs may
    /// agree. Returns false when the rejection is stale.
    mutating func maybeDecrease(rejected: LogIndex, matchHint: LogIndex) -> Bool {
        if state == .replicate {
            if rejected <= match { return false }
            next = match + 1
            return true
        }
        if next == 0 || next - 1 != rejected { return false }
        next = max(min(rejected, matchHint + 1), match + 1)
        probeSent = false
        return true
    }
}

/// What the leader knows of one member's replication, for status reports.
public struct ProgressStatus: Sendable, Hashable {
    public var match: LogIndex
    public var next: LogIndex
    public var state: ReplicationState
    public var isLearner: Bool
    /// The leader heard from it within the last election timeout (always true for the
    /// leader itself): what the strict reconfiguration check counts as live.
    public var isLive: Bool
}
