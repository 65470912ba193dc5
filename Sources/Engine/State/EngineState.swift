import HashTreeCollections
import Workflow

/// The replicated state machine: workflow versions, instances, their histories and the
/// request-id table, changed only by `apply`.
///
/// `apply` is a pure function of (state, log entry): it reads no clock (time is the
/// leader's `proposedAtMillis`, carried in the entry), no randomness and no files, and it
/// never traps on the bytes it is given. Two replicas that applied the same entries hold
/// equal states and produce byte-identical `snapshot()`s.
///
/// ```swift
/// var state = EngineState()
/// _ = state.apply(index: 1, command: .registerWorkflow(RegisterWorkflow(definition: cookbook)))
/// _ = state.apply(index: 2, command: .startInstance(StartInstance(workflow: "cookbook", id: "demo")))
/// state.apply(index: 3, bytes: Command.transition(TransitionRequest(instance: "demo", name: "second")).encoded()).effects
/// // [.instanceMoved(id: "demo", workflow: "cookbook", transition: "second", from: "first", to: "second", revision: 2)]
/// state.instance(id: "demo")?.state   // "second"
/// ```
public struct EngineState: Sendable {
    /// The limits and retention this state applies with (identical on every replica).
    public let settings: EngineSettings
    /// The index of the last entry applied (0 before any).
    public internal(set) var appliedIndex: UInt64 = 0
    /// Engine time: the largest `proposedAtMillis` applied so far, so it never goes back
    /// when leadership moves to a node whose clock is behind.
    public internal(set) var clockMillis: Int64 = 0

    var workflows: [String: WorkflowRecord] = [:]
    var instances: TreeDictionary<String, Instance> = [:]
    /// Kept apart from `instances` so that reading an instance never holds a reference to
    /// its history buffer: appending then happens in place instead of copying it.
    var histories: TreeDictionary<String, HistoryLog> = [:]
    var order = ChunkedArray<OrderEntry>()
    var requestLog = RequestLog()
    /// Instances per workflow per state, kept as instances move (for metrics and listings).
    var stateCounts: [String: [String: Int]] = [:]
    /// Hook runs owed, by dispatch id (see `Dispatch`).
    var dispatches: TreeDictionary<String, Dispatch> = [:]
    /// Each instance's pending dispatch ids, in run order; the first is the one to run.
    var dispatchQueues: TreeDictionary<String, [String]> = [:]
    /// The most recent dispatches that failed for good, oldest first (`failedDispatchesMax`).
    var failedDispatches: [FailedDispatch] = []
    /// Each cron trigger of a workflow's latest version: anchor and last fired slot.
    var triggers: [TriggerKey: TriggerState] = [:]
    /// The armed state timeout of each instance that has one (an instance is in one state).
    var timers: TreeDictionary<String, StateTimer> = [:]
    /// Non-final instances by workflow and state: the candidates of a trigger's transition.
    /// Derived from `instances` (rebuilt on restore, never in a snapshot).
    var live: [String: [String: TreeSet<String>]] = [:]
    /// History entries dropped by the per-instance limit, summed over the retained
    /// instances (for the metric). Derived: rebuilt on restore, never in a snapshot.
    public internal(set) var historyEntriesDropped: UInt64 = 0
    /// Finished instances per workflow, by finish time: the retention service's queue.
    /// Derived: rebuilt on restore, never in a snapshot.
    var finished: [String: ChunkedArray<FinishedEntry>] = [:]
    /// Entries of `order` whose instance was purged (skipped by every reader).
    var orderTombstones = 0
    /// API tokens by id (digests only), revoked ones included.
    var tokens: [String: TokenRecord] = [:]

    /// An empty state.
    public init(settings: EngineSettings = EngineSettings()) {
        self.settings = settings
    }

    // MARK: Apply

    /// Applies the log entry at `index`: decodes `bytes` and executes the command.
    ///
    /// - Entries at or below `appliedIndex` are skipped (`.alreadyApplied`): each entry
    ///   applies once, in log order. Gaps are allowed (entries the engine never sees, such as
    ///   membership changes).
    /// - Empty bytes are a no-op (`.noop`).
    /// - Bytes that do not decode are `.rejected(.malformedCommand)`; the state is unchanged
    ///   except for `appliedIndex`.
    ///
    /// Returns the outcome and the entry's effects (`Effect`), both functions of (state, entry).
    public mutating func apply(index: UInt64, bytes: [UInt8]) -> Applied {
        guard index > appliedIndex else { return Applied(outcome: .alreadyApplied(index: index, appliedIndex: appliedIndex)) }
        appliedIndex = index
        guard !bytes.isEmpty else { return Applied(outcome: .noop) }
        let command: Command
        do {
            command = try Command.decode(bytes)
        } catch {
            return Applied(outcome: .rejected(.malformedCommand(reason: error.description)))
        }
        return execute(command, index: index, fingerprint: Command.fingerprint(ofEncoded: bytes))
    }

    /// Applies `command` as the entry at `index`; the same as `apply(index:bytes:)` with
    /// `command.encoded()`.
    public mutating func apply(index: UInt64, command: Command) -> Applied {
        guard index > appliedIndex else { return Applied(outcome: .alreadyApplied(index: index, appliedIndex: appliedIndex)) }
        appliedIndex = index
        return execute(command, index: index, fingerprint: command.fingerprint)
    }

    private mutating func execute(_ command: Command, index: UInt64, fingerprint: UInt64) -> Applied {
        clockMillis = max(clockMillis, command.proposedAtMillis)
        requestLog.evict(olderThan: clockMillis, retentionMillis: settings.requestIDRetentionMillis)

        let requestID = command.requestID
        if let requestID {
            guard EngineLimits.isValidID(requestID) else {
                return Applied(outcome: .rejected(.invalidArgument(field: "request_id", reason: EngineState.idRule(requestID))))
            }
            if let record = requestLog[requestID] {
                // A retry gets the first outcome; a different request under the same id is refused.
                return Applied(outcome: record.fingerprint == fingerprint ? record.outcome
                                                                          : .rejected(.requestIDConflict(requestID: requestID)))
            }
        }

        var effects: [Effect] = []
        let outcome: Outcome
        switch command {
        case .registerWorkflow(let register): outcome = self.register(register, index: index, effects: &effects)
        case .startInstance(let start): outcome = self.start(start, index: index, effects: &effects)
        case .transition(let request): outcome = self.transition(request, index: index, effects: &effects)
        case .hookResult(let result): outcome = self.hookResult(result, index: index, effects: &effects)
        case .cronFire(let fire): outcome = self.cronFire(fire, index: index, effects: &effects)
        case .timerFire(let fire): outcome = self.timerFire(fire, index: index, effects: &effects)
        case .purgeInstances(let purge): outcome = purgeInstances(purge, index: index, effects: &effects)
        case .createToken(let create): outcome = createToken(create, index: index)
        case .revokeToken(let revoke): outcome = revokeToken(revoke, index: index)
        }

        if let requestID {
            requestLog.insert(RequestLog.Record(id: requestID, fingerprint: fingerprint, outcome: outcome, index: index,
                                                timeMillis: clockMillis),
                              maxCount: settings.requestIDsMax)
        }
        return Applied(outcome: outcome, effects: effects)
    }

    static func idRule(_ id: String) -> String {
        "'\(id.prefix(EngineLimits.idLengthMax + 8))' is not a valid id: use 1 to \(EngineLimits.idLengthMax) characters from A-Z a-z 0-9 . _ : -"
    }
}
