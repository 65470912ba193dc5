import Workflow

/// Why a command was refused. Each case has a stable `code` for the API's JSON errors, a
/// `message` for people, `details` for the error object and a `category` the API maps to an
/// HTTP status. A rejection means the command was definitely not applied.
///
/// | code | category (HTTP) |
/// |---|---|
/// | `malformed_command` | invalid (400) |
/// | `invalid_argument` | invalid (400) |
/// | `invalid_definition` | unprocessable (422) |
/// | `invalid_data` | unprocessable (422) |
/// | `unknown_workflow`, `unknown_instance` | notFound (404) |
/// | `unknown_transition`, `unknown_state`, `ambiguous_transition` | unprocessable (422) |
/// | `instance_exists`, `instance_final`, `transition_not_allowed`, `expectation_failed`, `request_id_conflict` | conflict (409) |
/// | `limit_exceeded` | limit (429 or 507) |
public enum Rejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// The entry's bytes could not be decoded.
    case malformedCommand(reason: String)
    /// A field is malformed (an id with characters outside `[A-Za-z0-9._:-]`, a transition
    /// request with neither name nor target, …).
    case invalidArgument(field: String, reason: String)
    /// The definition in a `registerWorkflow` is inconsistent (hash mismatch, dangling names).
    case invalidDefinition(workflow: String, reason: String)
    /// Instance data would be too large or too deeply nested.
    case invalidData(instance: String, reason: String)
    /// No workflow of that name (or no such version of it).
    case unknownWorkflow(name: String, version: Int?)
    /// No instance with that id.
    case unknownInstance(id: String)
    /// The instance's workflow version has no transition of that name.
    case unknownTransition(instance: String, name: String, allowed: [String])
    /// The target state of a by-state transition does not exist in the instance's workflow version.
    case unknownState(instance: String, state: String, allowed: [String])
    /// An instance with that id exists already.
    case instanceExists(id: String)
    /// The instance is in a final state; nothing leaves it.
    case instanceFinal(id: String, state: String)
    /// The transition does not leave the instance's current state (or no transition leads to
    /// the requested state from it). `allowed` are the transitions that do.
    case transitionNotAllowed(instance: String, state: String, transition: String?, to: String?, allowed: [String])
    /// More than one transition leads from the current state to the requested one.
    case ambiguousTransition(instance: String, state: String, to: String, candidates: [String])
    /// `expect` named another state than the instance is in.
    case expectationFailed(instance: String, expected: String, actual: String)
    /// The request id was already used by a different request.
    case requestIDConflict(requestID: String)
    /// A configured limit (`EngineSettings`) would be exceeded.
    case limitExceeded(limit: String, max: Int)
    /// No API token has this id (`token revoke`).
    case unknownToken(id: String)

    /// How the API should answer.
    public enum Category: String, Sendable, Hashable {
        /// 400: the request itself is malformed.
        case invalid
        /// 422: well-formed but refers to things that cannot be (unknown transition, bad data).
        case unprocessable
        /// 404: the workflow or instance does not exist.
        case notFound
        /// 409: conflicts with the current state.
        case conflict
        /// 429/507: a configured limit.
        case limit
    }

    /// The stable machine-readable code, e.g. `transition_not_allowed`.
    public var code: String {
        switch self {
        case .malformedCommand: return "malformed_command"
        case .invalidArgument: return "invalid_argument"
        case .invalidDefinition: return "invalid_definition"
        case .invalidData: return "invalid_data"
        case .unknownWorkflow: return "unknown_workflow"
        case .unknownInstance: return "unknown_instance"
        case .unknownTransition: return "unknown_transition"
        case .unknownState: return "unknown_state"
        case .instanceExists: return "instance_exists"
        case .instanceFinal: return "instance_final"
        case .transitionNotAllowed: return "transition_not_allowed"
        case .ambiguousTransition: return "ambiguous_transition"
        case .expectationFailed: return "expectation_failed"
        case .requestIDConflict: return "request_id_conflict"
        case .limitExceeded: return "limit_exceeded"
        case .unknownToken: return "unknown_token"
        }
    }

    /// How the API should answer (see the table on the type).
    public var category: Category {
        switch self {
        case .malformedCommand, .invalidArgument: return .invalid
        case .invalidDefinition, .invalidData, .unknownTransition, .unknownState, .ambiguousTransition: return .unprocessable
        case .unknownWorkflow, .unknownInstance, .unknownToken: return .notFound
        case .instanceExists, .instanceFinal, .transitionNotAllowed, .expectationFailed, .requestIDConflict: return .conflict
        case .limitExceeded: return .limit
        }
    }

    /// A sentence for people: what is wrong and, where it helps, what would be right.
    public var message: String {
        switch self {
        case .malformedCommand(let reason):
            return "the log entry is not a valid command: \(reason)"
        case .invalidArgument(let field, let reason):
            return "\(field): \(reason)"
        case .invalidDefinition(let workflow, let reason):
            return "workflow '\(workflow)': invalid definition: \(reason)"
        case .invalidData(let instance, let reason):
            return "instance '\(instance)': invalid data: \(reason)"
        case .unknownWorkflow(let name, let version?):
            return "workflow '\(name)' has no version \(version)"
        case .unknownWorkflow(let name, nil):
            return "no workflow named '\(name)' is registered"
        case .unknownInstance(let id):
            return "no instance with id '\(id)'"
        case .unknownTransition(let instance, let name, let allowed):
            return "instance '\(instance)': its workflow has no transition '\(name)'\(Rejection.allowedSuffix(allowed))"
        case .unknownState(let instance, let state, let allowed):
            return "instance '\(instance)': its workflow has no state '\(state)'\(Rejection.allowedSuffix(allowed))"
        case .instanceExists(let id):
            return "an instance with id '\(id)' already exists"
        case .instanceFinal(let id, let state):
            return "instance '\(id)' is in final state '\(state)'; no transition leaves it"
        case .transitionNotAllowed(let instance, let state, let transition, let to, let allowed):
            let what = transition.map { "transition '\($0)'" } ?? to.map { "no transition leads to '\($0)'" } ?? "transition"
            let verb = transition == nil ? "" : " is not allowed"
            return "instance '\(instance)' is in state '\(state)': \(what)\(verb) from there\(Rejection.allowedSuffix(allowed))"
        case .ambiguousTransition(let instance, let state, let to, let candidates):
            return "instance '\(instance)' in state '\(state)': several transitions lead to '\(to)' "
                + "(\(candidates.joined(separator: ", "))); name one"
        case .expectationFailed(let instance, let expected, let actual):
            return "instance '\(instance)' is in state '\(actual)', not the expected '\(expected)'"
        case .requestIDConflict(let requestID):
            return "request id '\(requestID)' was already used for a different request; use a new id"
        case .limitExceeded(let limit, let max):
            return "limit \(limit) (\(max)) reached"
        case .unknownToken(let id):
            return "no API token with id '\(id)' (orchestrator token list shows them)"
        }
    }

    /// Structured fields for the API's `details` object.
    public var details: [String: JSONValue] {
        func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
        switch self {
        case .malformedCommand(let reason): return ["reason": .string(reason)]
        case .invalidArgument(let field, let reason): return ["field": .string(field), "reason": .string(reason)]
        case .invalidDefinition(let workflow, let reason): return ["workflow": .string(workflow), "reason": .string(reason)]
        case .invalidData(let instance, let reason): return ["instance": .string(instance), "reason": .string(reason)]
        case .unknownWorkflow(let name, let version):
            var details: [String: JSONValue] = ["workflow": .string(name)]
            if let version { details["version"] = .number(Double(version)) }
            return details
        case .unknownInstance(let id): return ["instance": .string(id)]
        case .unknownTransition(let instance, let name, let allowed):
            return ["instance": .string(instance), "transition": .string(name), "allowed": strings(allowed)]
        case .unknownState(let instance, let state, let allowed):
            return ["instance": .string(instance), "to": .string(state), "allowed": strings(allowed)]
        case .instanceExists(let id): return ["instance": .string(id)]
        case .instanceFinal(let id, let state): return ["instance": .string(id), "state": .string(state)]
        case .transitionNotAllowed(let instance, let state, let transition, let to, let allowed):
            var details: [String: JSONValue] = ["instance": .string(instance), "state": .string(state), "allowed": strings(allowed)]
            if let transition { details["transition"] = .string(transition) }
            if let to { details["to"] = .string(to) }
            return details
        case .ambiguousTransition(let instance, let state, let to, let candidates):
            return ["instance": .string(instance), "state": .string(state), "to": .string(to), "candidates": strings(candidates)]
        case .expectationFailed(let instance, let expected, let actual):
            return ["instance": .string(instance), "expected": .string(expected), "actual": .string(actual)]
        case .requestIDConflict(let requestID): return ["request_id": .string(requestID)]
        case .limitExceeded(let limit, let max): return ["limit": .string(limit), "max": .number(Double(max))]
        case .unknownToken(let id): return ["token": .string(id)]
        }
    }

    public var description: String { "\(code): \(message)" }

    private static func allowedSuffix(_ allowed: [String]) -> String {
        allowed.isEmpty ? " (none is allowed)" : " (allowed: \(allowed.joined(separator: ", ")))"
    }
}
