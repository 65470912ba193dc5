import Workflow

/// The three commands' rules. Each validates everything first and changes the state only
/// when it accepts, so a rejection leaves the state as it was (and records no effect).
extension EngineState {
    // MARK: registerWorkflow

    mutating func register(_ command: RegisterWorkflow, index: UInt64, effects: inout [Effect]) -> Outcome {
        let definition = command.definition
        let name = definition.name
        guard !name.isEmpty, name.utf8.count <= EngineLimits.nameLengthMax else {
            return .rejected(.invalidArgument(field: "workflow", reason: "a workflow name has 1 to \(EngineLimits.nameLengthMax) bytes"))
        }
        guard command.hash == definition.contentHash else {
            return .rejected(.invalidDefinition(workflow: name, reason:
                "the command carries hash \(command.hash) but the definition hashes to \(definition.contentHash)"))
        }
        if let problem = EngineState.structuralProblem(definition) {
            return .rejected(.invalidDefinition(workflow: name, reason: problem))
        }

        let existing = workflows[name]
        if let latest = existing?.versions.last, latest.hash == command.hash {
            return .workflowRegistered(WorkflowRegistered(name: name, version: latest.version, hash: latest.hash,
                                                          created: false, index: latest.registeredIndex))
        }
        let versionCount = existing?.versions.count ?? 0
        if existing == nil, workflows.count >= settings.workflowsMax {
            return .rejected(.limitExceeded(limit: "workflowsMax", max: settings.workflowsMax))
        }
        guard versionCount < settings.versionsPerWorkflowMax else {
            return .rejected(.limitExceeded(limit: "versionsPerWorkflowMax", max: settings.versionsPerWorkflowMax))
        }

        let version = WorkflowVersion(name: name, version: versionCount + 1, hash: command.hash, definition: definition,
                                      registeredIndex: index, registeredAtMillis: clockMillis,
                                      definitionBytes: Command.definitionBytes(definition))
        workflows[name, default: WorkflowRecord(versions: [])].versions.append(version)
        adoptTriggers(of: definition, atMillis: clockMillis)
        effects.append(.workflowRegistered(name: name, version: version.version, hash: version.hash))
        return .workflowRegistered(WorkflowRegistered(name: name, version: version.version, hash: version.hash,
                                                      created: true, index: index))
    }

    /// What would make `definition` unusable by apply, or nil. `WorkflowLoader` checks far
    /// more; this guards the engine's own invariants against any bytes in the log.
    static func structuralProblem(_ definition: WorkflowDefinition) -> String? {
        guard !definition.states.isEmpty else { return "it has no states" }
        var names = Set<String>()
        for state in definition.states where !names.insert(state.name).inserted {
            return "state '\(state.name)' is defined twice"
        }
        guard names.contains(definition.initial) else { return "initial state '\(definition.initial)' is not a state" }
        var transitionNames = Set<String>()
        for transition in definition.transitions {
            guard transitionNames.insert(transition.name).inserted else { return "transition '\(transition.name)' is defined twice" }
            guard names.contains(transition.to) else {
                return "transition '\(transition.name)' goes to unknown state '\(transition.to)'"
            }
            if case .states(let sources) = transition.from {
                for source in sources where !names.contains(source) {
                    return "transition '\(transition.name)' comes from unknown state '\(source)'"
                }
            }
        }
        return nil
    }

    // MARK: startInstance

