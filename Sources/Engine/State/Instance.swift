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

    /// Replaces the data (a hook's merged patch); not a transition, so the revision stays.
    mutating func replaceData(_ data: [String: JSONValue]) {
        self.data = data
    }
}
