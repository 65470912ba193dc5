import JSON

/// `POST /v1/instances/{id}/transitions` → 200: the move made.
public struct TransitionApplied: Sendable, Codable, Hashable, JSONWritable {
    /// The instance's id.
    public var id: String
    /// The transition taken.
    public var transition: String
    /// The state it left.
    public var from: String
    /// The state it reached.
    public var to: String
    /// The state after the move (`to`).
    public var state: String
    /// The instance's revision after the move.
    public var revision: UInt64
    /// The log index of the move.
    public var index: UInt64

    /// A transition answer.
    public init(id: String, transition: String, from: String, to: String, state: String, revision: UInt64, index: UInt64) {
        self.id = id
        self.transition = transition
        self.from = from
        self.to = to
        self.state = state
        self.revision = revision
        self.index = index
    }

    /// The answer as the server writes it.
    public var json: JSONValue {
        .object(["id": .string(id), "transition": .string(transition), "from": .string(from), "to": .string(to),
                 "state": .string(state), "revision": .integer(revision), "index": .integer(index)])
    }
}
