import Raft

/// Why a cluster operation did not complete.
public enum ClusterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// This node does not lead; `leader` is the leader it knows (0: none known).
    case notLeader(leader: NodeID)
    /// The proposal was not committed: a new leader replaced it. It was definitely not applied.
    case dropped
    /// No answer within the deadline. The outcome is unknown: retry with the same request id.
    case timedOut
    /// The node is shutting down (or has shut down).
    case shuttingDown
    /// The request was refused by the consensus core (e.g. another membership change is pending).
    case rejected(String)
    /// Persisting to the local disk failed; the node stops.
    case storageFailed(String)

    public var description: String {
        switch self {
        case .notLeader(let leader): leader == 0 ? "no leader is known" : "not the leader; node \(leader) leads"
        case .dropped: "the proposal was dropped by a leader change and not applied"
        case .timedOut: "timed out; the outcome is unknown"
        case .shuttingDown: "the node is shutting down"
        case .rejected(let why): "rejected: \(why)"
        case .storageFailed(let why): "storage failed: \(why)"
        }
    }
}
