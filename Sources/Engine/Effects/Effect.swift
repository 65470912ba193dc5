/// Something applying a log entry did that work outside the state machine may act on: the
/// directives the engine hands its shell (as `SWIM.Instance` returns directives to its NIO
/// shell in swift-cluster-membership). Effects are plain data, computed by apply alone, so
/// every replica that applies the same entry produces the same effects in the same order.
///
/// Leader services (workflow registration today; the hook dispatcher and the cron scheduler
/// next) read them from `EffectStream` instead of polling the state. A rejected command has
/// no effects; a retried request id returns its first outcome and has none either (nothing
/// happened the second time).
///
/// ```swift
/// let applied = state.apply(index: 7, bytes: bytes)
/// for effect in applied.effects {
///     if case .instanceFinished(let id, _, let state) = effect { print("\(id) finished in \(state)") }
/// }
/// ```
public enum Effect: Sendable, Hashable {
    /// A new version of a workflow was registered (an unchanged definition registers nothing).
    case workflowRegistered(name: String, version: Int, hash: String)
    /// An instance was started in `state`, the initial state of `workflow` version `version`.
    case instanceStarted(id: String, workflow: String, version: Int, state: String)
    /// An instance moved along `transition`; `revision` is its revision after the move.
    case instanceMoved(id: String, workflow: String, transition: String, from: String, to: String, revision: UInt64)
    /// An instance reached a final state (started in one, or moved into one). Follows the
    /// `instanceStarted` or `instanceMoved` effect of the same entry.
    case instanceFinished(id: String, workflow: String, state: String)
    /// A hook run was recorded for `instance` (`Dispatch`, id `<index>.<n>`); the leader's
    /// dispatcher runs it when it reaches the front of the instance's queue.
    case dispatchRecorded(id: String, instance: String, plugin: String)
    /// An attempt failed and the next, `attempt`, may run from `dueAtMillis` (engine time).
    case dispatchRetryScheduled(id: String, instance: String, attempt: Int, dueAtMillis: Int64)
    /// The dispatch got its final result (succeeded, or failed with no attempt left); the
    /// instance's next dispatch, if any, may run.
    case dispatchFinished(id: String, instance: String, succeeded: Bool)
    /// A cron trigger's slot was consumed (fired, or skipped by `concurrency: forbid`); the
    /// trigger's next slot is after it.
    case cronFired(workflow: String, trigger: String, slotMillis: Int64)
    /// An instance entered a state with a timeout at `revision`; the scheduler fires it at
    /// `dueAtMillis` (engine time) unless it moves first.
    case timerArmed(instance: String, revision: UInt64, dueAtMillis: Int64)
    /// The instance left the state (or the timer fired): the timer armed at `revision` is gone.
    case timerCancelled(instance: String, revision: UInt64)
    /// A finished instance past its retention was removed with its history.
    case instancePurged(id: String, workflow: String)
}

/// What applying one log entry did: the outcome the proposer receives, and the effects that
/// are published to every subscriber of the node's `EffectStream`.
public struct Applied: Sendable, Hashable {
    /// The outcome (the proposer's answer).
    public var outcome: Outcome
    /// The effects, in the order apply produced them; empty for rejections and no-ops.
    public var effects: [Effect]

    public init(outcome: Outcome, effects: [Effect] = []) {
        self.outcome = outcome
        self.effects = effects
    }
}

/// The effects of one committed entry as the effect stream carries them: with the entry's
/// log index and the term it was proposed in.
public struct CommittedEffects: Sendable, Hashable {
    /// The entry's log index.
    public var index: UInt64
    /// The term of the entry (the term of the leader that proposed it).
    public var term: UInt64
    /// The entry's effects (never empty on the stream).
    public var effects: [Effect]

    public init(index: UInt64, term: UInt64, effects: [Effect]) {
        self.index = index
        self.term = term
        self.effects = effects
    }
}
