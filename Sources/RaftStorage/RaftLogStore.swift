/// Durable storage for one Raft node: the log, the hard state and snapshots.
///
/// Everything a store reports is durable: `save` returns only after one `fdatasync`
/// covering all it wrote, and there is no separate "written but unsynced" state visible
/// through the API. A `save` is atomic: after a crash either all of it or none of it is
/// there.
///
/// Indexes: entries live in `firstIndex ... lastIndex`; `firstIndex - 1` is the
/// compaction (or snapshot) point whose term `term(at:)` still answers. An empty log has
/// `lastIndex == firstIndex - 1`.
///
/// Stores are not thread-safe and not `Sendable`: one owner (the `Cluster` actor) uses
/// one store.
///
/// ```swift
/// let store = try FileLogStore.open(directory: "data/raft")
/// for warning in store.recoveryWarnings { log.warning("\(warning)") }
/// try store.save(hardState: ready.hardState, entries: ready.entries)  // one fdatasync
/// ```
public protocol RaftLogStore: AnyObject {
    /// The first index readable with `entries(from:to:maxBytes:)`.
    var firstIndex: UInt64 { get }
    /// The last index in the log (the snapshot index when the log is empty after one).
    var lastIndex: UInt64 { get }
    /// The durable hard state (`.initial` before the first save).
    var hardState: StoredHardState { get }

    /// Appends `entries` and records `hardState`, durably, with one `fdatasync`.
    ///
    /// Entries must be contiguous with non-decreasing terms. An entry whose index is at
    /// most `lastIndex` replaces that entry and everything after it (Raft's conflicting
    /// suffix); it must lie above the committed index. Violations are programming errors
    /// and stop the process (`precondition`).
    ///
    /// With `sync: false` the write is not followed by an `fdatasync`: for a hard state whose
    /// only change is the commit index, which Raft can re-learn after a crash (etcd's
    /// `MustSync` rule). The next synced save makes it durable too.
    func save(hardState: StoredHardState?, entries: [StoredEntry], sync: Bool) throws

    /// Entries in `from ..< to`, stopping before the total `byteCount` would exceed
    /// `maxBytes`, but always at least one entry when the range is non-empty.
    /// Throws `StorageError.compacted` when `from < firstIndex`.
    func entries(from: UInt64, to: UInt64, maxBytes: Int) throws -> [StoredEntry]

    /// The term of the entry at `index`, for `firstIndex - 1 ... lastIndex`; nil outside.
    func term(at index: UInt64) throws -> UInt64?

    /// Stores a snapshot durably (temp file, fsync, rename, directory fsync) and keeps
    /// the newest `snapshotsRetained`. Does not touch the log (see `compact(upTo:)`).
    func saveSnapshot(_ metadata: SnapshotMetadata, data: [UInt8]) throws

    /// The newest intact snapshot, or nil when there is none.
    func latestSnapshot() throws -> StoredSnapshot?

    /// The metadata of the newest snapshot, without reading its data.
    var latestSnapshotMetadata: SnapshotMetadata? { get }

    /// Discards entries up to and including `index` (which a snapshot must cover);
    /// afterwards `firstIndex == index + 1`. Whole segments fully covered are deleted.
    func compact(upTo index: UInt64) throws

    /// Stores a snapshot received from the leader and drops the whole log: afterwards
    /// `firstIndex == metadata.index + 1` and `lastIndex == metadata.index`.
    func installSnapshot(_ metadata: SnapshotMetadata, data: [UInt8]) throws
}

extension RaftLogStore {
    /// Appends `entries` and records `hardState` durably (see `save(hardState:entries:sync:)`).
    public func save(hardState: StoredHardState?, entries: [StoredEntry]) throws {
        try save(hardState: hardState, entries: entries, sync: true)
    }
}