    mutating func start(_ command: StartInstance, index: UInt64, effects: inout [Effect], cause: String? = nil) -> Outcome {
        guard EngineLimits.isValidID(command.id) else {
            return .rejected(.invalidArgument(field: "id", reason: EngineState.idRule(command.id)))
        }
        guard let record = workflows[command.workflow] else {
            return .rejected(.unknownWorkflow(name: command.workflow, version: nil))
        }
        let pinned: WorkflowVersion
        if let version = command.version {
            guard version >= 1 else {
                return .rejected(.invalidArgument(field: "version", reason: "versions are numbered from 1; \(version) is not one"))
            }
            guard version <= record.versions.count else {
                return .rejected(.unknownWorkflow(name: command.workflow, version: version))
            }
            pinned = record.versions[version - 1]
        } else {
            pinned = record.versions[record.versions.count - 1]
        }
        guard instances[command.id] == nil else { return .rejected(.instanceExists(id: command.id)) }
        guard instances.count < settings.instancesMax else {
            return .rejected(.limitExceeded(limit: "instancesMax", max: settings.instancesMax))
        }
        var data = pinned.definition.data
        if let provided = command.data { EngineState.merge(provided, into: &data) }
        if let problem = dataProblem(data) { return .rejected(.invalidData(instance: command.id, reason: problem)) }

        let definition = pinned.definition
        let state = definition.initial
        let instance = Instance(id: command.id, workflow: command.workflow, version: pinned.version, state: state,
                                data: data, revision: 1, createdIndex: index, createdAtMillis: clockMillis,
                                updatedIndex: index, updatedAtMillis: clockMillis, isFinal: definition.isFinal(state))
        let entry = HistoryEntry(kind: .start, index: index, timeMillis: clockMillis, from: nil, to: state,
                                 transition: nil, requestID: command.requestID, revision: 1, cause: cause, actor: command.actor)
        instances[command.id] = instance
        histories[command.id] = HistoryLog(entries: [entry])
        order.append(OrderEntry(createdIndex: index, id: command.id))
        stateCounts[command.workflow, default: [:]][state, default: 0] += 1
        trackLive(command.id, workflow: command.workflow, from: nil, to: state, isFinal: instance.isFinal)
        effects.append(.instanceStarted(id: command.id, workflow: command.workflow, version: pinned.version, state: state))
        if instance.isFinal {
            trackFinished(instance)
            effects.append(.instanceFinished(id: command.id, workflow: command.workflow, state: state))
        }
        rearmTimer(instance, definition: definition, effects: &effects)
        recordDispatches(instance: instance, definition: definition, transition: nil, from: nil, to: state, index: index,
                         effects: &effects)
        return .instanceStarted(InstanceStarted(id: command.id, workflow: command.workflow, version: pinned.version,
                                                state: state, revision: 1, index: index))
    }

    // MARK: transition

    mutating func transition(_ command: TransitionRequest, index: UInt64, effects: inout [Effect], cause: String? = nil) -> Outcome {
        guard let current = instances[command.instance] else {
            return .rejected(.unknownInstance(id: command.instance))
        }
        guard let definition = workflows[current.workflow]?.versions[current.version - 1].definition else {
            preconditionFailure("instance \(current.id) is pinned to a missing workflow version")
        }
        let id = current.id
        let from = current.state

        if let expected = command.expect, expected != from {
            return .rejected(.expectationFailed(instance: id, expected: expected, actual: from))
        }
        if definition.isFinal(from) {
            return .rejected(.instanceFinal(id: id, state: from))
        }
        let chosen: TransitionDefinition
        switch resolve(command, in: definition, instance: id, state: from) {
        case .success(let transition): chosen = transition
        case .failure(let rejection): return .rejected(rejection)
        }

        var patched: [String: JSONValue]?
        if let patch = command.dataPatch {
            var data = current.data
            EngineState.merge(patch, into: &data)
            if let problem = dataProblem(data) { return .rejected(.invalidData(instance: id, reason: problem)) }
            patched = data
        }

        let revision = current.revision + 1
        let to = chosen.to
        let entry = HistoryEntry(kind: .transition, index: index, timeMillis: clockMillis, from: from, to: to,
                                 transition: chosen.name, requestID: command.requestID, revision: revision, cause: cause,
                                 actor: command.actor)
        let isFinal = definition.isFinal(to)
        instances[id]!.advance(to: to, data: patched, revision: revision, index: index, nowMillis: clockMillis,
                               isFinal: isFinal)
        recordHistory(entry, of: id, definition: definition)
        if from != to {
            stateCounts[current.workflow, default: [:]][from, default: 0] -= 1
            stateCounts[current.workflow, default: [:]][to, default: 0] += 1
        }
        trackLive(id, workflow: current.workflow, from: from, to: to, isFinal: isFinal)
        effects.append(.instanceMoved(id: id, workflow: current.workflow, transition: chosen.name, from: from, to: to,
                                      revision: revision))
        if isFinal {
            trackFinished(instances[id]!)
            effects.append(.instanceFinished(id: id, workflow: current.workflow, state: to))
        }
        rearmTimer(instances[id]!, definition: definition, effects: &effects)
        recordDispatches(instance: instances[id]!, definition: definition, transition: chosen, from: from, to: to, index: index,
                         effects: &effects)
        return .transitioned(Transitioned(id: id, transition: chosen.name, from: from, to: to, revision: revision, index: index))
    }

