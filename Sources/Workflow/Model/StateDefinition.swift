/// One state of a workflow.
///
/// ```yaml
/// states:
///   shipped:
///     on_enter: [{ plugin: notify }]
///     timeout: { after: 72h, transition: escalate }
///   delivered: { final: true }
/// ```
public struct StateDefinition: Sendable, Codable, Hashable {
    /// The state's name, unique in its workflow.
    public let name: String
    /// True when an instance in this state is finished: no transition leaves it.
    public let isFinal: Bool
    /// Hooks run after an instance enters this state.
    public let onEnter: [Hook]
    /// Hooks run after an instance leaves this state.
    public let onExit: [Hook]
    /// A transition the scheduler requests when an instance stays here too long.
    public let timeout: StateTimeout?

    /// Creates a state.
    public init(name: String, isFinal: Bool = false, onEnter: [Hook] = [], onExit: [Hook] = [], timeout: StateTimeout? = nil) {
        self.name = name
        self.isFinal = isFinal
        self.onEnter = onEnter
        self.onExit = onExit
        self.timeout = timeout
    }
}

/// `timeout: { after: 72h, transition: escalate }`: after `after` in the state, request
/// `transition` (which is validated to leave the state).
public struct StateTimeout: Sendable, Codable, Hashable {
    /// How long an instance may stay in the state.
    public let after: WorkflowDuration
    /// The transition requested when it has stayed that long.
    public let transition: String

    /// Creates a timeout.
    public init(after: WorkflowDuration, transition: String) {
        self.after = after
        self.transition = transition
    }
}
