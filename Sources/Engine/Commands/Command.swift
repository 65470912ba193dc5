import Workflow

/// One entry of the replicated log, as the engine understands it: what a client (or later
/// the dispatcher and scheduler) asked for, stamped with the leader's clock.
///
/// A command is proposed through `Consensus`, encoded with `encoded()`, and applied on every
/// replica by `EngineState.apply(index:bytes:)`.
///
/// ```swift
/// let command = Command.transition(TransitionRequest(
///     instance: "o-17", name: "pay", requestID: "req-1", proposedAtMillis: now))
/// let committed = try await consensus.propose(command)   // committed.outcome, committed.index
/// ```
public enum Command: Sendable, Hashable {
    /// Registers a version of a workflow (a no-op when the definition equals the latest).
    case registerWorkflow(RegisterWorkflow)
    /// Starts an instance of a workflow.
    case startInstance(StartInstance)
    /// Moves an instance along one transition.
    case transition(TransitionRequest)
    /// Records how one attempt of a hook dispatch ended (proposed by the leader's dispatcher).
    case hookResult(HookResult)
    /// Fires cron trigger slots that came due (proposed by the leader's scheduler).
    case cronFire(CronFire)
    /// Fires state timeouts that came due (proposed by the leader's scheduler).
    case timerFire(TimerFire)
    /// Removes finished instances past their retention (proposed by the leader's retention service).
    case purgeInstances(PurgeInstances)
    /// Adds an API token (its digest, never its secret).
    case createToken(CreateToken)
    /// Revokes an API token.
    case revokeToken(RevokeToken)

    /// The idempotency key, if the command has one.
    public var requestID: String? {
        switch self {
        case .registerWorkflow(let command): return command.requestID
        case .startInstance(let command): return command.requestID
        case .transition(let command): return command.requestID
        case .createToken(let command): return command.requestID
        case .revokeToken(let command): return command.requestID
        // Deduplicated by dispatch id and attempt, by trigger slot, and by instance revision
        // instead; a purge repeated finds the instances gone.
        case .hookResult, .cronFire, .timerFire, .purgeInstances: return nil
        }
    }

    /// The leader's wall clock when it proposed the command, in milliseconds since the Unix
    /// epoch. The only notion of time apply has; `Consensus` implementations stamp it.
    public var proposedAtMillis: Int64 {
        get {
            switch self {
            case .registerWorkflow(let command): return command.proposedAtMillis
            case .startInstance(let command): return command.proposedAtMillis
            case .transition(let command): return command.proposedAtMillis
            case .hookResult(let command): return command.proposedAtMillis
            case .cronFire(let command): return command.proposedAtMillis
            case .timerFire(let command): return command.proposedAtMillis
            case .purgeInstances(let command): return command.proposedAtMillis
            case .createToken(let command): return command.proposedAtMillis
            case .revokeToken(let command): return command.proposedAtMillis
            }
        }
        set {
            switch self {
            case .registerWorkflow(var command):
                command.proposedAtMillis = newValue
                self = .registerWorkflow(command)
            case .startInstance(var command):
                command.proposedAtMillis = newValue
                self = .startInstance(command)
            case .transition(var command):
                command.proposedAtMillis = newValue
                self = .transition(command)
            case .hookResult(var command):
                command.proposedAtMillis = newValue
                self = .hookResult(command)
            case .cronFire(var command):
                command.proposedAtMillis = newValue
                self = .cronFire(command)
            case .timerFire(var command):
                command.proposedAtMillis = newValue
                self = .timerFire(command)
            case .purgeInstances(var command):
                command.proposedAtMillis = newValue
                self = .purgeInstances(command)
            case .createToken(var command):
                command.proposedAtMillis = newValue
                self = .createToken(command)
            case .revokeToken(var command):
                command.proposedAtMillis = newValue
                self = .revokeToken(command)
            }
        }
    }

