/// The most recent entries of the log, in memory, bounded by bytes: the entries a leader
/// sends to followers that keep up are served from here without a disk read.
///
/// Holds a contiguous run `firstIndex ..< endIndex` that always ends at the log's last
/// index (a suffix of the log) or is empty.
struct EntryCache {
    let bytesMax: Int
    private var storage: [StoredEntry] = []
    private var head = 0
    private(set) var bytes = 0
    /// Index of `storage[head]`.
    private(set) var firstIndex: UInt64 = 1

    init(bytesMax: Int) { self.bytesMax = bytesMax }

    var count: Int { storage.count - head }
    var endIndex: UInt64 { firstIndex + UInt64(count) }

    func entry(at index: UInt64) -> StoredEntry? {
        guard index >= firstIndex && index < endIndex else { return nil }
        return storage[head + Int(index - firstIndex)]
    }

    /// Appends entries that follow the log's last index (after any truncation).
    mutating func append(_ entries: [StoredEntry]) {
        guard bytesMax > 0, let first = entries.first else { return }
        if count == 0 || first.index != endIndex { clear(next: first.index) }
        var added = 0
        for entry in entries { added += entry.byteCount }
        storage.append(contentsOf: entries)
        bytes += added
        evict()
    }

    /// Drops entries at `index` and above (the log's suffix was replaced).
    mutating func truncate(from index: UInt64) {
        guard index < endIndex else { return }
        if index <= firstIndex { clear(next: index); return }
        let keep = head + Int(index - firstIndex)
        for entry in storage[keep...] { bytes -= entry.byteCount }
        storage.removeSubrange(keep...)
    }

    /// Drops entries below `index` (compaction).
    mutating func drop(before index: UInt64) {
        while count > 0 && firstIndex < index { popFirst() }
        if count == 0 { clear(next: max(index, firstIndex)) }
    }

    mutating func clear(next index: UInt64) {
        storage.removeAll(keepingCapacity: true)
        head = 0
        bytes = 0
        firstIndex = index
    }

    /// Drops the oldest entries until the cache is within `bytesMax`. Evicted slots are
    /// released in bulk once they make up half the storage, so the memory held is at most
    /// about twice `bytesMax` for a moment.
    private mutating func evict() {
        guard bytes > bytesMax else { return }
        var dropped = 0
        while bytes > bytesMax && head + dropped < storage.count {
            bytes -= storage[head + dropped].byteCount
            dropped += 1
        }
        head += dropped
        firstIndex += UInt64(dropped)
        if head == storage.count || (head >= 1024 && head * 2 >= storage.count) {
            storage.removeFirst(head)
            head = 0
        }
    }

    private mutating func popFirst() {
        bytes -= storage[head].byteCount
        storage[head] = StoredEntry(index: 0, term: 0)  // release the payload now
        head += 1
        firstIndex += 1
        if head >= 1024 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }
}
