import HashTreeCollections

/// The request-id table: the outcome of every recent command that carried a request id, so
/// a retry returns the original outcome and changes nothing.
///
/// Retention is bounded two ways, both evaluated at apply from replicated values only:
/// - count: at most `EngineSettings.requestIDsMax` ids; recording one more forgets the oldest;
/// - age: an id recorded at engine time `t` is forgotten by the first command applied at
///   engine time `> t + requestIDRetentionMillis`.
/// Records live in a FIFO queue in apply order (engine time never decreases along it, so the
/// oldest is always at the front); the table maps an id to its queue sequence number,
/// which keeps the hashed table small (ids and integers, not whole outcomes).
///
/// Both are persistent structures (a hash trie, a chunked array), so the first insert after
/// the state was copied for a snapshot copies a few nodes and one chunk, not 100,000 records.
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
    private var sequences: TreeDictionary<String, UInt64> = [:]
    /// FIFO of the live records, oldest first.
    private var queue = ChunkedArray<Record>()
    /// The sequence number of `queue[0]`.
    private var firstSequence: UInt64 = 0

    init() {}

    /// Rebuilds a log from a snapshot's records (oldest first, unique ids).
    init(restoring records: [Record]) {
        queue = ChunkedArray(records)
        for (position, record) in records.enumerated() { sequences[record.id] = UInt64(position) }
    }

    var count: Int { sequences.count }

    /// The live records, oldest first.
    var records: ChunkedArray<Record> { queue }

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
    }

    /// Forgets ids recorded before `nowMillis - retentionMillis`.
    mutating func evict(olderThan nowMillis: Int64, retentionMillis: Int64) {
        let (cutoff, overflow) = nowMillis.subtractingReportingOverflow(retentionMillis)
        guard !overflow else { return }
        while let oldest = queue.first, oldest.timeMillis < cutoff { evictOldest() }
    }

    private mutating func evictOldest() {
        let oldest = queue.removeFirst()
        let removed = sequences.removeValue(forKey: oldest.id)
        precondition(removed == firstSequence, "request log queue and table disagree")
        firstSequence += 1
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
