import Engine
import Logging

/// Work that runs only on the leader: workflow registration today; the hook dispatcher and
/// the cron scheduler are the next. ``LeaderServices`` starts `run(as:)` when this node
/// becomes leader of a term and cancels it the moment the node is deposed or stops.
///
/// Rules a service follows:
/// - Everything it needs to carry on lives in engine state: on start it rebuilds its work
///   from `context.subscribe().state`, then follows the effects stream. Nothing is kept only
///   in its memory, so a new leader picks up exactly where a deposed one stopped.
/// - It reads time only from `context.clock` and proposes only through `context.proposer`,
///   which is fenced on the term: once the node no longer leads in that term, proposals are
///   refused before they are sent (`ConsensusError.deposed`).
/// - It returns when its work for the term is done, throws to be restarted after a backoff,
///   and honours cancellation promptly.
///
/// ```swift
/// struct Greeter: LeaderService {
///     let name = "greeter"
///     func run(as leader: LeaderContext) async throws {
///         let (_, effects) = leader.subscribe()
///         for try await batch in effects { leader.logger.info("index \(batch.index): \(batch.effects)") }
///     }
/// }
/// ```
public protocol LeaderService: Sendable {
    /// A short name for logs and metrics (`workflow-registrar`).
    var name: String { get }
    /// Does the service's work for one term of leadership.
    func run(as leader: LeaderContext) async throws
}

/// What a leader service is given for one term.
public struct LeaderContext: Sendable {
    /// The term this node leads in.
    public let term: UInt64
    /// The index of the term's first entry, applied before the service started.
    public let sinceIndex: UInt64
    /// The node's engine (queries).
    public let engine: ReplicatedEngine
    /// The only clock the service reads.
    public let clock: any WallClock
    /// Proposes commands, fenced on `term`.
    public let proposer: FencedProposer
    /// Logs with `service` and `term` metadata.
    public let logger: Logger

    /// The engine state now and the effects of every entry applied after it (see
    /// `ReplicatedEngine.subscribe()`): a service's starting point.
    public func subscribe() -> (state: EngineState, effects: EffectSubscription) {
        engine.subscribe()
    }
}

/// Proposes through `Consensus` only while this node leads in `term`.
public struct FencedProposer: Sendable {
    /// The term proposals are fenced on.
    public let term: UInt64
    let consensus: any Consensus

    public init(consensus: any Consensus, term: UInt64) {
        self.consensus = consensus
        self.term = term
    }

    /// Proposes `command` if this node still leads in `term`; throws `ConsensusError`
    /// (`.deposed` when it does not).
    public func propose(_ command: Command) async throws(ConsensusError) -> Committed {
        try await consensus.propose(command, fencedOn: term)
    }
}
