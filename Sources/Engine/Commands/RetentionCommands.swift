/// `Command.purgeInstances`: finished instances whose retention ran out, proposed by the
/// leader's retention service. Apply removes an instance only if it is final, its pending
/// hook runs are done, and it finished at least the retention before the entry's time — the
/// latest version's `retention`, else `defaultRetentionMillis` (the cluster default the
/// leader carries in the entry, so every replica decides alike). Anything else is kept.
public struct PurgeInstances: Sendable, Hashable {
    public var ids: [String]
    /// The cluster's retention for workflows that declare none; nil: such instances are kept.
    public var defaultRetentionMillis: Int64?
    /// See `Command.proposedAtMillis`.
    public var proposedAtMillis: Int64

    /// Most instances in one entry.
    public static let idsMax = 1_000

    public init(ids: [String], defaultRetentionMillis: Int64? = nil, proposedAtMillis: Int64 = 0) {
        self.ids = ids
        self.defaultRetentionMillis = defaultRetentionMillis
        self.proposedAtMillis = proposedAtMillis
    }
}

/// `Outcome.instancesPurged`: how many of the entry's instances were removed and how many kept.
public struct InstancesPurged: Sendable, Hashable {
    public var purged: Int
    /// Unknown, not final, still running hooks, or not yet past their retention.
    public var kept: Int
    public var index: UInt64

    public init(purged: Int, kept: Int, index: UInt64) {
        self.purged = purged
        self.kept = kept
        self.index = index
    }
}
