/// Why a proposal or a membership request was refused. Nothing was appended.
public enum ProposalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Only the leader accepts proposals; `leader` is who leads as far as this node knows (0: unknown).
    case notLeader(leader: NodeID)
    /// The leader is handing over to another node and accepts nothing until that ends.
    case leadershipTransferInProgress
    /// The leader holds ``RaftConfig/maxUncommittedBytes`` of uncommitted entries already.
    case uncommittedLimitReached
    /// A membership change is still uncommitted (or the leader has not yet committed an entry of its term).
    case configChangePending
    case notAMember(NodeID)
    case alreadyAMember(NodeID)
    /// The change would leave the cluster without a voter.
    case wouldRemoveLastVoter
    /// Promoting this learner now would add a voter that is not in sync with the leader
    /// (``RaftConfig/promotionLagEntriesMax``).
    case learnerNotReady(LearnerLag)
    /// The change would leave fewer live voters than a quorum of the new configuration
    /// (``RaftConfig/strictReconfigCheck``).
    case wouldLoseQuorum(QuorumShortfall)

    public var description: String {
        switch self {
        case .notLeader(let leader): leader == 0 ? "not the leader (no leader known)" : "not the leader (node \(leader) leads)"
        case .leadershipTransferInProgress: "leadership transfer in progress"
        case .uncommittedLimitReached: "too many uncommitted bytes at the leader"
        case .configChangePending: "a membership change is still pending"
        case .notAMember(let n): "node \(n) is not a member"
        case .alreadyAMember(let n): "node \(n) is already a member"
        case .wouldRemoveLastVoter: "the change would leave no voter"
        case .learnerNotReady(let lag): lag.description
        case .wouldLoseQuorum(let shortfall): shortfall.description
        }
    }
}

/// A snapshot of one node's state, for status reports and tests.
public struct RaftStatus: Sendable, Hashable {
    public var id: NodeID
    public var term: Term
    public var vote: NodeID
    public var role: Role
    public var leader: NodeID
    public var commit: LogIndex
    public var applied: LogIndex
    public var firstIndex: LogIndex
    public var lastIndex: LogIndex
    public var configuration: Configuration
    /// The leader's view of every member (empty on followers).
    public var progress: [NodeID: ProgressStatus]
    public var leadTransferee: NodeID
}

/// One Raft node as a pure state machine, in the shape of etcd-io/raft.
///
/// The caller feeds it ``tick()``s and ``step(_:)``s messages, proposes with
/// ``propose(_:)``, and repeatedly takes a ``Ready`` with ``ready()`` — entries and hard
/// state to persist, messages to send, committed entries to apply — and hands it back with
/// ``advance(_:)``. The node never touches a clock, a socket, a file or a random source it
/// was not given, so every behaviour is reproducible from its inputs.
///
/// ```swift
/// var node = RaftNode(config: RaftConfig(id: 1), state: .bootstrap([1]))
/// node.campaign()
/// while node.hasReady { let rd = node.ready(); /* persist, send, apply */ node.advance(rd) }
/// let position = try node.propose(Array("hello".utf8))
/// ```
public struct RaftNode: Sendable {
    let config: RaftConfig
    public var id: NodeID { config.id }

    var term: Term
    var vote: NodeID
    var role: Role = .follower
    var leader: NodeID = 0
    var log: RaftLog

    /// Membership as of the commit index (changes take effect when they commit).
    var configuration: Configuration
    /// Configurations in force from each index onwards, since the compacted prefix.
    var configHistory: [(index: LogIndex, configuration: Configuration)]
    /// Index of the latest membership change the leader appended (0 when none).
    var pendingConfigIndex: LogIndex = 0

    var progress: [NodeID: Progress] = [:]
    var votes: [NodeID: Bool] = [:]

    var electionElapsed = 0
    var heartbeatElapsed = 0
    var randomizedElectionTimeout = 0
    var random: SplitMix64

