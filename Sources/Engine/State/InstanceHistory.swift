/// An instance's retained history.
public struct InstanceHistory: Sendable, Hashable {
    /// The retained entries, oldest first: at most `EngineSettings.historyEntriesPerInstanceMax`.
    public internal(set) var entries: [HistoryEntry]
    /// How many older entries were dropped to stay within the limit.
    public internal(set) var droppedCount: UInt64
}
