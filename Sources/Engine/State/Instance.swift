import Workflow

/// A workflow instance as the engine holds it: the API's
/// `{id, workflow, version, state, data, revision, updated_at}`.
public struct Instance: Sendable, Hashable {
    /// The instance's id, unique across workflows.
    public internal(set) var id: String
    /// Its workflow's name.
    public internal(set) var workflow: String
    /// The workflow version it is pinned to; registering newer versions never changes it.
    public internal(set) var version: Int
    /// The current state.
    public internal(set) var state: String
    /// The instance data: the workflow's defaults, the start data and every patch merged in.
    public internal(set) var data: [String: JSONValue]
    /// 1 when started, one more per accepted transition.
    public internal(set) var revision: UInt64
    /// The log index that started the instance; also its position in listings.
    public internal(set) var createdIndex: UInt64
    /// The engine clock (leader time, ms since the epoch) when it started.
    public internal(set) var createdAtMillis: Int64
    /// The log index of the last change.
    public internal(set) var updatedIndex: UInt64
    /// The engine clock at the last change.
    public internal(set) var updatedAtMillis: Int64
    /// True when the current state is final in the pinned version.
    public internal(set) var isFinal: Bool
}

/// One line of an instance's history, in log order.
public struct HistoryEntry: Sendable, Hashable {
    /// What happened. Later versions add hook runs, cron fires and timers.
    public enum Kind: String, Sendable, Hashable {
        /// The instance was started (`to` is the initial state).
        case start
        /// The instance moved along `transition` from `from` to `to`.
        case transition
    }

    public internal(set) var kind: Kind
    /// The log index of the entry that did it.
    public internal(set) var index: UInt64
    /// The engine clock (leader time, ms since the epoch) when it was applied.
    public internal(set) var timeMillis: Int64
    /// The state before; nil for `start`.
    public internal(set) var from: String?
    /// The state after.
    public internal(set) var to: String
    /// The transition taken; nil for `start`.
    public internal(set) var transition: String?
    /// The request id of the command, when it had one.
    public internal(set) var requestID: String?
    /// The instance's revision after this entry.
    public internal(set) var revision: UInt64
}

/// An instance's retained history.
public struct InstanceHistory: Sendable, Hashable {
    /// The retained entries, oldest first: at most `EngineSettings.historyEntriesPerInstanceMax`.
    public internal(set) var entries: [HistoryEntry]
    /// How many older entries were dropped to stay within the limit.
    public internal(set) var droppedCount: UInt64
}

/// One page of `EngineState.instances(…)`.
public struct InstancePage: Sendable, Hashable {
    /// The matching instances, in start order.
    public internal(set) var instances: [Instance]
    /// Pass as `after` for the next page; nil when the listing is complete.
    public internal(set) var nextCursor: UInt64?
}

/// One registered version of a workflow.
public struct WorkflowVersion: Sendable, Hashable {
    /// The workflow's name.
    public let name: String
    /// 1 for the first registration, one more for each changed definition.
    public let version: Int
    /// The definition's content hash.
    public let hash: String
    /// The definition instances of this version follow.
    public let definition: WorkflowDefinition
    /// The log index that registered it.
    public let registeredIndex: UInt64
    /// The engine clock when it was registered.
    public let registeredAtMillis: Int64
    /// The definition's canonical encoding, as snapshots store it.
    let definitionBytes: [UInt8]
}

/// A workflow and all its versions.
public struct WorkflowSummary: Sendable, Hashable {
    /// The workflow's name.
    public let name: String
    /// Every version, oldest first; the last is the one new instances start with.
    public let versions: [WorkflowVersion]
    /// The latest version.
    public var latest: WorkflowVersion { versions[versions.count - 1] }
}

extension Instance {
    /// Records an accepted transition in place (called through the dictionary's modify
    /// accessor, so the instance is not copied).
    mutating func advance(to state: String, data: [String: JSONValue]?, revision: UInt64, index: UInt64,
                          nowMillis: Int64, isFinal: Bool) {
        self.state = state
        if let data { self.data = data }
        self.revision = revision
        self.updatedIndex = index
        self.updatedAtMillis = nowMillis
        self.isFinal = isFinal
    }
}

/// The engine's record of a workflow: its versions, oldest first (never empty).
struct WorkflowRecord: Sendable, Hashable {
    var versions: [WorkflowVersion]
}

/// Instances in start order: append-only, so `createdIndex` increases along it and a
/// cursor is found by binary search.
struct OrderEntry: Sendable, Hashable {
    var createdIndex: UInt64
    var id: String
}
