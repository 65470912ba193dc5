/// The request-id table: the outcome of every recent command that carried a request id, so
/// a retry returns the original outcome and changes nothing.
///
/// Retention is bounded two ways, both evaluated at apply from replicated values only:
/// - count: at most `EngineSettings.requestIDsMax` ids; inserting one more forgets the oldest;
/// - age: an id recorded at engine time `t` is forgotten by the first command applied at
///   engine time `> t + requestIDRetentionMillis`.
/// Ids are kept in a FIFO queue in apply order; engine time never decreases along it, so the
/// oldest is always at the front.
struct RequestLog: Sendable, Hashable {
    struct Record: Sendable, Hashable {
        /// `Command.fingerprint` of the request, to tell a retry from a reused id.
        var fingerprint: UInt64
        var outcome: Outcome
        var index: UInt64
        var timeMillis: Int64
    }

    struct QueueEntry: Sendable, Hashable {
        var id: String
        var timeMillis: Int64
    }

    private(set) var records: [String: Record] = [:]
    /// FIFO; entries before `head` are already evicted and compacted away lazily.
    private(set) var queue: [QueueEntry] = []
    private var head = 0

    var count: Int { records.count }

    /// The live queue, oldest first.
    var liveQueue: ArraySlice<QueueEntry> { queue[head...] }

    subscript(id: String) -> Record? { records[id] }

    mutating func insert(id: String, record: Record, maxCount: Int) {
        precondition(records[id] == nil, "request id recorded twice")
        records[id] = record
        queue.append(QueueEntry(id: id, timeMillis: record.timeMillis))
        while records.count > maxCount { evictOldest() }
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
        let entry = queue[head]
        head += 1
        let removed = records.removeValue(forKey: entry.id)
        precondition(removed != nil, "request log queue and table disagree")
    }

    /// Drops evicted queue slots once they are at least half the array (amortised O(1)).
    private mutating func compactIfWorthwhile() {
        if head >= 1024, head * 2 >= queue.count {
            queue.removeFirst(head)
            head = 0
        }
    }

    /// Equality of the retained content only (not of the lazy compaction position).
    static func == (lhs: RequestLog, rhs: RequestLog) -> Bool {
        lhs.records == rhs.records && lhs.liveQueue.elementsEqual(rhs.liveQueue)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(records.count)
    }

    /// Rebuilds a log from a snapshot's queue (oldest first).
    init(restoring entries: [(id: String, record: Record)]) {
        for (id, record) in entries {
            records[id] = record
            queue.append(QueueEntry(id: id, timeMillis: record.timeMillis))
        }
    }

    init() {}
}
