import JSON

/// `POST /v1/instances` → 201: the instance started.
public struct InstanceStarted: Sendable, Codable, Hashable, JSONWritable {
    /// The instance's id (the request id when none was given).
    public var id: String
    /// Its workflow.
    public var workflow: String
    /// The workflow version it is pinned to.
    public var version: Int
    /// Its initial state.
    public var state: String
    /// The log index of the start.
    public var index: UInt64

    /// A start answer.
    public init(id: String, workflow: String, version: Int, state: String, index: UInt64) {
        self.id = id
        self.workflow = workflow
        self.version = version
        self.state = state
        self.index = index
    }

    /// The answer as the server writes it.
    public var json: JSONValue {
        .object(["id": .string(id), "workflow": .string(workflow), "version": .integer(version), "state": .string(state),
                 "index": .integer(index)])
    }
}
