/// The in-memory twin of `FileLogStore`: the same API, the same checks and the same
/// answers, with nothing on disk. For the simulator and for tests of code above storage.
///
/// Every `save` is durable the moment it returns (as with the file store, there is no
/// unsynced state), so `crash()` loses nothing. `failNextSave()` models the process dying
/// in the middle of a write: that save throws and, being atomic, leaves no trace; the
/// store refuses all work until `crash()` "restarts" it.
///
/// ```swift
/// let store = MemoryLogStore()
/// store.failNextSave()
/// XCTAssertThrowsError(try store.save(hardState: nil, entries: [e]))
/// store.crash()   // restart: the old state, intact
/// ```
public final class MemoryLogStore: RaftLogStore {
    public let options: StorageOptions
    public private(set) var firstIndex: UInt64 = 1
    public private(set) var lastIndex: UInt64 = 0
    public private(set) var hardState = StoredHardState.initial
    /// Number of modelled `fdatasync` calls: one per save, compaction or snapshot.
    public private(set) var syncCount = 0

    private var compactTerm: UInt64 = 0
    private var log: [StoredEntry] = []
    private var snapshots: [StoredSnapshot] = []
    private var failNext = false
    private var crashed = false

    public init(options: StorageOptions = StorageOptions()) {
        options.validate()
        self.options = options
    }

    /// Restarts the store as after a crash: all acknowledged state survives.
    public func crash() {
        failNext = false
        crashed = false
    }

    /// Makes the next `save` fail as if the process died during its write.
    public func failNextSave() { failNext = true }

    private func checkUsable() throws {
        if crashed { throw StorageError.poisoned(cause: "injected crash; call crash() to restart") }
    }

    public var latestSnapshotMetadata: SnapshotMetadata? { snapshots.last?.metadata }

    private func knownTerm(at index: UInt64) -> UInt64? {
        if index + 1 == firstIndex { return compactTerm }
        guard index >= firstIndex && index <= lastIndex else { return nil }
        return log[Int(index - firstIndex)].term
    }

    public func save(hardState newHardState: StoredHardState?, entries: [StoredEntry], sync: Bool) throws {
        try checkUsable()
        if newHardState == nil && entries.isEmpty { return }
        try LogInvariants.checkSave(
            hardState: newHardState, entries: entries,
            before: .init(firstIndex: firstIndex, lastIndex: lastIndex, hardState: hardState),
            options: options, termAt: { self.knownTerm(at: $0) })
        if failNext {
            failNext = false
            crashed = true
            throw StorageError.injectedCrash
        }
        if let first = entries.first {
            log.removeLast(Int(lastIndex + 1 - first.index))
            log.append(contentsOf: entries)
            lastIndex = entries[entries.count - 1].index
        }
        if let newHardState { hardState = newHardState }
        syncCount += 1
    }

    public func entries(from: UInt64, to: UInt64, maxBytes: Int) throws -> [StoredEntry] {
        try checkUsable()
        precondition(from <= to, "entries: from \(from) after to \(to)")
        precondition(to <= lastIndex + 1, "entries: to \(to) beyond the last index \(lastIndex)")
        if from < firstIndex { throw StorageError.compacted(index: from, firstIndex: firstIndex) }
        var result: [StoredEntry] = []
        var bytes = 0
        for entry in log[Int(from - firstIndex)..<Int(to - firstIndex)] {
            bytes += entry.byteCount
            if !result.isEmpty && bytes > maxBytes { break }
            result.append(entry)
        }
        return result
    }

    public func term(at index: UInt64) throws -> UInt64? {
        try checkUsable()
        return knownTerm(at: index)
    }

    public func saveSnapshot(_ metadata: SnapshotMetadata, data: [UInt8]) throws {
        try checkUsable()
        try LogInvariants.checkSnapshot(metadata, dataBytes: data.count, latest: latestSnapshotMetadata, options: options)
        LogInvariants.checkOwnSnapshot(metadata, lastIndex: lastIndex, termAt: { self.knownTerm(at: $0) })
        storeSnapshot(metadata, data: data)
    }

    private func storeSnapshot(_ metadata: SnapshotMetadata, data: [UInt8]) {
        snapshots.append(StoredSnapshot(metadata: metadata, data: data))
        if snapshots.count > options.snapshotsRetained { snapshots.removeFirst(snapshots.count - options.snapshotsRetained) }
        syncCount += 1
    }

    public func latestSnapshot() throws -> StoredSnapshot? {
        try checkUsable()
        return snapshots.last
    }

    public func compact(upTo index: UInt64) throws {
        try checkUsable()
        if index < firstIndex { return }
        LogInvariants.checkCompaction(upTo: index, lastIndex: lastIndex, latest: latestSnapshotMetadata)
        compactTerm = knownTerm(at: index)!
        log.removeFirst(Int(index + 1 - firstIndex))
        firstIndex = index + 1
        syncCount += 1
    }

    public func installSnapshot(_ metadata: SnapshotMetadata, data: [UInt8]) throws {
        try checkUsable()
        try LogInvariants.checkSnapshot(metadata, dataBytes: data.count, latest: latestSnapshotMetadata, options: options)
        LogInvariants.checkInstall(metadata, hardState: hardState)
        storeSnapshot(metadata, data: data)
        log.removeAll()
        firstIndex = metadata.index + 1
        lastIndex = metadata.index
        compactTerm = metadata.term
    }
}
