/// The node's view of the log: a compacted prefix (summarised by `snapshotIndex` and
/// `snapshotTerm`) followed by the entries after it, all held in memory.
///
/// Entries up to `stableIndex` have been handed to the caller to persist; later ones are
/// handed over in the next ``Ready``. Entries up to `durableIndex` the caller has confirmed
/// durable (at once, in ``RaftNode/advance(_:)``, or later through
/// ``RaftNode/persisted(through:term:)`` when it writes in the background). Memory is bounded by how often the application snapshots and compacts.
struct RaftLog: Sendable {
    private(set) var snapshotIndex: LogIndex
    private(set) var snapshotTerm: Term
    /// `entries[i]` has index `snapshotIndex + 1 + i`.
    private(set) var entries: [Entry]
    /// Highest index known committed.
    private(set) var committed: LogIndex
    /// Highest index the application has applied (reported through `advance`).
    var applied: LogIndex
    /// Highest index handed to the caller to persist.
    var stableIndex: LogIndex
    /// Highest index the caller confirmed durable; never above `stableIndex`. A leader counts
    /// itself towards a quorum only up to here.
    var durableIndex: LogIndex

    init(snapshotIndex: LogIndex, snapshotTerm: Term, entries: [Entry], committed: LogIndex) {
        for (offset, entry) in entries.enumerated() {
            precondition(entry.index == snapshotIndex + 1 + LogIndex(offset),
                         "durable entries are not contiguous after snapshot \(snapshotIndex): entry \(offset) has index \(entry.index)")
            precondition(entry.term >= (offset == 0 ? snapshotTerm : entries[offset - 1].term),
                         "durable entry \(entry.index) has a term lower than its predecessor")
        }
        self.snapshotIndex = snapshotIndex
        self.snapshotTerm = snapshotTerm
        self.entries = entries
        let last = snapshotIndex + LogIndex(entries.count)
        precondition(committed <= last, "hard state commit \(committed) is beyond the last durable index \(last)")
        self.committed = max(committed, snapshotIndex)
        self.applied = snapshotIndex
        self.stableIndex = last
        self.durableIndex = last
    }

    var firstIndex: LogIndex { snapshotIndex + 1 }
    var lastIndex: LogIndex { snapshotIndex + LogIndex(entries.count) }
    var lastTerm: Term { entries.last?.term ?? snapshotTerm }

    /// The term of the entry at `index`; `nil` if compacted away or beyond the end.
    func term(at index: LogIndex) -> Term? {
        if index == snapshotIndex { return snapshotTerm }
        if index < snapshotIndex || index > lastIndex { return nil }
        return entries[Int(index - snapshotIndex - 1)].term
    }

    func entry(at index: LogIndex) -> Entry {
        precondition(index > snapshotIndex && index <= lastIndex, "entry \(index) is not in the log (\(firstIndex)...\(lastIndex))")
        return entries[Int(index - snapshotIndex - 1)]
    }

    func matchTerm(_ index: LogIndex, _ term: Term) -> Bool { self.term(at: index) == term }

    /// Entries from `low` (inclusive) to `high` (exclusive), at most `maxCount` of them and
    /// `maxBytes` in size, but always at least one when the range is not empty.
    func slice(from low: LogIndex, to high: LogIndex, maxCount: Int = .max, maxBytes: Int = .max) -> [Entry] {
        precondition(low > snapshotIndex, "slice from \(low) reaches into the compacted prefix (≤ \(snapshotIndex))")
        let high = min(high, lastIndex + 1)
        guard low < high else { return [] }
        var end = Int(low - snapshotIndex - 1)
        let start = end
        let limit = min(Int(high - snapshotIndex - 1), maxCount >= Int.max - start ? Int.max : start + maxCount)
        var bytes = 0
        while end < limit {
            bytes += entries[end].sizeBytes
            if bytes > maxBytes && end > start { break }
            end += 1
        }
        return Array(entries[start..<end])
    }

    /// Whether a candidate whose log ends at (`index`, `term`) is at least as up to date.
    func isUpToDate(index: LogIndex, term: Term) -> Bool {
        term > lastTerm || (term == lastTerm && index >= lastIndex)
    }

