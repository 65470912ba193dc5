/// One Raft log entry as the storage layer sees it: positions and opaque bytes.
///
/// `kind` and `payload` mean nothing here; the `Cluster` layer converts to and from the
/// `Raft` target's entry type.
public struct StoredEntry: Equatable, Hashable, Sendable {
    /// Log position, starting at 1.
    public var index: UInt64
    /// The term of the leader that created the entry.
    public var term: UInt64
    /// An opaque tag the caller chooses (normal entry, configuration change, ...).
    public var kind: UInt8
    /// Opaque entry bytes.
    public var payload: [UInt8]

    public init(index: UInt64, term: UInt64, kind: UInt8 = 0, payload: [UInt8] = []) {
        self.index = index
        self.term = term
        self.kind = kind
        self.payload = payload
    }

    /// Bytes this entry counts for against a `maxBytes` budget: the payload plus the fixed
    /// 17-byte body header (index, term, kind) it is stored with.
    public var byteCount: Int { payload.count + WALFormat.entryBodyFixedBytes }
}

/// The Raft state that must survive a restart besides the log.
public struct StoredHardState: Equatable, Hashable, Sendable {
    /// The latest term this node has seen.
    public var term: UInt64
    /// The node voted for in `term`; 0 means none.
    public var vote: UInt64
    /// The highest log index known to be committed.
    public var commit: UInt64

    public init(term: UInt64 = 0, vote: UInt64 = 0, commit: UInt64 = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }

    /// The state of a node that has never saved anything.
    public static let initial = StoredHardState()
}

/// What a snapshot covers: the last log position it includes and the membership then.
public struct SnapshotMetadata: Equatable, Hashable, Sendable {
    /// The last log index whose effect the snapshot contains.
    public var index: UInt64
    /// The term of the entry at `index`.
    public var term: UInt64
    /// The cluster membership at `index`, encoded by the caller (opaque here).
    public var configuration: [UInt8]

    public init(index: UInt64, term: UInt64, configuration: [UInt8] = []) {
        self.index = index
        self.term = term
        self.configuration = configuration
    }
}

/// A snapshot as stored: its metadata and the state machine bytes.
public struct StoredSnapshot: Equatable, Sendable {
    public var metadata: SnapshotMetadata
    public var data: [UInt8]

    public init(metadata: SnapshotMetadata, data: [UInt8]) {
        self.metadata = metadata
        self.data = data
    }
}
