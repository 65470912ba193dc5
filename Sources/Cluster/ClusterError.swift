import Raft

/// Why a cluster operation did not complete. Each case says whether a proposal was applied.
public enum ClusterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// This node does not lead; `leader` is the leader it knows (0: none known). Not applied.
    case notLeader(leader: NodeID)
    /// The leader refused to take more for now (its uncommitted-bytes limit, or a leadership
    /// transfer in progress). Not applied; retry shortly.
    case busy(String)
    /// A fenced proposal (`propose(_:fencedOn:)`) reached a node that no longer leads in
    /// `term`. Refused before it was appended: not applied.
    case deposed(term: Term, currentTerm: Term)
    /// The proposal was not committed: a new leader replaced it. It was definitely not applied.
    case dropped
    /// No answer within the deadline. For a proposal the outcome is unknown (retry with the
    /// same request id); for a read, nothing was read.
    case timedOut
    /// The node is shutting down (or has shut down) and did not take the request. Not applied.
    case shuttingDown
    /// The node stopped (shutdown or a storage failure) while the proposal was in flight: it
    /// was appended, so it may still commit elsewhere. The outcome is unknown.
    case interrupted(String)
    /// The command is larger than one entry may be (`ClusterConfig.commandBytesMax`). Not applied.
    case tooLarge(bytes: Int, max: Int)
    /// The request was refused by the consensus core (e.g. another membership change is pending).
    case rejected(String)
    /// The leader refused to promote a learner that is not in sync with it. Not applied.
    case learnerNotReady(LearnerLag)
    /// The leader refused a membership change that would leave fewer live voters than a
    /// quorum of the new configuration (the strict reconfiguration check). Not applied.
    case wouldLoseQuorum(QuorumShortfall)
    /// Persisting to the local disk failed; the node stops.
    case storageFailed(String)

    public var description: String {
        switch self {
        case .notLeader(let leader): leader == 0 ? "no leader is known" : "not the leader; node \(leader) leads"
        case .busy(let why): "busy: \(why)"
        case .deposed(let term, let current): "no longer the leader of term \(term) (now term \(current))"
        case .dropped: "the proposal was dropped by a leader change and not applied"
        case .timedOut: "timed out; the outcome is unknown"
        case .shuttingDown: "the node is shutting down"
        case .interrupted(let why): "the node stopped with the proposal in flight (\(why)); the outcome is unknown"
        case .tooLarge(let bytes, let max): "the command takes \(bytes) bytes, over the limit of \(max)"
        case .rejected(let why): "rejected: \(why)"
        case .learnerNotReady(let lag): "rejected: \(lag)"
        case .wouldLoseQuorum(let shortfall): "rejected: \(shortfall)"
        case .storageFailed(let why): "storage failed: \(why)"
        }
    }
}
