/// Pass 2: every reference, the graph, and assembly.
extension WorkflowCompiler {
    mutating func resolve(name: Located<String>?, description: String, initial: Located<String>?, data: [String: JSONValue],
                          states: [RawState], transitions: [RawTransition], triggers: [RawTrigger],
                          historyMaxEntries: Int? = nil, retention: WorkflowDuration? = nil) -> WorkflowDefinition? {
        let stateByName = Dictionary(states.map { ($0.name.value, $0) }, uniquingKeysWith: { first, _ in first })
        let transitionByName = Dictionary(transitions.map { ($0.name.value, $0) }, uniquingKeysWith: { first, _ in first })
        let stateNames = states.map(\.name.value)
        let transitionNames = transitions.map(\.name.value)
        let finals = Set(states.filter(\.isFinal).map(\.name.value))

        if let initial, stateByName[initial.value] == nil, !states.isEmpty {
            sink.error("initial state '\(YAMLNode.clipped(initial.value))' is not defined\(Suggestions.didYouMean(initial.value, among: stateNames))",
                       at: initial.position)
        }

        // Transitions: known states, nothing leaves a final state.
        for transition in transitions {
            let context = "transition '\(transition.name.value)'"
            if case .states(let sources) = transition.from {
                for source in sources {
                    if stateByName[source.value] == nil {
                        sink.error("\(context) comes from unknown state '\(YAMLNode.clipped(source.value))'\(Suggestions.didYouMean(source.value, among: stateNames))",
                                   at: source.position)
                    } else if finals.contains(source.value) {
                        sink.error("\(context) leaves final state '\(source.value)'; final states have no outgoing transitions", at: source.position)
                    }
                }
            }
            if let to = transition.to, stateByName[to.value] == nil {
                sink.error("\(context) goes to unknown state '\(YAMLNode.clipped(to.value))'\(Suggestions.didYouMean(to.value, among: stateNames))",
                           at: to.position)
            }
        }

        // Which transitions leave each state, from what has been found valid.
        func leaves(_ transition: String, _ state: String) -> Bool {
            guard let raw = transitionByName[transition], let from = raw.from, stateByName[state] != nil else { return false }
            switch from {
            case .any: return !finals.contains(state)
            case .states(let sources): return sources.contains { $0.value == state }
            }
        }

        // Hooks: plugins exist, follow-up transitions exist (and, as a warning, can be taken).
        func checkHooks(_ hooks: [RawHook], instanceState: String?, compiler: inout WorkflowCompiler) {
            for hook in hooks {
                if let plugin = hook.plugin, let available = compiler.pluginNames, !available.contains(plugin.value),
                   Suggestions.isValidName(plugin.value) {
                    compiler.sink.error("\(hook.context) names unknown plugin '\(plugin.value)'\(Suggestions.didYouMean(plugin.value, among: available))",
                                        at: plugin.position)
                }
                for (key, followUp) in [("on_success", hook.onSuccess), ("on_failure", hook.onFailure)] {
                    guard let followUp else { continue }
                    if transitionByName[followUp.value] == nil {
                        compiler.sink.error("'\(key)' of \(hook.context) names unknown transition '\(YAMLNode.clipped(followUp.value))'"
                            + Suggestions.didYouMean(followUp.value, among: transitionNames), at: followUp.position)
                    } else if let instanceState, stateByName[instanceState] != nil, !leaves(followUp.value, instanceState) {
                        compiler.sink.warning("'\(key)' of \(hook.context) names transition '\(followUp.value)', which does not leave "
                            + "state '\(instanceState)' where the instance is when the hook runs", at: followUp.position)
                    }
                }
            }
        }
        for transition in transitions {
            checkHooks(transition.hooks, instanceState: transition.to?.value, compiler: &self)
        }
        for state in states {
            checkHooks(state.onEnter, instanceState: state.name.value, compiler: &self)
            // After on_exit the instance is wherever the transition took it: no state to check.
            checkHooks(state.onExit, instanceState: nil, compiler: &self)
        }

        // State timeouts name a transition that leaves the state.
        for state in states {
            guard let transition = state.timeout?.transition else { continue }
            let context = "timeout of state '\(state.name.value)'"
            if transitionByName[transition.value] == nil {
                sink.error("\(context) names unknown transition '\(YAMLNode.clipped(transition.value))'\(Suggestions.didYouMean(transition.value, among: transitionNames))",
                           at: transition.position)
            } else if !leaves(transition.value, state.name.value) {
                let hint = state.isFinal ? "; a final state cannot time out"
                    : Suggestions.closest(to: transition.value, among: transitionNames.filter { leaves($0, state.name.value) })
                        .map { " (did you mean '\($0)'?)" } ?? ""
                sink.error("\(context) names transition '\(transition.value)', which does not leave '\(state.name.value)'\(hint)", at: transition.position)
            }
        }

        // Triggers: unique names, known transitions and states.
        var triggerPositions: [String: SourcePosition] = [:]
        for trigger in triggers {
            if let name = trigger.name {
                if let first = triggerPositions[name.value] {
                    sink.error("duplicate trigger name '\(name.value)' (first defined at \(first.line):\(first.column))", at: name.position)
                } else {
                    triggerPositions[name.value] = name.position
                }
            }
            if let replacement = trigger.replaceTransition, transitionByName[replacement.value] == nil {
                sink.error("'replace_transition' of \(trigger.context) names unknown transition '\(YAMLNode.clipped(replacement.value))'\(Suggestions.didYouMean(replacement.value, among: transitionNames))",
                           at: replacement.position)
            }
            guard case .transition(let transition, let whereState)? = trigger.action else { continue }
            if transitionByName[transition.value] == nil {
                sink.error("\(trigger.context) names unknown transition '\(YAMLNode.clipped(transition.value))'\(Suggestions.didYouMean(transition.value, among: transitionNames))",
                           at: transition.position)
                continue
            }
            guard let whereState else { continue }
            if stateByName[whereState.value] == nil {
                sink.error("'where' of \(trigger.context) selects unknown state '\(YAMLNode.clipped(whereState.value))'\(Suggestions.didYouMean(whereState.value, among: stateNames))",
                           at: whereState.position)
            } else if !leaves(transition.value, whereState.value) {
                sink.error("\(trigger.context) selects state '\(whereState.value)', which transition '\(transition.value)' does not leave",
                           at: whereState.position)
            }
        }

        // Graph warnings drawn from a broken definition mislead (a state looks unreachable
        // because the transition to it had an error): they wait until the errors are fixed.
        if !sink.hasErrors {
            checkGraph(initial: initial?.value, states: states, transitions: transitions, finals: finals, leaves: leaves)
        }

        guard !sink.hasErrors, let name, let initial else { return nil }
        return WorkflowDefinition(
            name: name.value, description: description, initial: initial.value, data: data,
            states: states.map { state in
                StateDefinition(name: state.name.value, isFinal: state.isFinal,
                                onEnter: state.onEnter.map(Self.hook), onExit: state.onExit.map(Self.hook),
                                timeout: state.timeout.map { StateTimeout(after: $0.after!, transition: $0.transition!.value) })
            },
            transitions: transitions.map { transition in
                let from: TransitionSource
                switch transition.from! {
                case .any: from = .anyNonFinal
                case .states(let sources): from = .states(sources.map(\.value))
                }
                return TransitionDefinition(name: transition.name.value, from: from, to: transition.to!.value,
                                            hooks: transition.hooks.map(Self.hook))
            },
            triggers: triggers.map { trigger in
                let action: TriggerAction
                switch trigger.action! {
                case .transition(let transition, let whereState): action = .transition(transition.value, whereState: whereState?.value)
                case .start(let data): action = .start(data: data)
                }
                return TriggerDefinition(name: trigger.name!.value, cron: trigger.cron!, timezone: trigger.timezone,
                                         action: action, concurrency: trigger.concurrency, misfire: trigger.misfire,
                                         replaceTransition: trigger.replaceTransition?.value, maxCatchup: trigger.maxCatchup)
            },
            historyMaxEntries: historyMaxEntries, retention: retention)
    }

