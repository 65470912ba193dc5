/// A message between two Raft nodes. Every message carries its sender's term.
public struct Message: Sendable, Hashable {
    public var from: NodeID
    public var to: NodeID
    public var term: Term
    public var payload: Payload

    public init(from: NodeID, to: NodeID, term: Term, payload: Payload) {
        self.from = from
        self.to = to
        self.term = term
        self.payload = payload
    }

    /// What a message says. A `switch` over this enum is the whole wire contract.
    /// Whether only a leader sends this, and it asserts nothing about the sender's own log
    /// being durable (an acknowledgement or a vote does): such messages may leave while the
    /// leader's write of the same `Ready` is still under way (Raft thesis §10.2.1).
    public var isLeaderTraffic: Bool {
        switch payload {
        case .append, .heartbeat, .snapshotChunk, .timeoutNow, .readIndexResponse: true
        default: false
        }
    }

    public enum Payload: Sendable, Hashable {
        /// Leader → follower: entries after (`prevIndex`, `prevTerm`), and the leader's commit.
        case append(Append)
        /// Follower → leader: the result of an `append` or an installed snapshot.
        case appendResponse(AppendResponse)
        /// Candidate → voter: a vote (or, with `preVote`, a would-you-vote) request.
        case vote(VoteRequest)
        /// Voter → candidate.
        case voteResponse(VoteResponse)
        /// Leader → follower: liveness, commit and the read round for ReadIndex.
        case heartbeat(Heartbeat)
        /// Follower → leader: echoes the read round.
        case heartbeatResponse(HeartbeatResponse)
        /// Leader → follower: one chunk of a snapshot.
        case snapshotChunk(SnapshotChunk)
        /// Follower → leader: chunk received (or rejected; restart at `nextOffset`).
        case snapshotChunkResponse(SnapshotChunkResponse)
        /// Leader → transfer target: start an election now.
        case timeoutNow
        /// Follower → leader: please confirm a read point for `context`.
        case readIndex(context: UInt64)
        /// Leader → follower: the confirmed read point for `context`.
        case readIndexResponse(index: LogIndex, context: UInt64)
    }

    public struct Append: Sendable, Hashable {
        public var prevIndex: LogIndex
        public var prevTerm: Term
        public var entries: [Entry]
        public var commit: LogIndex
        public init(prevIndex: LogIndex, prevTerm: Term, entries: [Entry], commit: LogIndex) {
            self.prevIndex = prevIndex
            self.prevTerm = prevTerm
            self.entries = entries
            self.commit = commit
        }
    }

    public struct AppendResponse: Sendable, Hashable {
        /// On success the follower's last matching index; on rejection the rejected `prevIndex`.
        public var index: LogIndex
        public var reject: Bool
        /// On rejection: the follower's hint for where the logs may agree (fast backtracking).
        public var hintIndex: LogIndex
        public var hintTerm: Term
        public init(index: LogIndex, reject: Bool = false, hintIndex: LogIndex = 0, hintTerm: Term = 0) {
            self.index = index
            self.reject = reject
            self.hintIndex = hintIndex
            self.hintTerm = hintTerm
        }
    }

    public struct VoteRequest: Sendable, Hashable {
        public var lastIndex: LogIndex
        public var lastTerm: Term
        /// A pre-vote: no one changes term or vote because of it.
        public var preVote: Bool
        /// Sent because of a leadership transfer: voters skip their leader lease.
        public var transfer: Bool
        public init(lastIndex: LogIndex, lastTerm: Term, preVote: Bool, transfer: Bool = false) {
            self.lastIndex = lastIndex
            self.lastTerm = lastTerm
            self.preVote = preVote
            self.transfer = transfer
        }
    }

    public struct VoteResponse: Sendable, Hashable {
        public var granted: Bool
        public var preVote: Bool
        public init(granted: Bool, preVote: Bool) {
            self.granted = granted
            self.preVote = preVote
        }
    }

    public struct Heartbeat: Sendable, Hashable {
        public var commit: LogIndex
        public var readRound: UInt64
        public init(commit: LogIndex, readRound: UInt64) {
            self.commit = commit
            self.readRound = readRound
        }
    }

    public struct HeartbeatResponse: Sendable, Hashable {
        public var readRound: UInt64
        public init(readRound: UInt64) { self.readRound = readRound }
    }

    public struct SnapshotChunk: Sendable, Hashable {
        public var metadata: SnapshotMetadata
        /// Total size of the snapshot data in bytes.
        public var totalBytes: Int
        public var offset: Int
        public var data: [UInt8]
        public init(metadata: SnapshotMetadata, totalBytes: Int, offset: Int, data: [UInt8]) {
            self.metadata = metadata
            self.totalBytes = totalBytes
            self.offset = offset
            self.data = data
        }
        /// Whether this chunk completes the snapshot.
        public var isLast: Bool { offset + data.count >= totalBytes }
    }

    public struct SnapshotChunkResponse: Sendable, Hashable {
        public var snapshotIndex: LogIndex
        /// The offset the follower expects next (0 after a rejection: start again).
        public var nextOffset: Int
        public var reject: Bool
        public init(snapshotIndex: LogIndex, nextOffset: Int, reject: Bool) {
            self.snapshotIndex = snapshotIndex
            self.nextOffset = nextOffset
            self.reject = reject
        }
    }
}