    /// Finds the transition a request names (by name, by target state, or both).
    private func resolve(_ command: TransitionRequest, in definition: WorkflowDefinition, instance id: String,
                         state: String) -> Result<TransitionDefinition, Rejection> {
        let leaving = definition.transitions(from: state)
        let allowed = leaving.map(\.name)
        if let name = command.name {
            guard let transition = definition.transition(named: name) else {
                return .failure(.unknownTransition(instance: id, name: name, allowed: allowed))
            }
            guard definition.allows(name, from: state) else {
                return .failure(.transitionNotAllowed(instance: id, state: state, transition: name, to: command.to, allowed: allowed))
            }
            if let to = command.to, to != transition.to {
                return .failure(.invalidArgument(field: "to", reason:
                    "transition '\(name)' leads to '\(transition.to)', not '\(to)'; give one of transition or to, or matching ones"))
            }
            return .success(transition)
        }
        guard let to = command.to else {
            return .failure(.invalidArgument(field: "transition", reason: "give a transition name or a target state ('to')"))
        }
        guard definition.state(named: to) != nil else {
            var targets: [String] = []
            for transition in leaving where !targets.contains(transition.to) { targets.append(transition.to) }
            return .failure(.unknownState(instance: id, state: to, allowed: targets))
        }
        let candidates = leaving.filter { $0.to == to }
        switch candidates.count {
        case 0: return .failure(.transitionNotAllowed(instance: id, state: state, transition: nil, to: to, allowed: allowed))
        case 1: return .success(candidates[0])
        default: return .failure(.ambiguousTransition(instance: id, state: state, to: to, candidates: candidates.map(\.name)))
        }
    }

    // MARK: Data

    /// Shallow merge: each top-level key of `patch` replaces the one in `data`; a `null`
    /// value removes the key.
    static func merge(_ patch: [String: JSONValue], into data: inout [String: JSONValue]) {
        for (key, value) in patch {
            if case .null = value {
                data.removeValue(forKey: key)
            } else {
                data[key] = value
            }
        }
    }

    func dataProblem(_ data: [String: JSONValue]) -> String? {
        var measure = DataMeasure()
        measure.visit(members: data, depth: 1)
        if measure.hasNonFiniteNumber { return "numbers must be finite" }
        if measure.depth > EngineLimits.jsonDepthMax {
            return "data is nested more than \(EngineLimits.jsonDepthMax) levels deep"
        }
        if measure.bytes > settings.instanceDataBytesMax {
            return "data would take \(measure.bytes) bytes, over the limit of \(settings.instanceDataBytesMax)"
        }
        return nil
    }
}

/// One walk over instance data: its encoded size, its depth and whether every number is
/// finite. Stops descending past `jsonDepthMax` so a pathological value costs little.
private struct DataMeasure {
    var bytes = 0
    var depth = 0
    var hasNonFiniteNumber = false

    mutating func visit(members: [String: JSONValue], depth level: Int) {
        depth = max(depth, level)
        bytes += varintByteCount(members.count)
        for (key, value) in members {
            let keyBytes = key.utf8.count
            bytes += varintByteCount(keyBytes) + keyBytes
            visit(value, depth: level + 1)
        }
    }

    mutating func visit(_ value: JSONValue, depth level: Int) {
        guard level <= EngineLimits.jsonDepthMax + 1 else {
            depth = level
            return
        }
        depth = max(depth, level)
        switch value {
        case .null, .bool: bytes += 1
        case .number(let number):
            bytes += 9
            if !number.isFinite { hasNonFiniteNumber = true }
        case .string(let text):
            let count = text.utf8.count
            bytes += 1 + varintByteCount(count) + count
        case .array(let values):
            bytes += 1 + varintByteCount(values.count)
            for element in values { visit(element, depth: level + 1) }
        case .object(let members):
            bytes += 1
            visit(members: members, depth: level)
        }
    }
}
