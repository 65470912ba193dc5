/// A node's identity within one cluster. `0` means "none" (no vote, no known leader).
public typealias NodeID = UInt64

/// A Raft term: a logical clock that increases with every election.
public typealias Term = UInt64

/// A position in the replicated log. The first real entry has index 1; index 0 is the
/// empty prefix that every log shares.
public typealias LogIndex = UInt64

/// What a log entry carries.
public enum EntryKind: UInt8, Sendable, Hashable {
    /// Application data (also the empty entry a new leader appends, with no data).
    case normal = 0
    /// An encoded ``ConfigChange``; the core applies it when the entry commits.
    case configChange = 1
}

/// One entry of the replicated log.
public struct Entry: Sendable, Hashable {
    public var term: Term
    public var index: LogIndex
    public var kind: EntryKind
    public var data: [UInt8]

    public init(term: Term, index: LogIndex, kind: EntryKind = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.data = data
    }

    /// Bytes this entry counts against message and uncommitted-size limits.
    @inlinable public var sizeBytes: Int { data.count + 24 }
}

/// The state that must be durable before a node answers any message that depends on it.
public struct HardState: Sendable, Hashable {
    public var term: Term
    /// Who this node voted for in `term`, or 0.
    public var vote: NodeID
    /// The highest index known to be committed.
    public var commit: LogIndex

    public init(term: Term = 0, vote: NodeID = 0, commit: LogIndex = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }
}

/// Cluster membership: voters decide elections and commits; learners only receive the log.
public struct Configuration: Sendable, Hashable {
    public var voters: Set<NodeID>
    public var learners: Set<NodeID>

    public init(voters: Set<NodeID> = [], learners: Set<NodeID> = []) {
        precondition(voters.isDisjoint(with: learners), "a node is a voter or a learner, not both")
        self.voters = voters
        self.learners = learners
    }

    /// Every member, voter or learner.
    public var members: Set<NodeID> { voters.union(learners) }

    /// The number of voters that make a majority.
    public var quorum: Int { voters.count / 2 + 1 }
}

/// One membership change. Changes are made one at a time (see docs/raft.md, "Membership").
public enum ConfigChange: Sendable, Hashable {
    /// Add a new voter, or promote an existing learner.
    case addVoter(NodeID)
    /// Add a non-voting member that receives the log.
    case addLearner(NodeID)
    /// Remove a voter or learner.
    case remove(NodeID)
}

/// Where a snapshot sits in the log and the membership as of that point.
public struct SnapshotMetadata: Sendable, Hashable {
    public var index: LogIndex
    public var term: Term
    public var configuration: Configuration

    public init(index: LogIndex, term: Term, configuration: Configuration) {
        self.index = index
        self.term = term
        self.configuration = configuration
    }
}

/// The application's state as of `metadata.index`, opaque to Raft.
public struct Snapshot: Sendable, Hashable {
    public var metadata: SnapshotMetadata
    public var data: [UInt8]

    public init(metadata: SnapshotMetadata, data: [UInt8]) {
        self.metadata = metadata
        self.data = data
    }
}

/// A node's role.
public enum Role: String, Sendable, Hashable {
    case follower, preCandidate, candidate, leader
}

/// A linearizable read point: once the local state machine has applied `index`, a read
/// requested with `context` may be served.
public struct ReadState: Sendable, Hashable {
    public var index: LogIndex
    public var context: UInt64

    public init(index: LogIndex, context: UInt64) {
        self.index = index
        self.context = context
    }
}

/// The index and term a proposal was appended at. The proposal succeeded if, when the
/// entry at `index` is applied, it carries `term`; a different term means it was lost.
public struct LogPosition: Sendable, Hashable {
    public var index: LogIndex
    public var term: Term

    public init(index: LogIndex, term: Term) {
        self.index = index
        self.term = term
    }
}
