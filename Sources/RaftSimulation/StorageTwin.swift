import Raft

/// The simulated disk of one node: exactly what its `Ready`s asked to persist, and only once
/// the simulated persist step ran. A crash keeps this and loses everything else; a restart
/// builds the node from ``durableState``.
///
/// The twin also keeps, per entry, the digest of the log prefix ending there (see
/// ``LogDigest``), so the invariant checker can compare logs in O(1) per entry.
public struct StorageTwin: Sendable {
    /// The durable hard state (term, vote, commit).
    public private(set) var hardState: HardState
    /// The newest durable snapshot: received from a leader, or taken locally.
    public private(set) var snapshot: Snapshot
    /// Durable entries, contiguous, the first at index `entryOffset + 1`. After a local
    /// compaction they may begin at or before the snapshot index (the retained tail).
    public private(set) var entries: [Entry]
    /// `digests[k]` is the prefix digest ending at `entries[k]`.
    private(set) var digests: [UInt64]
    /// The index just before `entries.first`.
    public private(set) var entryOffset: LogIndex
    /// The prefix digest at `entryOffset`.
    private(set) var offsetDigest: UInt64
    /// Indices of the durable configuration-change entries, ascending.
    private(set) var configChangeIndices: [LogIndex]
    /// Number of persist steps taken (one per `Ready` that needed persistence).
    public private(set) var syncCount: Int = 0
    /// The commit index as of the last synced hard-state write.
    private var syncedCommit: LogIndex = 0

    init(_ state: DurableState, snapshotDigest: UInt64) {
        hardState = state.hardState
        syncedCommit = state.hardState.commit
        snapshot = state.snapshot
        entries = []
        digests = []
        entryOffset = state.snapshot.metadata.index
        offsetDigest = snapshotDigest
        configChangeIndices = []
        append(state.entries)
    }

    /// What a restart reads back: hard state, snapshot and the entries after the snapshot.
    public var durableState: DurableState {
        let snapshotIndex = snapshot.metadata.index
        let after = entries.drop(while: { $0.index <= snapshotIndex })
        return DurableState(hardState: hardState, snapshot: snapshot, entries: Array(after))
    }

    /// The index of the last durable entry (the snapshot index when the log is empty).
    public var lastIndex: LogIndex { max(entryOffset + LogIndex(entries.count), snapshot.metadata.index) }

    /// The term of the durable entry at `index`, if the twin knows it (log or snapshot).
    public func term(at index: LogIndex) -> Term? {
        if index == snapshot.metadata.index { return snapshot.metadata.term }
        if index > entryOffset && index <= entryOffset + LogIndex(entries.count) {
            return entries[Int(index - entryOffset - 1)].term
        }
        if index == 0 { return 0 }
        return nil
    }

    /// The durable entry at `index`, if it is still in the log.
    public func entry(at index: LogIndex) -> Entry? {
        guard index > entryOffset && index <= entryOffset + LogIndex(entries.count) else { return nil }
        return entries[Int(index - entryOffset - 1)]
    }

    /// The prefix digest at `index`, if the twin holds that position.
    func digest(at index: LogIndex) -> UInt64? {
        if index == entryOffset { return offsetDigest }
        if index > entryOffset && index <= entryOffset + LogIndex(entries.count) {
            return digests[Int(index - entryOffset - 1)]
        }
        return nil
    }

    /// Whether the durable state covers `(index, term)`: the entry itself, or a snapshot at
    /// or past it (a snapshot only ever holds committed state).
    func covers(index: LogIndex, term: Term) -> Bool {
        if snapshot.metadata.index >= index { return true }
        return self.term(at: index) == term
    }

    /// Persists a snapshot received from the leader: the log is replaced by it.
    mutating func installSnapshot(_ newSnapshot: Snapshot, digest: UInt64) {
        snapshot = newSnapshot
        entries.removeAll(keepingCapacity: true)
        digests.removeAll(keepingCapacity: true)
        configChangeIndices.removeAll()
        entryOffset = newSnapshot.metadata.index
        offsetDigest = digest
    }

    /// Records a snapshot the node took of its own applied state; the log is untouched.
    mutating func saveLocalSnapshot(_ newSnapshot: Snapshot) {
        snapshot = newSnapshot
    }

    /// Persists `newEntries`, truncating any durable suffix from `newEntries.first.index`.
    /// The caller has checked they are contiguous and attach to the log.
    mutating func append(_ newEntries: [Entry]) {
        guard let first = newEntries.first else { return }
        let keep = Int(first.index - entryOffset - 1)
        if keep < entries.count {
            entries.removeSubrange(keep...)
            digests.removeSubrange(keep...)
            while let last = configChangeIndices.last, last >= first.index { configChangeIndices.removeLast() }
        }
        var previous = keep == 0 ? offsetDigest : digests[keep - 1]
        for entry in newEntries {
            previous = LogDigest.chain(previous, entry)
            entries.append(entry)
            digests.append(previous)
            if entry.kind == .configChange { configChangeIndices.append(entry.index) }
        }
    }

    mutating func setHardState(_ state: HardState) {
        hardState = state
    }

    /// Records a hard state that only moves the commit index, written without a sync (the
    /// cluster's node does this, etcd's `MustSync` rule): a crash before the next synced
    /// write loses it (``loseUnsyncedWrites()``).
    mutating func setCommitWithoutSync(_ state: HardState) {
        precondition(state.term == hardState.term && state.vote == hardState.vote, "only the commit index may change unsynced")
        hardState = state
    }

    /// A sync: everything written before it is durable, an unsynced commit index included.
    mutating func markSynced() {
        syncedCommit = hardState.commit
    }

    /// What a crash does to writes that were never synced: the commit index falls back to
    /// the last synced one. (The worst case; a real disk may keep the write.)
    mutating func loseUnsyncedWrites() {
        hardState.commit = syncedCommit
    }

    mutating func countSync() { syncCount += 1 }

    /// Drops durable entries at or below `index` (never past the snapshot).
    mutating func compact(through index: LogIndex) {
        guard index > entryOffset else { return }
        let drop = Int(min(index, entryOffset + LogIndex(entries.count)) - entryOffset)
        guard drop > 0 else { return }
        offsetDigest = digests[drop - 1]
        entries.removeFirst(drop)
        digests.removeFirst(drop)
        entryOffset += LogIndex(drop)
        configChangeIndices.removeAll(where: { $0 <= entryOffset })
    }

    /// How many durable configuration-change entries lie after `index`.
    func configChanges(after index: LogIndex) -> Int {
        var count = 0
        for changeIndex in configChangeIndices.reversed() {
            if changeIndex <= index { break }
            count += 1
        }
        return count
    }
}