    /// The id of the API token on whose behalf a client's command was proposed (stamped by
    /// the node that authenticated the request); nil for the leader's own services and when
    /// authentication is off.
    public var actor: String? {
        switch self {
        case .registerWorkflow(let command): return command.actor
        case .startInstance(let command): return command.actor
        case .transition(let command): return command.actor
        case .createToken(let command): return command.actor
        case .revokeToken(let command): return command.actor
        case .hookResult, .cronFire, .timerFire, .purgeInstances: return nil
        }
    }

    /// This command with `proposedAtMillis` replaced: what a leader proposes.
    public func stamped(atMillis millis: Int64) -> Command {
        var copy = self
        copy.proposedAtMillis = millis
        return copy
    }
}

/// `Command.registerWorkflow`: add `definition` as the next version of its workflow.
public struct RegisterWorkflow: Sendable, Hashable {
    /// The validated definition (from `WorkflowLoader`).
    public var definition: WorkflowDefinition
    /// The definition's `contentHash` as the proposer computed it; apply rejects the command
    /// (`invalid_definition`) when the carried definition hashes differently.
    public var hash: String
    /// Idempotency key; nil for none.
    public var requestID: String?
    /// See `Command.actor`.
    public var actor: String?
    /// See `Command.proposedAtMillis`.
    public var proposedAtMillis: Int64

    /// Creates the command; `hash` defaults to the definition's own content hash.
    public init(definition: WorkflowDefinition, hash: String? = nil, requestID: String? = nil, actor: String? = nil,
                proposedAtMillis: Int64 = 0) {
        self.definition = definition
        self.hash = hash ?? definition.contentHash
        self.requestID = requestID
        self.actor = actor
        self.proposedAtMillis = proposedAtMillis
    }
}

/// `Command.startInstance`: create instance `id` of `workflow` in its initial state.
public struct StartInstance: Sendable, Hashable {
    /// The workflow's name.
    public var workflow: String
    /// The version to pin the instance to; nil for the latest registered version.
    public var version: Int?
    /// The new instance's id, `[A-Za-z0-9._:-]{1,128}` (the proposer generates one when the
    /// client gave none).
    public var id: String
    /// Data merged over the workflow's `data` defaults (top-level keys replace; a `null`
    /// value removes the default). Nil for the defaults alone.
    public var data: [String: JSONValue]?
    /// Idempotency key; nil for none.
    public var requestID: String?
    /// See `Command.actor`.
    public var actor: String?
    /// See `Command.proposedAtMillis`.
    public var proposedAtMillis: Int64

    /// Creates the command.
    public init(workflow: String, version: Int? = nil, id: String, data: [String: JSONValue]? = nil,
                requestID: String? = nil, actor: String? = nil, proposedAtMillis: Int64 = 0) {
        self.workflow = workflow
        self.version = version
        self.id = id
        self.data = data
        self.requestID = requestID
        self.actor = actor
        self.proposedAtMillis = proposedAtMillis
    }
}

/// `Command.transition`: move `instance` along a transition named by `name`, or by its
/// target state `to` from the instance's current state (or both, which must agree).
public struct TransitionRequest: Sendable, Hashable {
    /// The instance's id.
    public var instance: String
    /// The transition's name.
    public var name: String?
    /// The state to move to; the transition is the one leading there from the current state.
    public var to: String?
    /// Apply only when the instance is in this state (compare-and-set); otherwise the
    /// outcome is `expectation_failed` with the actual state.
    public var expect: String?
    /// Merged into the instance's data on success (shallow: top-level keys replace; a `null`
    /// value removes the key).
    public var dataPatch: [String: JSONValue]?
    /// Idempotency key; nil for none.
    public var requestID: String?
    /// See `Command.actor`.
    public var actor: String?
    /// See `Command.proposedAtMillis`.
    public var proposedAtMillis: Int64

    /// Creates the command.
    public init(instance: String, name: String? = nil, to: String? = nil, expect: String? = nil,
                dataPatch: [String: JSONValue]? = nil, requestID: String? = nil, actor: String? = nil,
                proposedAtMillis: Int64 = 0) {
        self.instance = instance
        self.name = name
        self.to = to
        self.expect = expect
        self.dataPatch = dataPatch
        self.requestID = requestID
        self.actor = actor
        self.proposedAtMillis = proposedAtMillis
    }
}
