/// The request-id table: the outcome of every recent command that carried a request id, so
/// a retry returns the original outcome and changes nothing.
///
/// Retention is bounded two ways, both evaluated at apply from replicated values only:
/// - count: at most `EngineSettings.requestIDsMax` ids; recording one more forgets the oldest;
/// - age: an id recorded at engine time `t` is forgotten by the first command applied at
///   engine time `> t + requestIDRetentionMillis`.
/// Records live in a FIFO queue in apply order (engine time never decreases along it, so the
/// oldest is always at the front); the dictionary maps an id to its queue sequence number,
/// which keeps the hashed table small (ids and integers, not whole outcomes).
struct RequestLog: Sendable {
    struct Record: Sendable, Hashable {
        var id: String
        /// `Command.fingerprint` of the request, to tell a retry from a reused id.
        var fingerprint: UInt64
        var outcome: Outcome
        var index: UInt64
        var timeMillis: Int64
    }

    /// id → sequence number of its record (`queue[sequence - firstSequence]`).
    private var sequences: [String: UInt64] = [:]
    /// FIFO of records; slots before `head` are evicted and compacted away lazily.
    private var queue: [Record] = []
    private var head = 0
    /// The sequence number of `queue[0]`.
    private var firstSequence: UInt64 = 0

    init() {}

    /// Rebuilds a log from a snapshot's records (oldest first, unique ids).
    init(restoring records: [Record]) {
        queue = records
        sequences.reserveCapacity(records.count)
        for (position, record) in records.enumerated() { sequences[record.id] = UInt64(position) }
    }

    var count: Int { sequences.count }

    /// The live records, oldest first.
    var records: ArraySlice<Record> { queue[head...] }

    subscript(id: String) -> Record? {
        guard let sequence = sequences[id] else { return nil }
        return queue[Int(sequence - firstSequence)]
    }

    mutating func insert(_ record: Record, maxCount: Int) {
        let sequence = firstSequence + UInt64(queue.count)
        let previous = sequences.updateValue(sequence, forKey: record.id)
        precondition(previous == nil, "request id recorded twice")
        queue.append(record)
        while sequences.count > maxCount { evictOldest() }
        compactIfWorthwhile()
    }

    /// Forgets ids recorded before `nowMillis - retentionMillis`.
    mutating func evict(olderThan nowMillis: Int64, retentionMillis: Int64) {
        let (cutoff, overflow) = nowMillis.subtractingReportingOverflow(retentionMillis)
        guard !overflow else { return }
        while head < queue.count, queue[head].timeMillis < cutoff { evictOldest() }
        compactIfWorthwhile()
    }

    private mutating func evictOldest() {
        let removed = sequences.removeValue(forKey: queue[head].id)
        precondition(removed == firstSequence + UInt64(head), "request log queue and table disagree")
        head += 1
    }

    /// Drops evicted slots once they are at least half the array (amortised O(1)).
    private mutating func compactIfWorthwhile() {
        if head >= 1024, head * 2 >= queue.count {
            queue.removeFirst(head)
            firstSequence += UInt64(head)
            head = 0
        }
    }
}

extension RequestLog: Hashable {
    /// Equal when the retained records (in order) are; the compaction position is invisible.
    static func == (lhs: RequestLog, rhs: RequestLog) -> Bool {
        lhs.records.elementsEqual(rhs.records)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(count)
    }
}
