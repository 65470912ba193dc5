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

    /// Records `entry`, dropping the oldest when `max` entries are kept already.
    mutating func append(_ entry: HistoryEntry, max: Int) {
        precondition(max >= 1, "history limit must be positive")
        if storage.count < max, start == 0 {
            storage.append(entry)
            return
        }
        if storage.count != max {
            // The limit changed (or the ring is partly filled after one): straighten, trim, continue.
            var straight = entries
            let excess = straight.count - max + 1
            if excess > 0 {
                straight.removeFirst(excess)
                dropped += UInt64(excess)
            }
            straight.append(entry)
            storage = straight
            start = 0
            return
        }
        storage[start] = entry
        start = (start + 1) % storage.count
        dropped += 1
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
