import Workflow

/// Hook dispatches: recorded by the transitions that call for them, finished by the results
/// the leader's dispatcher proposes (`Command.hookResult`). Everything here is a function of
/// the state and the entry, like the rest of apply: retry times come from the engine clock and
/// the jitter from the dispatch id.
extension EngineState {
    /// Records the dispatches a move from `from` (nil for a start) to `to` along `transition`
    /// calls for, in run order: `on_exit` of `from`, the transition's hooks, `on_enter` of `to`.
    mutating func recordDispatches(instance: Instance, definition: WorkflowDefinition, transition: TransitionDefinition?,
                                   from: String?, to: String, index: UInt64, effects: inout [Effect]) {
        var lists: [(Dispatch.Stage, [Hook])] = []
        if let from, let state = definition.state(named: from) { lists.append((.onExit, state.onExit)) }
        if let transition { lists.append((.transition, transition.hooks)) }
        if let state = definition.state(named: to) { lists.append((.onEnter, state.onEnter)) }
        var number = 0
        for (stage, hooks) in lists {
            for (position, hook) in hooks.enumerated() {
                number += 1
                let dispatch = Dispatch(id: "\(index).\(number)", instance: instance.id, workflow: instance.workflow,
                                        version: instance.version, transition: transition?.name, from: from, to: to,
                                        stage: stage, position: position, plugin: hook.plugin, recordedIndex: index,
                                        attempt: 1, dueAtMillis: clockMillis)
                dispatches[dispatch.id] = dispatch
                dispatchQueues[instance.id, default: []].append(dispatch.id)
                effects.append(.dispatchRecorded(id: dispatch.id, instance: instance.id, plugin: hook.plugin))
            }
        }
    }

    /// The hook a dispatch runs, from the instance's pinned definition.
    public func hook(of dispatch: Dispatch) -> Hook? {
        guard let definition = workflowVersion(dispatch.workflow, version: dispatch.version)?.definition else { return nil }
        let hooks: [Hook]
        switch dispatch.stage {
        case .onExit: hooks = dispatch.from.flatMap { definition.state(named: $0)?.onExit } ?? []
        case .transition: hooks = dispatch.transition.flatMap { definition.transition(named: $0)?.hooks } ?? []
        case .onEnter: hooks = definition.state(named: dispatch.to)?.onEnter ?? []
        }
        return dispatch.position < hooks.count ? hooks[dispatch.position] : nil
    }

    // MARK: hookResult

