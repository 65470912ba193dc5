import Synchronization
import Workflow

/// The engine state shared by a node's tasks: the node's apply loop applies committed
/// entries to it and publishes their effects on `effects`; the API and leader services query
/// it. A thin, thread-safe holder around `EngineState`.
///
/// Apply and queries take a short lock; `snapshot()` copies the state under the lock (a
/// copy-on-write value, so O(1)) and encodes it outside, so a snapshot does not stall apply.
///
/// ```swift
/// let engine = ReplicatedEngine()
/// let applied = engine.apply(index: entry.index, term: entry.term, bytes: entry.data)
/// let instance = engine.instance(id: "o-17")
/// let (state, effects) = engine.subscribe()      // a leader service's starting point
/// ```
public final class ReplicatedEngine: Sendable {
    private let state: Mutex<EngineState>
    /// `EngineState.authenticationEnabled`, kept beside the state so the API's per-request
    /// check takes no lock (it only ever turns true, when a token is created or restored).
    private let tokensHeld: Atomic<Bool>
    /// Every applied entry's effects, with index and term, in log order.
    public let effects: EffectStream

    /// An empty engine with `settings` (identical on every replica).
    public init(settings: EngineSettings = EngineSettings(), effects: EffectStream = EffectStream()) {
        state = Mutex(EngineState(settings: settings))
        tokensHeld = Atomic(false)
        self.effects = effects
    }

    /// An engine holding `initial`.
    public init(state initial: EngineState, effects: EffectStream = EffectStream()) {
        state = Mutex(initial)
        tokensHeld = Atomic(initial.authenticationEnabled)
        self.effects = effects
    }

    /// The settings the engine applies with.
    public var settings: EngineSettings { state.withLock { $0.settings } }

    /// Applies the committed entry at `index`, proposed in `term` (see
    /// `EngineState.apply(index:bytes:)`), and publishes its effects on `effects` before
    /// returning — under the same lock, so `subscribe()` never misses or repeats a batch.
    public func apply(index: UInt64, term: UInt64, bytes: [UInt8]) -> Applied {
        state.withLock { state in
            let applied = state.apply(index: index, bytes: bytes)
            if !applied.effects.isEmpty { effects.publish(CommittedEffects(index: index, term: term, effects: applied.effects)) }
            if case .tokenChanged = applied.outcome { tokensHeld.store(state.authenticationEnabled, ordering: .releasing) }
            return applied
        }
    }

    /// Applies `command` as the entry at `index` in `term` (tests and `LocalConsensus`); the
    /// same as `apply(index:term:bytes:)` with `command.encoded()`.
    public func apply(index: UInt64, term: UInt64, command: Command) -> Applied {
        state.withLock { state in
            let applied = state.apply(index: index, command: command)
            if !applied.effects.isEmpty { effects.publish(CommittedEffects(index: index, term: term, effects: applied.effects)) }
            if case .tokenChanged = applied.outcome { tokensHeld.store(state.authenticationEnabled, ordering: .releasing) }
            return applied
        }
    }

    /// The current state and a subscription to the effects of every entry applied after it,
    /// taken together under the lock: a leader service rebuilds its work from `state` and
    /// then follows `effects`, and no entry falls between the two.
    ///
    /// With `filter`, only batches holding an effect it accepts are delivered (whole, with
    /// every effect of the entry), and the subscriber is not woken for the others.
    public func subscribe(where filter: (@Sendable (Effect) -> Bool)? = nil) -> (state: EngineState, effects: EffectSubscription) {
        state.withLock { state in (state, effects.subscribe(after: state.appliedIndex, filter: filter)) }
    }

    /// The index of the last applied entry.
    public var appliedIndex: UInt64 { state.withLock { $0.appliedIndex } }

    /// The whole state as snapshot bytes (see `EngineState.snapshot()`), with its index.
    /// Encoding happens outside the lock; while it runs, the first apply that touches the
    /// instance table copies it (copy-on-write), which is cheaper than encoding under the lock.
    public func snapshot() -> (bytes: [UInt8], appliedIndex: UInt64) {
        let copy = state.withLock { $0 }
        return (copy.snapshot(), copy.appliedIndex)
    }

    /// Replaces the state with the one in `bytes`. On error the current state is kept.
    public func restore(_ bytes: [UInt8]) throws(SnapshotError) {
        let settings = self.settings
        let restored = try EngineState(restoring: bytes, settings: settings)
        state.withLock { state in
            state = restored
            tokensHeld.store(restored.authenticationEnabled, ordering: .releasing)
        }
    }

