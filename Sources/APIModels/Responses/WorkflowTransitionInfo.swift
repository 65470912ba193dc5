import JSON

/// A transition of a workflow definition, in `WorkflowInfo.transitions`.
public struct WorkflowTransitionInfo: Sendable, Codable, Hashable, JSONWritable {
    /// The transition's name.
    public var name: String
    /// The states it leaves; `["*"]` for any non-final state.
    public var from: [String]
    /// The state it goes to.
    public var to: String

    /// A transition line.
    public init(name: String, from: [String], to: String) {
        self.name = name
        self.from = from
        self.to = to
    }

    /// The transition as the server writes it.
    public var json: JSONValue { .object(["name": .string(name), "from": .array(from.map(JSONValue.string)), "to": .string(to)]) }
}
