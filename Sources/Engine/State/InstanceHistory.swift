/// An instance's retained history.
public struct InstanceHistory: Sendable, Hashable {
    /// The retained entries, oldest first: at most `EngineSettings.historyEntriesPerInstanceMax`.
    public internal(set) var entries: [HistoryEntry]
    /// How many older entries were dropped to stay within the limit.
    public internal(set) var droppedCount: UInt64
}

/// One page of an instance's retained history (`EngineState.historyPage(of:after:limit:)`).
public struct HistoryPage: Sendable, Hashable {
    /// The entries of this page, oldest first.
    public let entries: [HistoryEntry]
    /// How many older entries the instance's history limit dropped.
    public let droppedCount: UInt64
    /// The log index of the oldest retained entry: the history is complete from there.
    public let retainedFromIndex: UInt64?
    /// The `after` that fetches the next page; nil on the last one.
    public let nextAfter: UInt64?
}