    var leadTransferee: NodeID = 0
    var uncommittedBytes = 0
    /// Leader: proposals were appended since the last broadcast (sent at `ready()`).
    var pendingBroadcast = false

    var messages: [Message] = []
    var readStates: [ReadState] = []
    /// Leader: the current read round, incremented per batch of read requests.
    var readRound: UInt64 = 0
    var pendingReads: [PendingRead] = []
    var readsAwaitingCommit: [(context: UInt64, from: NodeID)] = []

    /// Follower: the snapshot being received, chunk by chunk.
    var incomingSnapshot: (metadata: SnapshotMetadata, totalBytes: Int, data: [UInt8])?
    /// Follower: a received snapshot the caller must persist and apply.
    var snapshotToPersist: Snapshot?
    /// The newest snapshot: the one sent to followers that are behind the compacted prefix.
    var latestSnapshot: Snapshot

    var previousHardState: HardState
    var previousSoftState: SoftState

    struct PendingRead: Sendable {
        var context: UInt64
        var from: NodeID
        var index: LogIndex
        var round: UInt64
    }

    /// Restarts a node from what it had made durable (or from ``DurableState/bootstrap(_:)``).
    public init(config: RaftConfig, state: DurableState) {
        self.config = config.validated()
        let snapshot = state.snapshot
        term = state.hardState.term
        vote = state.hardState.vote
        log = RaftLog(snapshotIndex: snapshot.metadata.index, snapshotTerm: snapshot.metadata.term,
                      entries: state.entries, committed: state.hardState.commit)
        precondition(log.lastTerm <= term || (log.lastIndex == 0 && term == 0),
                     "durable log ends in term \(log.lastTerm), after the hard state's term \(term)")
        latestSnapshot = snapshot
        configuration = snapshot.metadata.configuration
        configHistory = [(snapshot.metadata.index, snapshot.metadata.configuration)]
        random = SplitMix64(seed: config.randomSeed ^ (config.id &* 0x9E37_79B9_7F4A_7C15))
        previousHardState = state.hardState
        previousSoftState = SoftState(leader: 0, role: .follower)
        // Membership changes committed after the snapshot are in force again.
        if log.committed > log.snapshotIndex {
            for entry in log.slice(from: log.firstIndex, to: log.committed + 1) where entry.kind == .configChange {
                activate(entry)
            }
        }
        resetRandomizedElectionTimeout()
    }

    /// Whether this node may campaign: only voters may.
    var isPromotable: Bool { configuration.voters.contains(id) }

