/// How the API, the hook dispatcher and the scheduler reach the replicated log, without
/// knowing Raft. `Server` implements it with `Cluster`; `LocalConsensus` is a one-node,
/// in-memory implementation for tests and tools.
///
/// Contract:
/// - `propose` stamps the command with the leader's clock (`Command.stamped(atMillis:)`),
///   appends it, waits until it is committed and applied on this node, and returns the
///   engine's outcome with the entry's index. Proposals may be made on any node; a follower
///   forwards to the leader (or throws `notLeader`, as the implementation documents).
/// - Errors are `ConsensusError`. `notLeader`, `noLeader` and `shuttingDown` mean the
///   command was definitely not applied. `outcomeUnknown` means it may or may not be: retry
///   with the same request id, which is always safe and returns the real outcome.
/// - `readBarrier` returns once this node has applied everything committed before the call
///   (Raft ReadIndex), so a query that follows is linearizable.
///
/// ```swift
/// let result = try await consensus.propose(.transition(TransitionRequest(instance: "o-17", name: "pay", requestID: id)))
/// switch result.outcome { case .transitioned(let moved): … case .rejected(let why): … default: … }
/// ```
public protocol Consensus: Sendable {
    /// Proposes `command`; returns its outcome and log index once applied on this node.
    /// Throws `ConsensusError`.
    func propose(_ command: Command) async throws -> (outcome: Outcome, index: UInt64)

    /// Waits until a read on this node reflects every write committed before the call.
    /// Throws `ConsensusError` (`noLeader`, `timeout`, `shuttingDown`).
    func readBarrier() async throws

    /// True while this node believes it is the leader (the dispatcher and scheduler act
    /// only then; a stale answer is harmless because their proposals are deduplicated).
    var isLeader: Bool { get async }
}

/// Why a proposal or read barrier failed.
public enum ConsensusError: Error, Sendable, Hashable, CustomStringConvertible {
    /// This node is not the leader; `leaderHint` names the leader (node id or address) when
    /// known. The command was not applied.
    case notLeader(leaderHint: String?)
    /// No leader is known right now (election in progress, no quorum). Not applied; retry
    /// after a short wait (the API answers 503 with `Retry-After`).
    case noLeader
    /// The command may or may not have been applied: it was appended but the deadline
    /// passed, or leadership was lost, before its outcome was known. Retry with the same
    /// request id.
    case outcomeUnknown(reason: String)
    /// A read barrier did not complete in time. Nothing was written.
    case timeout
    /// The node is shutting down. Not applied.
    case shuttingDown
    /// The encoded command exceeds what the log accepts. Not applied.
    case commandTooLarge(bytes: Int, max: Int)

    /// True when the command was certainly not applied, so the API may answer with a plain
    /// 503 and a retry cannot apply it twice even without a request id.
    public var definitelyNotApplied: Bool {
        if case .outcomeUnknown = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case .notLeader(let hint?): return "this node is not the leader; the leader is \(hint)"
        case .notLeader(nil): return "this node is not the leader"
        case .noLeader: return "the cluster has no leader right now"
        case .outcomeUnknown(let reason): return "the outcome is unknown (\(reason)); retry with the same request id"
        case .timeout: return "timed out waiting for the cluster"
        case .shuttingDown: return "the node is shutting down"
        case .commandTooLarge(let bytes, let max): return "command of \(bytes) bytes exceeds the limit of \(max)"
        }
    }
}