    private static func hook(_ raw: RawHook) -> Hook {
        Hook(plugin: raw.plugin!.value, with: raw.with, timeout: raw.timeout, retry: raw.retry,
             onSuccess: raw.onSuccess?.value, onFailure: raw.onFailure?.value)
    }

    /// Warnings: states no path reaches, and non-final states nothing leaves.
    private mutating func checkGraph(initial: String?, states: [RawState], transitions: [RawTransition], finals: Set<String>,
                                     leaves: (String, String) -> Bool) {
        let known = Set(states.map(\.name.value))
        var targetsByState: [String: [String]] = [:]
        var fromAnyTargets: [String] = []
        for transition in transitions {
            guard let to = transition.to?.value, known.contains(to), let from = transition.from else { continue }
            switch from {
            case .any: fromAnyTargets.append(to)
            case .states(let sources):
                for source in sources where known.contains(source.value) { targetsByState[source.value, default: []].append(to) }
            }
        }
        if let initial, known.contains(initial) {
            var reached: Set<String> = [initial]
            var pending = [initial]
            while let state = pending.popLast() {
                let next = (targetsByState[state] ?? []) + (finals.contains(state) ? [] : fromAnyTargets)
                for target in next where reached.insert(target).inserted { pending.append(target) }
            }
            for state in states where !reached.contains(state.name.value) {
                sink.warning("state '\(state.name.value)' is unreachable from initial state '\(initial)'", at: state.name.position)
            }
        }
        for state in states where !state.isFinal {
            let hasWayOut = targetsByState[state.name.value] != nil || !fromAnyTargets.isEmpty
                || transitions.contains { leaves($0.name.value, state.name.value) }
            if !hasWayOut {
                sink.warning("state '\(state.name.value)' is not final and no transition leaves it; instances there stay forever "
                    + "(add a transition or 'final: true')", at: state.name.position)
            }
        }
    }
}
