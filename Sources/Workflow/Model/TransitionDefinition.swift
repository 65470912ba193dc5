/// A named, allowed move between states.
///
/// ```yaml
/// transitions:
///   pay:    { from: created, to: paid }
///   cancel: { from: [created, paid], to: cancelled }
///   abort:  { from: "*", to: cancelled }      # any non-final state
/// ```
public struct TransitionDefinition: Sendable, Codable, Hashable {
    /// The transition's name, unique in its workflow.
    public let name: String
    /// The states it may be taken from.
    public let from: TransitionSource
    /// The state it leads to.
    public let to: String
    /// Hooks run after the transition is applied.
    public let hooks: [Hook]

    /// Creates a transition.
    public init(name: String, from: TransitionSource, to: String, hooks: [Hook] = []) {
        self.name = name
        self.from = from
        self.to = to
        self.hooks = hooks
    }
}

/// Where a transition may start: listed states, or any non-final state (`from: "*"`).
///
/// Encodes as `"*"` or as a list of state names.
public enum TransitionSource: Sendable, Codable, Hashable {
    /// `from: "*"`: every state that is not final.
    case anyNonFinal
    /// `from: created` or `from: [created, paid]`, in the order written.
    case states([String])

    /// Encodes as `"*"` or a list of names.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .anyNonFinal: try container.encode("*")
        case .states(let names): try container.encode(names)
        }
    }

    /// Decodes `"*"` or a list of names.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            guard text == "*" else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected \"*\" or a list of states")
            }
            self = .anyNonFinal
        } else {
            self = .states(try container.decode([String].self))
        }
    }
}
