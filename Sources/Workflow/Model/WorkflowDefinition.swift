/// A validated, immutable workflow: what the engine pins instances to.
///
/// Built only by `WorkflowLoader` (or decoded from a stored encoding); every name it refers
/// to exists, and `contentHash` identifies its content across runs and machines.
///
/// ```swift
/// let (definition, diagnostics) = WorkflowLoader.load(text: yaml, file: "order.yaml")
/// definition?.transitions(from: "created").map(\.name)   // ["pay", "cancel"]
/// definition?.isFinal("delivered")                        // true
/// ```
public struct WorkflowDefinition: Sendable, Codable, Hashable {
    /// The workflow's unique name (`workflow:`).
    public let name: String
    /// Free text for people (`description:`); empty when not given.
    public let description: String
    /// The state new instances start in.
    public let initial: String
    /// Default instance data, overridden by data given at start.
    public let data: [String: JSONValue]
    /// The states, in the order written.
    public let states: [StateDefinition]
    /// The transitions, in the order written.
    public let transitions: [TransitionDefinition]
    /// The cron triggers, in the order written.
    public let triggers: [TriggerDefinition]
    /// `history: { max_entries: N }`: the most history entries kept per instance (the oldest
    /// are dropped first, and counted); nil: the cluster's default (10,000).
    public let historyMaxEntries: Int?
    /// `retention: 7d`: how long a finished instance is kept (then purged with its history);
    /// nil: the cluster's default.
    public let retention: WorkflowDuration?

    /// SHA-256 (lowercase hex) of the canonical encoding: sorted-key JSON of the fields above,
    /// with fixed number and string formatting. Equal content gives an equal hash everywhere.
    public let contentHash: String

    private let stateIndex: [String: Int]
    private let transitionIndex: [String: Int]
    private let triggerIndex: [String: Int]
    /// Transition indexes leaving each state (listed `from` and `"*"`), in declaration order.
    private let outgoing: [String: [Int]]

    /// Assembles a definition. Does not validate: use `WorkflowLoader` for user input.
    public init(name: String, description: String = "", initial: String, data: [String: JSONValue] = [:],
                states: [StateDefinition], transitions: [TransitionDefinition], triggers: [TriggerDefinition] = [],
                historyMaxEntries: Int? = nil, retention: WorkflowDuration? = nil) {
        self.name = name
        self.description = description
        self.initial = initial
        self.data = data
        self.states = states
        self.transitions = transitions
        self.triggers = triggers
        self.historyMaxEntries = historyMaxEntries
        self.retention = retention
        var stateIndex: [String: Int] = [:]
        for (index, state) in states.enumerated() where stateIndex[state.name] == nil { stateIndex[state.name] = index }
        var transitionIndex: [String: Int] = [:]
        for (index, transition) in transitions.enumerated() where transitionIndex[transition.name] == nil {
            transitionIndex[transition.name] = index
        }
        var triggerIndex: [String: Int] = [:]
        for (index, trigger) in triggers.enumerated() where triggerIndex[trigger.name] == nil { triggerIndex[trigger.name] = index }
        var outgoing: [String: [Int]] = [:]
        for (index, transition) in transitions.enumerated() {
            switch transition.from {
            case .anyNonFinal:
                for state in states where !state.isFinal { outgoing[state.name, default: []].append(index) }
            case .states(let names):
                for name in Set(names) { outgoing[name, default: []].append(index) }
            }
        }
        self.stateIndex = stateIndex
        self.transitionIndex = transitionIndex
        self.triggerIndex = triggerIndex
        self.outgoing = outgoing
        self.contentHash = WorkflowDefinition.hash(name: name, description: description, initial: initial, data: data,
                                                   states: states, transitions: transitions, triggers: triggers,
                                                   historyMaxEntries: historyMaxEntries, retention: retention)
    }

    /// The state called `name`, if defined.
    public func state(named name: String) -> StateDefinition? {
        stateIndex[name].map { states[$0] }
    }

    /// The transition called `name`, if defined.
    public func transition(named name: String) -> TransitionDefinition? {
        transitionIndex[name].map { transitions[$0] }
    }

    /// The trigger called `name`, if defined.
    public func trigger(named name: String) -> TriggerDefinition? {
        triggerIndex[name].map { triggers[$0] }
    }

    /// The transitions an instance in `state` may take, in declaration order (including
    /// `from: "*"` ones when `state` is not final). Empty for unknown and final states.
    public func transitions(from state: String) -> [TransitionDefinition] {
        (outgoing[state] ?? []).map { transitions[$0] }
    }

    /// True when `transition` exists and may be taken from `state`.
    public func allows(_ transition: String, from state: String) -> Bool {
        guard let index = transitionIndex[transition] else { return false }
        return outgoing[state]?.contains(index) ?? false
    }

    /// True when `state` is defined and final.
    public func isFinal(_ state: String) -> Bool {
        self.state(named: state)?.isFinal ?? false
    }

    // MARK: Codable and equality use the declared fields only; indexes and hash are derived.

    private enum CodingKeys: String, CodingKey {
        case name, description, initial, data, states, transitions, triggers
        case historyMaxEntries = "history_max_entries"
        case retention
    }

    /// Decodes a stored definition and recomputes its indexes and hash.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            description: try container.decodeIfPresent(String.self, forKey: .description) ?? "",
            initial: try container.decode(String.self, forKey: .initial),
            data: try container.decodeIfPresent([String: JSONValue].self, forKey: .data) ?? [:],
            states: try container.decode([StateDefinition].self, forKey: .states),
            transitions: try container.decode([TransitionDefinition].self, forKey: .transitions),
            triggers: try container.decodeIfPresent([TriggerDefinition].self, forKey: .triggers) ?? [],
            historyMaxEntries: try container.decodeIfPresent(Int.self, forKey: .historyMaxEntries),
            retention: try container.decodeIfPresent(WorkflowDuration.self, forKey: .retention))
    }

    /// Encodes the declared fields.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(description, forKey: .description)
        try container.encode(initial, forKey: .initial)
        try container.encode(data, forKey: .data)
        try container.encode(states, forKey: .states)
        try container.encode(transitions, forKey: .transitions)
        try container.encode(triggers, forKey: .triggers)
        try container.encodeIfPresent(historyMaxEntries, forKey: .historyMaxEntries)
        try container.encodeIfPresent(retention, forKey: .retention)
    }

    /// Definitions are equal when their declared fields are.
    public static func == (lhs: WorkflowDefinition, rhs: WorkflowDefinition) -> Bool {
        lhs.contentHash == rhs.contentHash && lhs.name == rhs.name && lhs.description == rhs.description
            && lhs.initial == rhs.initial && lhs.data == rhs.data && lhs.states == rhs.states
            && lhs.transitions == rhs.transitions && lhs.triggers == rhs.triggers
            && lhs.historyMaxEntries == rhs.historyMaxEntries && lhs.retention == rhs.retention
    }

    /// Hashes the content hash.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(contentHash)
    }
}
