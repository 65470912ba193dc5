import Raft
import Synchronization

/// Where a node makes its Raft state durable. ``ClusterNode`` calls it only from its loop
/// thread, in the order the ``Ready`` contract sets.
public protocol RaftPersistence: AnyObject {
    /// Everything that was durable when the storage was opened.
    func initialState() -> DurableState
    /// Makes `snapshot` (received from the leader), then `entries` (overwriting any
    /// suffix from the first one's index), then `hardState` durable, with one sync.
    func save(hardState: HardState?, entries: [Entry], snapshot: Snapshot?) throws
    /// Records a hard state whose only change is the commit index, without waiting for the
    /// disk: Raft re-learns a lost commit index from the leader after a crash, as etcd does.
    func saveCommitIndex(_ hardState: HardState) throws
    /// Makes a snapshot this node took durable (it keeps the log).
    func saveLocalSnapshot(_ snapshot: Snapshot) throws
    /// A function that writes a snapshot durably without touching anything the node loop
    /// uses, so it may run on another thread while the loop goes on (a big snapshot then
    /// does not stall proposals). Its result goes to `adoptSnapshot` on the loop.
    func snapshotWriter() -> @Sendable (Snapshot) throws -> PreparedSnapshot
    /// Makes a snapshot from `snapshotWriter()` the latest local one, like
    /// `saveLocalSnapshot`. Returns false (and discards it) if a newer one exists by now.
    func adoptSnapshot(_ prepared: PreparedSnapshot) throws -> Bool
    /// Forgets log entries up to and including `index` (covered by a durable snapshot).
    func compact(through index: LogIndex) throws
    /// Releases files and locks; called once when the node stops.
    func close()
    /// Calls `observer` with the duration of each sync the write-ahead log makes (an fsync or
    /// fdatasync of a log file), on the thread that made it: the node's fsync latency metric.
    /// A persistence without a disk never calls it.
    func observeSyncs(_ observer: @escaping (_ nanos: UInt64) -> Void)
    /// Whether writes wait for a disk: then a leader writes its log in the background
    /// (``ClusterConfig/leaderWritesInBackground``). False for memory.
    var hasDisk: Bool { get }
}

/// Keeps everything in memory: for `dev --in-memory` and tests. Restarting a node from
/// the same object recovers what was saved, as a disk would. Thread-safe, so a test can
/// keep it across a node's restarts.
/// A snapshot written by a ``RaftPersistence/snapshotWriter()`` function, not yet adopted.
public struct PreparedSnapshot: Sendable {
    public var snapshot: Snapshot
    /// Where the persistence keeps it (a file name), if anywhere yet.
    public var location: String?

    public init(snapshot: Snapshot, location: String? = nil) {
        self.snapshot = snapshot
        self.location = location
    }
}

extension RaftPersistence {
    /// By default there is no disk, so nothing to observe.
    public func observeSyncs(_ observer: @escaping (_ nanos: UInt64) -> Void) {}

    /// By default there is no disk.
    public var hasDisk: Bool { false }

    /// By default the commit index is saved like any hard state.
    public func saveCommitIndex(_ hardState: HardState) throws {
        try save(hardState: hardState, entries: [], snapshot: nil)
    }

    /// By default nothing is written ahead: `adoptSnapshot` saves the snapshot.
    public func snapshotWriter() -> @Sendable (Snapshot) throws -> PreparedSnapshot {
        { PreparedSnapshot(snapshot: $0) }
    }

    public func adoptSnapshot(_ prepared: PreparedSnapshot) throws -> Bool {
        try saveLocalSnapshot(prepared.snapshot)
        return true
    }
}

public final class MemoryPersistence: RaftPersistence, Sendable {
    private let state: Mutex<DurableState>

    public init(_ state: DurableState) {
        self.state = Mutex(state)
    }

    public func initialState() -> DurableState { state.withLock { $0 } }

    public func save(hardState: HardState?, entries: [Entry], snapshot: Snapshot?) throws {
        state.withLock { state in
            if let snapshot {
                state.snapshot = snapshot
                state.entries.removeAll()
            }
            if let first = entries.first {
                let base = state.snapshot.metadata.index
                precondition(first.index > base && first.index <= base + LogIndex(state.entries.count) + 1,
                             "entries at \(first.index) leave a gap after \(base + LogIndex(state.entries.count))")
                state.entries.removeSubrange(Int(first.index - base - 1)...)
                state.entries.append(contentsOf: entries)
            }
            if let hardState { state.hardState = hardState }
        }
    }

    public func saveLocalSnapshot(_ snapshot: Snapshot) throws {
        state.withLock { state in
            state.snapshot = snapshot
            state.entries.removeAll { $0.index <= snapshot.metadata.index }
        }
    }

    public func compact(through index: LogIndex) throws {
        state.withLock { $0.entries.removeAll { $0.index <= index } }
    }

    public func close() {}
}