    mutating func hookResult(_ command: HookResult, index: UInt64, effects: inout [Effect]) -> Outcome {
        guard var dispatch = dispatches[command.dispatchID] else {
            return .hookRecorded(HookRecorded(dispatchID: command.dispatchID, attempt: command.attempt,
                                              status: .ignored(reason: "dispatch \(command.dispatchID) is not pending (finished already, or never recorded)"),
                                              index: index))
        }
        guard command.attempt == dispatch.attempt else {
            return .hookRecorded(HookRecorded(dispatchID: dispatch.id, attempt: command.attempt,
                                              status: .ignored(reason: "dispatch \(dispatch.id) waits for attempt \(dispatch.attempt), not \(command.attempt)"),
                                              index: index))
        }
        let hook = self.hook(of: dispatch)
        let attempts = hook?.retry.attempts ?? 1
        var notes: [String] = []
        let status: HookRecorded.Status
        var followUp: (key: String, transition: String)?
        if case .succeeded = command.result {
            status = .succeeded
            finish(dispatch.id, instance: dispatch.instance)
            if let patch = command.dataPatch, !patch.isEmpty, instances[dispatch.instance] != nil {
                var data = instances[dispatch.instance]!.data
                EngineState.merge(patch, into: &data)
                if let problem = dataProblem(data) {
                    notes.append("data patch refused: \(problem)")
                } else {
                    instances[dispatch.instance]!.replaceData(data)
                    notes.append("data patch merged (\(patch.keys.sorted().joined(separator: ", ")))")
                }
            }
            followUp = hook?.onSuccess.map { ("on_success", $0) }
            effects.append(.dispatchFinished(id: dispatch.id, instance: dispatch.instance, succeeded: true))
        } else if command.attempt < attempts, let hook {
            let dueAt = clockMillis + EngineState.retryDelayMillis(hook.retry, dispatchID: dispatch.id, nextAttempt: command.attempt + 1)
            dispatch.attempt = command.attempt + 1
            dispatch.dueAtMillis = dueAt
            dispatches[dispatch.id] = dispatch
            status = .willRetry(attempt: dispatch.attempt, atMillis: dueAt)
            notes.append("attempt \(dispatch.attempt) of \(attempts) due at \(dueAt)")
            effects.append(.dispatchRetryScheduled(id: dispatch.id, instance: dispatch.instance, attempt: dispatch.attempt,
                                                   dueAtMillis: dueAt))
        } else {
            status = .failed
            finish(dispatch.id, instance: dispatch.instance)
            failedDispatches.append(FailedDispatch(dispatch: dispatch, result: command.result.name, index: index, atMillis: clockMillis))
            if failedDispatches.count > settings.failedDispatchesMax { failedDispatches.removeFirst(failedDispatches.count - settings.failedDispatchesMax) }
            notes.append(attempts > 1 ? "failed after \(attempts) attempts" : "failed")
            followUp = hook?.onFailure.map { ("on_failure", $0) }
            effects.append(.dispatchFinished(id: dispatch.id, instance: dispatch.instance, succeeded: false))
        }
        if case .couldNotStart(let reason) = command.result { notes.insert("could not start: \(reason)", at: 0) }

        // The follow-up transition is taken here, in the same entry, so it happens exactly once;
        // its history names the hook as its cause.
        if let followUp, instances[dispatch.instance] != nil {
            let request = TransitionRequest(instance: dispatch.instance, name: followUp.transition)
            switch transition(request, index: index, effects: &effects, cause: "hook \(dispatch.id)") {
            case .transitioned(let moved): notes.append("\(followUp.key) '\(followUp.transition)' taken: \(moved.from) → \(moved.to)")
            case .rejected(let rejection): notes.append("\(followUp.key) '\(followUp.transition)' not taken: \(rejection.message)")
            default: break
            }
        }

        if let current = instances[dispatch.instance] {
            let (exitCode, signal): (Int32?, Int32?) = switch command.result {
            case .succeeded: (0, nil)
            case .retryableFailure: (75, nil)
            case .failed(let code): (code, nil)
            case .signalled(let number): (nil, number)
            case .timedOut, .couldNotStart: (nil, nil)
            }
            let final: Bool = switch status {
            case .succeeded, .failed: true
            default: false
            }
            let run = HookRunRecord(dispatchID: dispatch.id, plugin: dispatch.plugin, stage: dispatch.stage,
                                    attempt: command.attempt, result: command.result.name, exitCode: exitCode, signal: signal,
                                    durationMillis: command.durationMillis, stdout: command.stdout, stderr: command.stderr,
                                    stdoutTruncated: command.stdoutTruncated, stderrTruncated: command.stderrTruncated,
                                    note: notes.joined(separator: "; "), final: final)
            let entry = HistoryEntry(kind: .hook, index: index, timeMillis: clockMillis, from: nil, to: current.state,
                                     transition: dispatch.transition, requestID: nil, revision: current.revision, hook: run)
            if let definition = workflows[current.workflow]?.versions[current.version - 1].definition {
                recordHistory(entry, of: current.id, definition: definition)
            }
        }
        return .hookRecorded(HookRecorded(dispatchID: dispatch.id, attempt: command.attempt, status: status, index: index))
    }

    /// Removes a finished dispatch and its place in the instance's queue.
    private mutating func finish(_ id: String, instance: String) {
        dispatches[id] = nil
        guard var queue = dispatchQueues[instance] else { return }
        queue.removeAll { $0 == id }
        dispatchQueues[instance] = queue.isEmpty ? nil : queue
    }

    /// The wait before `nextAttempt`: the hook's exponential backoff plus up to 20 % jitter
    /// derived from the dispatch id (so every replica computes the same time), never more than
    /// `max_backoff`.
    static func retryDelayMillis(_ policy: Workflow.RetryPolicy, dispatchID: String, nextAttempt: Int) -> Int64 {
        let base = policy.delay(beforeAttempt: nextAttempt).milliseconds
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(dispatchID)#\(nextAttempt)".utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let jitter = base / 5 == 0 ? 0 : Int64(hash % UInt64(base / 5 + 1))
        return min(base + jitter, max(base, policy.maxBackoff.milliseconds))
    }
}