    var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }
    var softState: SoftState { SoftState(leader: leader, role: role) }

    // MARK: - Input

    /// Advances the logical clock by one tick: elections time out, leaders send heartbeats.
    public mutating func tick() {
        if role == .leader { tickLeader() } else { tickElection() }
    }

    /// Feeds one message addressed to this node.
    public mutating func step(_ message: Message) {
        guard message.to == id, message.from != id, message.from != 0 else { return }
        if message.term > term {
            if !stepHigherTerm(message) { return }
        } else if message.term < term {
            stepLowerTerm(message)
            return
        }
        if case .vote(let request) = message.payload {
            handleVoteRequest(message, request)
            return
        }
        switch role {
        case .leader: stepLeader(message)
        case .candidate, .preCandidate: stepCandidate(message)
        case .follower: stepFollower(message)
        }
    }

    /// A message from a later term. Returns whether to go on handling it.
    private mutating func stepHigherTerm(_ message: Message) -> Bool {
        switch message.payload {
        case .vote(let request):
            // Leader lease: while a leader is heard from, vote requests are disruptions,
            // unless a leadership transfer asked for them.
            let inLease = config.checkQuorum && leader != 0 && electionElapsed < config.electionTicks
            if inLease && !request.transfer { return false }
            if !request.preVote { becomeFollower(term: message.term, leader: 0) }
            return true
        case .voteResponse(let response) where response.preVote && response.granted:
            // A granted pre-vote carries the term we would campaign in; it is not newer.
            return true
        case .append, .heartbeat, .snapshotChunk, .timeoutNow:
            becomeFollower(term: message.term, leader: message.from)
            return true
        default:
            becomeFollower(term: message.term, leader: 0)
            return true
        }
    }

    private mutating func stepLowerTerm(_ message: Message) {
        switch message.payload {
        case .append, .heartbeat, .snapshotChunk:
            // A stale leader: tell it our term so that it steps down. (With check-quorum or
            // pre-vote a partitioned node does not raise its term, so it would never learn.)
            if config.checkQuorum || config.preVote {
                send(to: message.from, .appendResponse(Message.AppendResponse(index: 0, reject: false)))
            }
        case .vote(let request) where request.preVote:
            send(to: message.from, .voteResponse(Message.VoteResponse(granted: false, preVote: true)))
        default:
            break
        }
    }

    private mutating func handleVoteRequest(_ message: Message, _ request: Message.VoteRequest) {
        let canVote = vote == message.from
            || (vote == 0 && leader == 0)
            || (request.preVote && message.term > term)
        if canVote && log.isUpToDate(index: request.lastIndex, term: request.lastTerm) {
            // A granted vote answers in the candidate's term (for a pre-vote, the term it
            // would campaign in), so the response is not mistaken for a stale one.
            messages.append(Message(from: id, to: message.from, term: message.term,
                                    payload: .voteResponse(Message.VoteResponse(granted: true, preVote: request.preVote))))
            if !request.preVote {
                electionElapsed = 0
                vote = message.from
            }
        } else {
            send(to: message.from, .voteResponse(Message.VoteResponse(granted: false, preVote: request.preVote)))
        }
    }

    private mutating func stepFollower(_ message: Message) {
        switch message.payload {
        case .append(let append):
            electionElapsed = 0
            leader = message.from
            handleAppend(from: message.from, append)
        case .heartbeat(let heartbeat):
            electionElapsed = 0
            leader = message.from
            commit(to: min(heartbeat.commit, log.lastIndex))
            send(to: message.from, .heartbeatResponse(Message.HeartbeatResponse(readRound: heartbeat.readRound)))
        case .snapshotChunk(let chunk):
            electionElapsed = 0
            leader = message.from
            handleSnapshotChunk(from: message.from, chunk)
        case .timeoutNow:
            if isPromotable { campaign(transfer: true) }
        case .readIndexResponse(let index, let context):
            readStates.append(ReadState(index: index, context: context))
        case .appendResponse, .voteResponse, .heartbeatResponse, .snapshotChunkResponse, .readIndex, .vote:
            break
        }
    }

    private mutating func stepCandidate(_ message: Message) {
        switch message.payload {
        case .append, .heartbeat, .snapshotChunk:
            // A leader exists in our term: it won.
            becomeFollower(term: message.term, leader: message.from)
            stepFollower(message)
        case .voteResponse(let response):
            guard response.preVote == (role == .preCandidate) else { return }
            handleVoteResponse(from: message.from, granted: response.granted)
        default:
            break
        }
    }

    private mutating func stepLeader(_ message: Message) {
        switch message.payload {
        case .appendResponse(let response):
            handleAppendResponse(from: message.from, response)
        case .heartbeatResponse(let response):
            handleHeartbeatResponse(from: message.from, response)
        case .snapshotChunkResponse(let response):
            handleSnapshotChunkResponse(from: message.from, response)
        case .readIndex(let context):
            handleReadRequest(context: context, from: message.from)
        case .append, .heartbeat, .snapshotChunk:
            // Two leaders in one term would break election safety.
            preconditionFailure("node \(id): leader of term \(term) got \(message.payload) from \(message.from) in the same term")
        case .vote, .voteResponse, .timeoutNow, .readIndexResponse:
            break
        }
    }
}

extension RaftNode {
    /// Queues a message from this node in its current term.
    mutating func send(to: NodeID, _ payload: Message.Payload) {
        messages.append(Message(from: id, to: to, term: term, payload: payload))
    }
}
