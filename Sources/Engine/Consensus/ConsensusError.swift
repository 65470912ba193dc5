/// Why a proposal or read barrier failed. Each case keeps its meaning from the node loop to
/// the HTTP answer and the CLI's exit status (docs/api.md, docs/cli.md):
///
/// | case | applied? | HTTP | code |
/// |---|---|---|---|
/// | `busy` | no | 429, `Retry-After` | `too_many_requests` |
/// | `notLeader`, `noLeader` | no | 503 | `no_leader` |
/// | `leaderChanged`, `deposed` | no | 503 | `leader_changed` |
/// | `shuttingDown` | no | 503 | `shutting_down` |
/// | `commandTooLarge` | no | 413 | `command_too_large` |
/// | `readUnavailable` | (a read) | 503 | `read_unavailable` |
/// | `outcomeUnknown` | unknown | 504 | `outcome_unknown` |
public enum ConsensusError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The leader is saturated (too many uncommitted entries, or it is handing leadership
    /// over): not applied; retry after `retryAfterMillis`.
    case busy(reason: String, retryAfterMillis: Int)
    /// This node does not lead; `leaderHint` is the leader's API address when known. Not applied.
    case notLeader(leaderHint: String?)
    /// No leader is known right now (election in progress, no quorum). Not applied.
    case noLeader
    /// The entry was appended but a new leader replaced it before it committed: not applied.
    case leaderChanged
    /// A fenced proposal (`fencedOn: term`) from a node that no longer leads in that term;
    /// refused before it was appended. Not applied.
    case deposed(term: UInt64, currentTerm: UInt64)
    /// The node is shutting down and did not take the request. Not applied.
    case shuttingDown
    /// The encoded command exceeds what one log entry may hold. Not applied.
    case commandTooLarge(bytes: Int, max: Int)
    /// A read could not be made linearizable in time (no quorum answered). Nothing was
    /// written; a read has no request id: just retry it, or read `?stale=true`.
    case readUnavailable(reason: String)
    /// The command may or may not have been applied: it was appended but its outcome was not
    /// learnt (a timeout, the node stopping, a disk failure). Retry with the same request id,
    /// which is always safe and returns the real outcome.
    case outcomeUnknown(reason: String)

    /// True when the command was certainly not applied, so retrying cannot apply it twice
    /// even without a request id. False only for `outcomeUnknown` (and reads).
    public var definitelyNotApplied: Bool {
        switch self {
        case .outcomeUnknown, .readUnavailable: false
        default: true
        }
    }

    public var description: String {
        switch self {
        case .busy(let reason, _): "the leader is busy (\(reason)); retry shortly"
        case .notLeader(let hint?): "this node is not the leader; the leader is \(hint)"
        case .notLeader(nil): "this node is not the leader"
        case .noLeader: "the cluster has no leader right now"
        case .leaderChanged: "a leader change replaced the proposal before it committed; it was not applied"
        case .deposed(let term, let current):
            "this node no longer leads in term \(term) (term is now \(current)); the proposal was not sent"
        case .shuttingDown: "the node is shutting down"
        case .commandTooLarge(let bytes, let max): "the command takes \(bytes) bytes, over the limit of \(max)"
        case .readUnavailable(let reason): "the read could not be made linearizable (\(reason)); retry, or read with ?stale=true"
        case .outcomeUnknown(let reason): "the outcome is unknown (\(reason)); retry with the same request id"
        }
    }
}
