/// One WAL segment file as the store tracks it.
final class Segment {
    let seq: UInt64
    /// The index the log continued at when the segment was created (its name).
    let firstIndex: UInt64
    let name: String
    let file: FileDescriptor
    /// Bytes of intact data: where the next batch goes.
    var size: UInt64
    /// Bytes reserved on disk (>= size when preallocated).
    var allocated: UInt64
    /// The live (not superseded, not yet logically compacted away) entries stored here
    /// form the index range `liveFirst ... liveLast`; 0 means none.
    var liveFirst: UInt64 = 0
    var liveLast: UInt64 = 0

    init(seq: UInt64, firstIndex: UInt64, name: String, file: FileDescriptor, size: UInt64, allocated: UInt64) {
        self.seq = seq
        self.firstIndex = firstIndex
        self.name = name
        self.file = file
        self.size = size
        self.allocated = allocated
    }

    var hasLiveEntries: Bool { liveLast != 0 }

    /// An entry at `index` was appended to this segment.
    func noteAppended(_ index: UInt64) {
        if liveLast == 0 { liveFirst = index }
        liveLast = index
    }

    /// Entries at `index` and above were superseded.
    func noteTruncated(from index: UInt64) {
        guard liveLast != 0, liveLast >= index else { return }
        if liveFirst >= index {
            liveFirst = 0
            liveLast = 0
        } else {
            liveLast = index - 1
        }
    }
}

/// Where an entry's record is: the low 24 bits of its segment's sequence number and the
/// record's byte offset (40 bits), packed in 8 bytes (one per live entry in memory).
struct EntryLocation {
    static let offsetBits: UInt64 = 40
    static let offsetMask: UInt64 = (1 << 40) - 1
    static let seqMask: UInt64 = (1 << 24) - 1

    static func pack(seq: UInt64, offset: UInt64) -> UInt64 {
        precondition(offset <= offsetMask, "segment offset \(offset) beyond 1 TiB")
        return ((seq & seqMask) << offsetBits) | offset
    }

    static func seqLow(_ location: UInt64) -> UInt64 { location >> offsetBits }
    static func offset(_ location: UInt64) -> UInt64 { location & offsetMask }
}

/// The terms of a run of entries, stored as the index where each new term starts.
struct TermRuns {
    private(set) var starts: [(index: UInt64, term: UInt64)] = []

    mutating func append(index: UInt64, term: UInt64) {
        if let last = starts.last {
            precondition(term >= last.term, "term runs: entry \(index) term \(term) below \(last.term)")
            if last.term == term { return }
        }
        starts.append((index, term))
    }

    /// The term of `index`, which the caller knows is in the covered range.
    func term(at index: UInt64) -> UInt64 {
        var low = 0
        var high = starts.count - 1
        precondition(high >= 0 && starts[0].index <= index, "term runs: \(index) not covered")
        while low < high {
            let mid = (low + high + 1) / 2
            if starts[mid].index <= index { low = mid } else { high = mid - 1 }
        }
        return starts[low].term
    }

    var lastTerm: UInt64? { starts.last?.term }

    mutating func truncate(from index: UInt64) {
        while let last = starts.last, last.index >= index { starts.removeLast() }
    }

    mutating func drop(before index: UInt64) {
        var remove = 0
        while remove + 1 < starts.count && starts[remove + 1].index <= index { remove += 1 }
        if remove > 0 { starts.removeFirst(remove) }
        if !starts.isEmpty && starts[0].index < index { starts[0].index = index }
    }

    mutating func removeAll() { starts.removeAll() }
}
