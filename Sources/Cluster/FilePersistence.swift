import Raft
import RaftStorage

/// Persists a node's Raft state in a ``RaftStorage`` write-ahead log.
public final class FilePersistence: RaftPersistence {
    private let store: any RaftLogStore
    private var initial: DurableState

    /// Wraps an opened store and reads back what it holds.
    public init(store: any RaftLogStore) throws {
        self.store = store
        let hard = store.hardState
        var snapshot = Raft.Snapshot(metadata: Raft.SnapshotMetadata(index: 0, term: 0, configuration: Configuration()), data: [])
        if let stored = try store.latestSnapshot() {
            guard let configuration = ConfigurationCodec.decode(stored.metadata.configuration) else {
                throw ClusterError.storageFailed("the snapshot at index \(stored.metadata.index) has an unreadable membership")
            }
            snapshot = Raft.Snapshot(metadata: Raft.SnapshotMetadata(index: stored.metadata.index, term: stored.metadata.term,
                                                                     configuration: configuration), data: stored.data)
        }
        let from = snapshot.metadata.index + 1
        var entries: [Entry] = []
        if store.lastIndex >= from {
            guard store.firstIndex <= from else {
                throw ClusterError.storageFailed("the log starts at \(store.firstIndex) but the snapshot ends at \(snapshot.metadata.index): entries are missing")
            }
            entries = try store.entries(from: from, to: store.lastIndex + 1, maxBytes: .max).map {
                guard let kind = EntryKind(rawValue: $0.kind) else {
                    throw ClusterError.storageFailed("entry \($0.index) has unknown kind \($0.kind)")
                }
                return Entry(term: $0.term, index: $0.index, kind: kind, data: $0.payload)
            }
        }
        initial = DurableState(hardState: HardState(term: hard.term, vote: hard.vote, commit: hard.commit),
                               snapshot: snapshot, entries: entries)
    }

    /// Whether the store holds nothing yet (a node's first start).
    public var isEmpty: Bool {
        initial.hardState == HardState() && initial.entries.isEmpty && initial.snapshot.metadata.index == 0
    }

    public func initialState() -> DurableState { initial }

    /// Writes the first state of a node (a new cluster's bootstrap membership, or the
    /// empty state of a node that will be added). Only on an empty store.
    public func bootstrap(_ state: DurableState) throws {
        precondition(isEmpty, "bootstrapping a store that already holds state")
        try save(hardState: state.hardState, entries: state.entries, snapshot: nil)
        initial = state
    }

    /// Writes the first state of a node of a new cluster that starts from a state machine
    /// snapshot (`orchestrator snapshot restore`): the snapshot at `index` in `term`, with
    /// `voters` as the membership and `addresses` as the address book, a hard state of `term`
    /// (no vote) with `index` committed, and no log. Only on an empty store. A node started
    /// on it restores `application` into its state machine and goes on from `index + 1`.
    public func seed(index: LogIndex, term: Term, voters: Set<NodeID>, addresses: [NodeID: MemberAddress],
                     application: [UInt8]) throws {
        precondition(isEmpty, "seeding a store that already holds state")
        precondition(index >= 1 && term >= 1 && !voters.isEmpty, "a seed needs an index, a term and at least one voter")
        let data = ClusterSnapshot(addresses: addresses, application: application).encoded
        let snapshot = Raft.Snapshot(metadata: Raft.SnapshotMetadata(index: index, term: term, configuration: Configuration(voters: voters)),
                                     data: data)
        let hardState = HardState(term: term, vote: 0, commit: index)
        try store.installSnapshot(Self.metadata(snapshot.metadata), data: data)
        try store.save(hardState: StoredHardState(term: term, vote: 0, commit: index), entries: [])
        initial = DurableState(hardState: hardState, snapshot: snapshot, entries: [])
    }

    public func save(hardState: HardState?, entries: [Entry], snapshot: Raft.Snapshot?) throws {
        if let snapshot {
            try store.installSnapshot(Self.metadata(snapshot.metadata), data: snapshot.data)
        }
        try store.save(hardState: hardState.map { StoredHardState(term: $0.term, vote: $0.vote, commit: $0.commit) },
                       entries: entries.map { StoredEntry(index: $0.index, term: $0.term, kind: $0.kind.rawValue, payload: $0.data) })
    }

    public func saveCommitIndex(_ hardState: HardState) throws {
        try store.save(hardState: StoredHardState(term: hardState.term, vote: hardState.vote, commit: hardState.commit), entries: [],
                       sync: false)
    }

    public func saveLocalSnapshot(_ snapshot: Raft.Snapshot) throws {
        try store.saveSnapshot(Self.metadata(snapshot.metadata), data: snapshot.data)
    }

    public func snapshotWriter() -> @Sendable (Raft.Snapshot) throws -> PreparedSnapshot {
        let directory = (store as? FileLogStore)?.directory
        return { snapshot in
            guard let directory else { return PreparedSnapshot(snapshot: snapshot) }
            let file = try FileLogStore.writeSnapshotFile(Self.metadata(snapshot.metadata), data: snapshot.data, directory: directory)
            return PreparedSnapshot(snapshot: snapshot, location: file.name)
        }
    }

    public func adoptSnapshot(_ prepared: PreparedSnapshot) throws -> Bool {
        guard let store = store as? FileLogStore, let name = prepared.location else {
            try saveLocalSnapshot(prepared.snapshot)
            return true
        }
        return try store.adoptSnapshotFile(PreparedSnapshotFile(metadata: Self.metadata(prepared.snapshot.metadata), name: name,
                                                                dataBytes: prepared.snapshot.data.count))
    }

    public func compact(through index: LogIndex) throws {
        try store.compact(upTo: index)
    }

    public func close() {
        (store as? FileLogStore)?.close()
    }

    public func observeSyncs(_ observer: @escaping (_ nanos: UInt64) -> Void) {
        (store as? FileLogStore)?.syncObserver = observer
    }

    public var hasDisk: Bool { store is FileLogStore }

    private static func metadata(_ metadata: Raft.SnapshotMetadata) -> RaftStorage.SnapshotMetadata {
        RaftStorage.SnapshotMetadata(index: metadata.index, term: metadata.term,
                                     configuration: ConfigurationCodec.encode(metadata.configuration))
    }
}

/// Membership as bytes in snapshot metadata: version, voter count, voters, learner count, learners.
enum ConfigurationCodec {
    static func encode(_ configuration: Configuration) -> [UInt8] {
        var writer = ByteWriter()
        writer.u8(1)
        writer.u32(UInt32(configuration.voters.count))
        for voter in configuration.voters.sorted() { writer.u64(voter) }
        writer.u32(UInt32(configuration.learners.count))
        for learner in configuration.learners.sorted() { writer.u64(learner) }
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) -> Configuration? {
        if bytes.isEmpty { return Configuration() }
        var reader = ByteReader(bytes, from: 0)
        guard reader.u8() == 1, let voterCount = reader.u32(), voterCount <= 1 << 16 else { return nil }
        var voters: Set<NodeID> = []
        for _ in 0..<voterCount { guard let v = reader.u64() else { return nil }; voters.insert(v) }
        guard let learnerCount = reader.u32(), learnerCount <= 1 << 16 else { return nil }
        var learners: Set<NodeID> = []
        for _ in 0..<learnerCount { guard let l = reader.u64() else { return nil }; learners.insert(l) }
        guard reader.isAtEnd, voters.isDisjoint(with: learners) else { return nil }
        return Configuration(voters: voters, learners: learners)
    }
}
