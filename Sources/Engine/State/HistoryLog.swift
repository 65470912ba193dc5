import Workflow

/// An instance's retained history: the newest `historyEntriesPerInstanceMax` entries in a
/// ring, so recording a transition is O(1) also when the limit is reached (an array's
/// `removeFirst` would move every entry each time).
struct HistoryLog: Sendable {
    /// The entries; once full, `storage[start]` is the oldest.
    private var storage: [HistoryEntry]
    private var start = 0
    /// Entries dropped to stay within the limit.
    private(set) var dropped: UInt64

    init(entries: [HistoryEntry] = [], dropped: UInt64 = 0) {
        storage = entries
        self.dropped = dropped
    }

    var count: Int { storage.count }

    /// The retained entries, oldest first.
    var entries: [HistoryEntry] {
        start == 0 ? storage : Array(storage[start...]) + storage[..<start]
    }

    /// The newest entry.
    var last: HistoryEntry? {
        storage.isEmpty ? nil : storage[(start + storage.count - 1) % storage.count]
    }

    /// The entry at `position` from the oldest retained one (0-based).
    private func entry(at position: Int) -> HistoryEntry {
        storage[(start + position) % storage.count]
    }

    /// Up to `limit` entries with a log index above `after` (all when nil), oldest first, and
    /// whether more follow. Entries that share a log index (a hook's result and the transition
    /// it took) are never split across pages, so a page may hold a few more than `limit`.
    func page(after: UInt64?, limit: Int) -> (entries: [HistoryEntry], more: Bool) {
        var low = 0
        if let after {
            var high = storage.count
            while low < high {
                let middle = (low + high) / 2
                if entry(at: middle).index <= after { low = middle + 1 } else { high = middle }
            }
        }
        var end = min(storage.count, low + max(1, limit))
        while end < storage.count, end > low, entry(at: end).index == entry(at: end - 1).index { end += 1 }
        return ((low..<end).map(entry(at:)), end < storage.count)
    }

    /// Records `entry`, dropping the oldest when `max` entries are kept already; returns how
    /// many were dropped.
    @discardableResult
    mutating func append(_ entry: HistoryEntry, max: Int) -> Int {
        precondition(max >= 1, "history limit must be positive")
        if storage.count < max, start == 0 {
            if storage.count == storage.capacity {
                // Grow by a quarter rather than double: most histories are short and stay
                // put, so doubling would leave up to half of each one's buffer unused.
                storage.reserveCapacity(Swift.min(max, storage.count + storage.count / 4 + 2))
            }
            storage.append(entry)
            return 0
        }
        if storage.count != max {
            // The limit changed (or the ring is partly filled after one): straighten, trim, continue.
            var straight = entries
            let excess = Swift.max(0, straight.count - max + 1)
            if excess > 0 {
                straight.removeFirst(excess)
                dropped += UInt64(excess)
            }
            straight.append(entry)
            storage = straight
            start = 0
            return excess
        }
        storage[start] = entry
        start = (start + 1) % storage.count
        dropped += 1
        return 1
    }
}

extension HistoryLog: Hashable {
    /// Equal when the retained entries (in order) and the dropped count are.
    static func == (lhs: HistoryLog, rhs: HistoryLog) -> Bool {
        lhs.dropped == rhs.dropped && lhs.count == rhs.count && lhs.entries == rhs.entries
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(dropped)
        hasher.combine(entries)
    }
}

extension HistoryLog {
    /// The oldest retained entry.
    var first: HistoryEntry? {
        storage.isEmpty ? nil : storage[start]
    }
}

extension EngineState {
    /// Records `entry` in instance `id`'s history, keeping at most the definition's
    /// `history.max_entries` (else `EngineSettings.historyEntriesPerInstanceMax`) entries.
    mutating func recordHistory(_ entry: HistoryEntry, of id: String, definition: WorkflowDefinition) {
        let limit = definition.historyMaxEntries ?? settings.historyEntriesPerInstanceMax
        let dropped = histories[id, default: HistoryLog()].append(entry, max: limit)
        if dropped > 0 { historyEntriesDropped += UInt64(dropped) }
    }
}
