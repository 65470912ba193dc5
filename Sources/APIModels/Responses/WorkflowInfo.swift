import JSON

/// `GET /v1/workflows/{name}` and the entries of `GET /v1/workflows`: the latest
/// definition's outline and every version. `definition` (the whole latest definition:
/// hooks, timeouts, triggers) is in `GET /v1/workflows/{name}` only; the key is left out of
/// the list.
public struct WorkflowInfo: Sendable, Codable, Hashable, JSONWritable {
    /// The workflow's name.
    public var name: String
    /// The latest definition's description.
    public var description: String
    /// The latest version: what new instances start with.
    public var version: Int
    /// The latest version's content hash.
    public var hash: String
    /// The latest definition's initial state.
    public var initial: String
    /// The latest definition's states, in definition order.
    public var states: [WorkflowStateInfo]
    /// The latest definition's transitions, in definition order.
    public var transitions: [WorkflowTransitionInfo]
    /// Every version, oldest first.
    public var versions: [WorkflowVersionInfo]
    /// The whole latest definition as the engine encodes it; nil in the list.
    public var definition: JSONValue?

    /// A workflow answer.
    public init(name: String, description: String, version: Int, hash: String, initial: String,
                states: [WorkflowStateInfo], transitions: [WorkflowTransitionInfo], versions: [WorkflowVersionInfo],
                definition: JSONValue? = nil) {
        self.name = name
        self.description = description
        self.version = version
        self.hash = hash
        self.initial = initial
        self.states = states
        self.transitions = transitions
        self.versions = versions
        self.definition = definition
    }

    /// The workflow as the server writes it.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "name": .string(name), "description": .string(description), "version": .integer(version),
            "hash": .string(hash), "initial": .string(initial), "states": .list(states),
            "transitions": .list(transitions), "versions": .list(versions),
        ]
        if let definition { members["definition"] = definition }
        return .object(members)
    }
}
