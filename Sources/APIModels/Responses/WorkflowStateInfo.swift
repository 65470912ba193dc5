import JSON

/// A state of a workflow definition, in `WorkflowInfo.states`.
public struct WorkflowStateInfo: Sendable, Codable, Hashable, JSONWritable {
    /// The state's name.
    public var name: String
    /// True for a final state: no transition leaves it.
    public var final: Bool

    /// A state line.
    public init(name: String, final: Bool) {
        self.name = name
        self.final = final
    }

    /// The state as the server writes it.
    public var json: JSONValue { .object(["name": .string(name), "final": .bool(final)]) }
}