    /// A copy of the current state, for several queries that must see one point in time.
    /// O(1) now, but the next apply then copies the parts it changes (copy-on-write), so
    /// prefer the single queries below on hot paths.
    public func current() -> EngineState {
        state.withLock { $0 }
    }

    // MARK: Queries (see the `EngineState` methods of the same names)

    /// Whether the cluster holds a token, so every request must present one.
    public var authenticationEnabled: Bool { tokensHeld.load(ordering: .acquiring) }

    public func token(id: String) -> TokenRecord? {
        state.withLock { $0.token(id: id) }
    }

    public func usableAdminToken(atMillis nowMillis: Int64) -> TokenRecord? {
        state.withLock { $0.usableAdminToken(atMillis: nowMillis) }
    }

    public func allTokens() -> [TokenRecord] {
        state.withLock { $0.allTokens }
    }

    public func instance(id: String) -> Instance? {
        state.withLock { $0.instance(id: id) }
    }

    public func instances(workflow: String? = nil, state inState: String? = nil, final: Bool? = nil, idPrefix: String? = nil,
                          updatedSinceMillis: Int64? = nil, after cursor: UInt64? = nil, limit: Int = 100) -> InstancePage {
        state.withLock {
            $0.instances(workflow: workflow, state: inState, final: final, idPrefix: idPrefix, updatedSinceMillis: updatedSinceMillis,
                         after: cursor, limit: limit)
        }
    }

    public func history(of id: String) -> InstanceHistory? {
        state.withLock { $0.history(of: id) }
    }

    /// One page of instance `id`'s history (`EngineState.historyPage(of:after:limit:)`).
    public func historyPage(of id: String, after: UInt64?, limit: Int) -> HistoryPage? {
        state.withLock { $0.historyPage(of: id, after: after, limit: limit) }
    }

    /// Finished instances past their retention (`EngineState.purgeCandidates`).
    public func purgeCandidates(nowMillis: Int64, defaultRetentionMillis: Int64?, limit: Int) -> [String] {
        state.withLock { $0.purgeCandidates(nowMillis: nowMillis, defaultRetentionMillis: defaultRetentionMillis, limit: limit) }
    }

    /// History entries dropped by the per-instance limits, over the retained instances.
    public var historyEntriesDropped: UInt64 { state.withLock { $0.historyEntriesDropped } }

    public func workflowSummaries() -> [WorkflowSummary] {
        state.withLock { $0.workflowSummaries() }
    }

    public func workflow(named name: String) -> WorkflowSummary? {
        state.withLock { $0.workflow(named: name) }
    }

    public func workflowVersion(_ name: String, version: Int? = nil) -> WorkflowVersion? {
        state.withLock { $0.workflowVersion(name, version: version) }
    }

    public func pendingDispatches() -> [Dispatch] {
        state.withLock { $0.pendingDispatches() }
    }

    public func failedDispatches() -> [FailedDispatch] {
        state.withLock { $0.failedDispatchList() }
    }

    public func instanceCounts() -> [String: [String: Int]] {
        state.withLock { $0.instanceCounts() }
    }

    /// `instanceCounts()` with the applied index they are as of, read together.
    public func instanceCountsWithIndex() -> (counts: [String: [String: Int]], appliedIndex: UInt64) {
        state.withLock { ($0.instanceCounts(), $0.appliedIndex) }
    }

    /// Every trigger of every workflow's latest version, by workflow then name.
    public func triggerStates() -> [TriggerState] {
        state.withLock { $0.triggerStates }
    }

    /// One trigger's record (the scheduler reads a re-registered workflow's triggers with it).
    public func trigger(workflow: String, name: String) -> TriggerState? {
        state.withLock { $0.trigger(workflow: workflow, name: name) }
    }

    /// The armed state timeouts, earliest first.
    public func pendingTimers() -> [StateTimer] {
        state.withLock { $0.pendingTimers }
    }

    /// The first `limit` armed timeouts (of `workflow` when given), earliest first, and how
    /// many match in all. The lock is held only to copy the (persistent) timer map, so a long
    /// list does not hold up apply.
    public func pendingTimers(workflow: String?, limit: Int) -> (timers: [StateTimer], total: Int) {
        let timers = state.withLock { $0.timers }
        let matching = workflow.map { name in timers.values.filter { $0.workflow == name } } ?? Array(timers.values)
        let first = matching.sorted(by: StateTimer.dueFirst).prefix(max(0, limit))
        return (Array(first), matching.count)
    }
}
