import APIModels

/// The one seam between the orchestrator's upper layers (API, leader services: workflow
/// registration, and next the hook dispatcher and the cron scheduler) and the replicated log.
/// `Server` implements it with `Cluster` (`ClusterConsensus`); `LocalConsensus` is a one-node,
/// in-memory implementation for tests and tools. Nothing above it knows Raft.
///
/// Contract:
/// - `propose` stamps the command with the proposing node's `WallClock` — the leader's, since
///   only a leader appends (`Command.proposedAtMillis`, set once, here) — appends it, waits
///   until it is committed and applied on this node, and returns its outcome and index as
///   values (nothing is encoded to hand it back). A follower does not forward: it throws
///   `notLeader` with the leader's API address, and the API forwards over HTTP.
/// - `fencedOn`: a leader service passes the term it was started for. The implementation
///   refuses the proposal before appending it (`ConsensusError.deposed`) unless this node
///   still leads in exactly that term, so a deposed leader's late proposal never reaches the log.
/// - Every failure is a `ConsensusError` whose case says whether the command was applied:
///   see `ConsensusError.definitelyNotApplied`.
/// - `readBarrier` returns once this node has applied everything committed before the call
///   (Raft ReadIndex), so a query that follows is linearizable; it throws
///   `readUnavailable` (or `noLeader`, `shuttingDown`) when it cannot.
/// - `leadership()` tells, as it changes, whether this node leads and since which index;
///   leader services start and stop on it.
/// - `liveness(timeoutMillis:)` and `storageFailure` are what the probes (`GET /livez`,
///   `GET /readyz`) need beyond `health()`: whether the consensus loop itself still answers,
///   and whether the node's storage still takes writes.
///
/// ```swift
/// let committed = try await consensus.propose(.transition(TransitionRequest(instance: "o-17", name: "pay", requestID: id)))
/// switch committed.outcome { case .transitioned(let moved): … case .rejected(let why): … default: … }
/// ```
public protocol Consensus: Sendable {
    /// Proposes `command`; returns its outcome and log index once applied on this node.
    /// With `fencedOn`, only while this node leads in that term.
    func propose(_ command: Command, fencedOn term: UInt64?) async throws(ConsensusError) -> Committed

    /// `propose(_:fencedOn:)` with no fence, for a caller that is not a task (the HTTP API's
    /// transition fast path answers from its connection's event loop): `completion` gets the
    /// same result, exactly once, on whichever thread learns it — the consensus loop's, in
    /// `ClusterConsensus` — so it must be short and never block. The default runs the async
    /// `propose` in a task.
    func propose(_ command: Command, completion: @escaping @Sendable (Result<Committed, ConsensusError>) -> Void)

    /// Waits until a read on this node reflects every write committed before the call.
    func readBarrier() async throws(ConsensusError)

    /// This node's view of itself: role, leader, term, indexes (`GET /v1/health` as it is).
    /// Never waits for the cluster.
    func health() -> NodeHealth

    /// Members (by id), roles, leader and replication progress as this node knows them
    /// (match indexes and liveness only on the leader). `GET /v1/cluster` answers with it on
    /// the leader; a follower forwards that request to the leader.
    func clusterInfo() -> ClusterStatus

    /// Asks the consensus loop itself (not the copy `health()` reads) to answer, waiting at
    /// most `timeoutMillis`. Never throws and never waits longer than the deadline.
    func liveness(timeoutMillis: Int) async -> Liveness

    /// Why this node's storage failed — its write-ahead log refused a write or a sync, so
    /// durability is unknown and the node stopped taking writes — or nil while it works.
    var storageFailure: String? { get }

    /// Leadership as it changes: the current value first, then each change. Each call makes a
    /// new stream; only the latest value matters, so a slow reader sees the newest one.
    func leadership() -> AsyncStream<Leadership>

    /// Adds node `id` as a voter (or a learner) with its Raft and API addresses; returns once
    /// committed. Throws `MembershipError` for a request that cannot be done, else `ConsensusError`.
    func addMember(id: UInt64, raft: String, api: String, learner: Bool) async throws
    /// Makes learner `id` a voter. Throws like `addMember`.
    func promoteMember(id: UInt64) async throws
    /// Removes node `id`. Throws like `addMember`.
    func removeMember(id: UInt64) async throws
    /// Hands leadership to voter `id`; returns when it has moved. Throws like `addMember`.
    func transferLeadership(to id: UInt64) async throws
}

extension Consensus {
    /// Proposes `command` with no term fence (what the API does for clients).
    public func propose(_ command: Command) async throws(ConsensusError) -> Committed {
        try await propose(command, fencedOn: nil)
    }

    public func propose(_ command: Command, completion: @escaping @Sendable (Result<Committed, ConsensusError>) -> Void) {
        Task {
            do throws(ConsensusError) {
                completion(.success(try await propose(command, fencedOn: nil)))
            } catch {
                completion(.failure(error))
            }
        }
    }

    /// True while this node believes it leads.
    public var isLeader: Bool { health().role == "leader" }

    /// The leader's HTTP API address when another node leads (where a follower forwards a
    /// write); nil when this node leads or no leader is known.
    public var leaderAPIAddress: String? {
        let health = health()
        guard let leader = health.leader, leader != health.node else { return nil }
        return health.leaderAPI
    }
}

/// A committed proposal: its log index and what applying it did.
public struct Committed: Sendable, Hashable {
    /// The entry's log index.
    public var index: UInt64
    /// The engine's outcome (`.rejected` is an outcome too: committed, refused by the rules).
    public var outcome: Outcome

    public init(index: UInt64, outcome: Outcome) {
        self.index = index
        self.outcome = outcome
    }
}

/// Whether this node leads, as leader services see it.
public enum Leadership: Sendable, Hashable {
    /// This node leads in `term`, and has applied the first entry of its term at `sinceIndex`:
    /// its engine state holds every entry committed by earlier leaders.
    case leading(term: UInt64, sinceIndex: UInt64)
    /// Another node leads, or none is known (`leader` 0), in `term`.
    case following(term: UInt64, leader: UInt64)
    /// The node has stopped.
    case stopped

    /// The term this node leads in, if it leads.
    public var leadingTerm: UInt64? {
        if case .leading(let term, _) = self { return term }
        return nil
    }
}