    /// The first new entry whose term disagrees with ours (or that we lack), or 0.
    func findConflict(_ incoming: [Entry]) -> LogIndex {
        for entry in incoming where !matchTerm(entry.index, entry.term) { return entry.index }
        return 0
    }

    /// The largest index ≤ `index` whose term is ≤ `term`, with its term: where a leader
    /// whose log has `term` at `index` can next probe (fast backtracking).
    func findConflictByTerm(index: LogIndex, term: Term) -> (index: LogIndex, term: Term) {
        var i = min(index, lastIndex)
        while i > snapshotIndex, let t = self.term(at: i), t > term { i -= 1 }
        return (i, self.term(at: i) ?? 0)
    }

    /// Over `low...high`: the data bytes of entries of `term`, and the membership changes.
    func scan(from low: LogIndex, through high: LogIndex, term: Term) -> (bytesOfTerm: Int, configChanges: [Entry]) {
        guard low <= high else { return (0, []) }
        var bytes = 0
        var changes: [Entry] = []
        for position in Int(low - snapshotIndex - 1)...Int(high - snapshotIndex - 1) {
            let entry = entries[position]
            if entry.term == term { bytes += entry.data.count }
            if entry.kind == .configChange { changes.append(entry) }
        }
        return (bytes, changes)
    }

    /// Appends entries that follow the last one (the leader's own proposals).
    mutating func append(_ newEntries: [Entry]) {
        guard let first = newEntries.first else { return }
        precondition(first.index == lastIndex + 1, "append at \(first.index) does not follow last index \(lastIndex)")
        precondition(first.term >= lastTerm, "append of term \(first.term) after term \(lastTerm)")
        entries.append(contentsOf: newEntries)
    }

    /// Follower append: if our entry at `prevIndex` has `prevTerm`, merge `incoming`
    /// (truncating a conflicting suffix) and return the index of the last new entry.
    mutating func maybeAppend(prevIndex: LogIndex, prevTerm: Term, incoming: [Entry]) -> LogIndex? {
        guard matchTerm(prevIndex, prevTerm) else { return nil }
        let lastNew = prevIndex + LogIndex(incoming.count)
        let conflict = findConflict(incoming)
        if conflict != 0 {
            precondition(conflict > committed, "entry \(conflict) conflicts with the committed prefix (commit \(committed))")
            let from = Int(conflict - incoming[0].index)
            truncateAndAppend(Array(incoming[from...]))
        }
        return lastNew
    }

    private mutating func truncateAndAppend(_ newEntries: [Entry]) {
        guard let first = newEntries.first else { return }
        precondition(first.index > snapshotIndex && first.index <= lastIndex + 1)
        entries.removeSubrange(Int(first.index - snapshotIndex - 1)...)
        stableIndex = min(stableIndex, first.index - 1)
        durableIndex = min(durableIndex, first.index - 1)
        entries.append(contentsOf: newEntries)
    }

    mutating func commit(to index: LogIndex) {
        precondition(index <= lastIndex, "commit \(index) beyond last index \(lastIndex)")
        if index > committed { committed = index }
    }

    /// Drops every entry and restarts the log after a snapshot received from the leader.
    mutating func restore(index: LogIndex, term: Term) {
        precondition(index > committed, "restoring snapshot \(index) at or below commit \(committed)")
        snapshotIndex = index
        snapshotTerm = term
        entries.removeAll()
        committed = index
        stableIndex = index
        durableIndex = index
    }

    /// Forgets entries up to and including `index` (already covered by a snapshot).
    mutating func compact(through index: LogIndex) {
        guard index > snapshotIndex else { return }
        precondition(index <= applied, "compacting through \(index) beyond applied \(applied)")
        precondition(index <= lastIndex)
        let term = self.term(at: index)!
        entries.removeFirst(Int(index - snapshotIndex))
        snapshotIndex = index
        snapshotTerm = term
    }

    var unstableEntries: [Entry] {
        stableIndex >= lastIndex ? [] : Array(entries[Int(stableIndex - snapshotIndex)...])
    }
}
