/// What the core asks its caller to do, in this order:
///
/// 1. persist `snapshot` (if any), then `entries` (which may overwrite a suffix of the
///    durable log starting at `entries.first.index`), then `hardState` (if any) —
///    durably, with one sync for the lot;
/// 2. send `messages` (they may depend on what step 1 made durable);
/// 3. apply `snapshot` (if any) to the state machine, then `committedEntries` in order;
///    hand `readStates` to waiting readers once their index is applied;
/// 4. call ``RaftNode/advance(_:)`` with this value.
///
/// Nothing in a `Ready` may be acted on out of that order; see docs/raft.md ("Ready contract").
public struct Ready: Sendable, Hashable {
    /// The hard state to persist, when it changed since the last `Ready`.
    public var hardState: HardState?
    /// Entries to append to the durable log.
    public var entries: [Entry]
    /// A snapshot received from the leader, to persist and then apply.
    public var snapshot: Snapshot?
    /// Messages to send once step 1 is durable.
    public var messages: [Message]
    /// Entries known committed, to apply in order.
    public var committedEntries: [Entry]
    /// Confirmed read points for earlier ``RaftNode/requestRead(context:)`` calls.
    public var readStates: [ReadState]
    /// Role or leader, when either changed since the last `Ready`.
    public var softState: SoftState?
    /// Whether step 1 needs a sync (etcd's `MustSync`): entries, a snapshot, or a hard state
    /// with a new term or vote. A hard state that only moves the commit index may be written
    /// without one — a commit index lost in a crash is learned again from the leader — as
    /// long as a later sync covers it before anything written after it (docs/raft.md).
    public var mustSync = false
    /// Whether a leader may write this `Ready`'s entries and hard state in the background —
    /// send its messages, apply and ``RaftNode/advance(_:persisted:)`` with `persisted: false`
    /// at once, and report the write later with ``RaftNode/persisted(through:term:)``. True
    /// for a leader's `Ready` without a snapshot, whose hard state keeps the term and vote
    /// last handed over, and whose messages are all ``Message/isLeaderTraffic``. The writes
    /// must still happen in the order the `Ready`s came, and any other `Ready` must wait for
    /// them before its own.
    public var mayPersistInBackground = false

    public init(hardState: HardState? = nil, entries: [Entry] = [], snapshot: Snapshot? = nil,
                messages: [Message] = [], committedEntries: [Entry] = [], readStates: [ReadState] = [],
                softState: SoftState? = nil) {
        self.hardState = hardState
        self.entries = entries
        self.snapshot = snapshot
        self.messages = messages
        self.committedEntries = committedEntries
        self.readStates = readStates
        self.softState = softState
    }

    /// Whether persisting is needed before `messages` may leave.
    public var needsPersistence: Bool { hardState != nil || !entries.isEmpty || snapshot != nil }
}

/// Volatile state worth telling the application about: who leads, and this node's role.
public struct SoftState: Sendable, Hashable {
    public var leader: NodeID
    public var role: Role
    public init(leader: NodeID, role: Role) {
        self.leader = leader
        self.role = role
    }
}
