import APIModels
import Cron
import Engine
import Foundation
import Workflow

/// The answers (docs/api.md): each view builds the answer's model from the engine's value
/// and returns the model's JSON tree for `JSONResponse`. The models (APIModels) are the one
/// definition of every wire shape; the client decodes the same structs.
enum Views {
    static func health(_ health: NodeHealth) -> JSONValue {
        health.json
    }

    /// The cluster with its members sorted by id.
    static func cluster(_ status: ClusterStatus) -> JSONValue {
        var sorted = status
        sorted.members.sort { $0.id < $1.id }
        return sorted.json
    }

    /// An instance; `retention` gives its workflow's retention (nil: kept for good).
    static func instance(_ instance: Instance, retention: (String) -> Int64?) -> JSONValue {
        info(instance, retention: retention).json
    }

    /// `GET /v1/instances`: one page; the cursor is the last instance's position, as a string.
    static func instanceList(_ page: InstancePage, retention: (String) -> Int64?) -> JSONValue {
        InstanceList(instances: page.instances.map { info($0, retention: retention) },
                     nextCursor: page.nextCursor.map { String($0) }).json
    }

    static func started(_ started: Engine.InstanceStarted) -> JSONValue {
        APIModels.InstanceStarted(id: started.id, workflow: started.workflow, version: started.version,
                                  state: started.state, index: started.index).json
    }

    static func transitioned(_ moved: Transitioned) -> JSONValue {
        TransitionApplied(id: moved.id, transition: moved.transition, from: moved.from, to: moved.to, state: moved.state,
                          revision: moved.revision, index: moved.index).json
    }

    /// `tokenName` names the actor of an entry by its token id.
    static func history(id: String, _ page: HistoryPage, tokenName: (String) -> String?) -> JSONValue {
        let entries = page.entries.map { entry in
            HistoryRecord(type: entry.kind.rawValue, index: entry.index, requestID: entry.requestID, from: entry.from,
                          to: entry.to, transition: entry.transition, revision: entry.revision,
                          at: Timestamp.rfc3339(millis: entry.timeMillis), hook: entry.hook.map(hookRun), cause: entry.cause,
                          actor: entry.actor.map { ActorInfo(token: $0, name: tokenName($0)) })
        }
        return APIModels.InstanceHistory(id: id, entries: entries, dropped: page.droppedCount,
                                         retainedFromIndex: page.retainedFromIndex, nextAfter: page.nextAfter).json
    }

    static func hookRun(_ run: HookRunRecord) -> HookRunInfo {
        HookRunInfo(dispatchID: run.dispatchID, plugin: run.plugin, stage: run.stage.key, attempt: run.attempt,
                    result: run.result, exitCode: run.exitCode.map(Int.init), signal: run.signal.map(Int.init),
                    durationMillis: run.durationMillis, stdout: run.stdout, stderr: run.stderr,
                    stdoutTruncated: run.stdoutTruncated, stderrTruncated: run.stderrTruncated, note: run.note, final: run.final)
    }

    /// `GET /v1/dispatches`: pending ones (marked `running` when this node's dispatcher runs
    /// them) and the recent failed ones, filtered by `state`.
    static func dispatches(pending: [Dispatch], failed: [FailedDispatch], running: Set<String>, state: String?) -> JSONValue {
        func info(_ dispatch: Dispatch, state: String, result: String?) -> DispatchInfo {
            DispatchInfo(id: dispatch.id, instance: dispatch.instance, workflow: dispatch.workflow, version: dispatch.version,
                         transition: dispatch.transition, plugin: dispatch.plugin, stage: dispatch.stage.key, state: state,
                         attempt: dispatch.attempt,
                         dueAt: state == "failed" ? nil : Timestamp.rfc3339(millis: dispatch.dueAtMillis),
                         result: result, recordedIndex: dispatch.recordedIndex)
        }
        var list: [DispatchInfo] = pending.map { info($0, state: running.contains($0.id) ? "running" : "pending", result: nil) }
        list += failed.map { info($0.dispatch, state: "failed", result: $0.result) }
        if let state { list = list.filter { $0.state == state } }
        return DispatchList(dispatches: list).json
    }

    /// `GET /v1/triggers`: each trigger's record with what its definition says it does and
    /// its next fire time after `nowMillis` (and after its last slot).
    static func triggers(_ states: [TriggerState], definitions: [String: WorkflowDefinition?], nowMillis: Int64) -> JSONValue {
        var schedules: [String: CronSchedule?] = [:]
        func schedule(_ cron: String, _ zone: String) -> CronSchedule? {
            let key = cron + "\u{0}" + zone
            if let known = schedules[key] { return known }
            let made = try? CronSchedule(cron, timeZone: zone)
            schedules[key] = made
            return made
        }
        let list: [TriggerInfo] = states.compactMap { state in
            guard let definition = definitions[state.workflow] ?? nil,
                  let trigger = definition.triggers.first(where: { $0.name == state.name }) else { return nil }
            let compiled = schedule(state.cron, state.timezone)
            let local = { (millis: Int64) in compiled.map { CronTime.iso8601(millis, in: $0.zone) } ?? Timestamp.rfc3339(millis: millis) }
            let next = compiled?.next(after: max(nowMillis, state.slotsAfterMillis), anchorMillis: state.anchorMillis)
            var transition: String?
            var whereState: String?
            if case .transition(let name, let state) = trigger.action { (transition, whereState) = (name, state) }
            return TriggerInfo(workflow: state.workflow, name: state.name, cron: state.cron, timezone: state.timezone,
                               action: transition == nil ? "start" : "transition", transition: transition, whereState: whereState,
                               concurrency: trigger.concurrency.rawValue, misfire: trigger.misfire.rawValue,
                               maxCatchup: trigger.maxCatchup, anchorAt: Timestamp.rfc3339(millis: state.anchorMillis),
                               nextFireAt: next.map(local), lastSlotAt: state.lastSlotMillis.map(local),
                               lastFiredIndex: state.lastFiredIndex, lastInstance: state.lastInstance,
                               fired: state.fired, skipped: state.skipped, missed: state.missed)
        }
        return TriggerList(triggers: list).json
    }

    /// `GET /v1/timeouts`: the first armed timeouts and how many match.
    static func timeouts(_ timers: [StateTimer], total: Int) -> JSONValue {
        TimeoutList(timeouts: timers.map { timer in
            TimeoutInfo(instance: timer.instance, workflow: timer.workflow, state: timer.state, revision: timer.revision,
                        dueAt: Timestamp.rfc3339(millis: timer.dueAtMillis), transition: timer.transition,
                        afterMillis: timer.afterMillis)
        }, total: total).json
    }

    /// `GET /v1/stats`: each workflow's counts by state, every state of its latest version
    /// listed (0 when empty), sorted by name.
    static func stats(node: UInt64, appliedIndex: UInt64, counts: [String: [String: Int]],
                      workflows: [WorkflowSummary]) -> JSONValue {
        var total = 0
        let list = workflows.sorted { $0.name < $1.name }.map { summary in
            let definition = summary.latest.definition
            var states = counts[summary.name] ?? [:]
            for state in definition.states where states[state.name] == nil { states[state.name] = 0 }
            let sum = states.values.reduce(0, +)
            total += sum
            let finished = states.reduce(0) { $0 + (definition.isFinal($1.key) ? $1.value : 0) }
            return WorkflowStats(name: summary.name, version: summary.latest.version, total: sum, finished: finished, states: states)
        }
        return StatsInfo(node: node, appliedIndex: appliedIndex, total: total, workflows: list).json
    }

    static func registered(_ registered: WorkflowRegistered) -> JSONValue {
        WorkflowApplied(name: registered.name, version: registered.version, hash: registered.hash,
                        created: registered.created, index: registered.index).json
    }

    /// A workflow with its latest definition's outline and every version; `full` adds the
    /// whole latest definition (hooks, timeouts, triggers) as `definition`.
    static func workflow(_ summary: WorkflowSummary, full: Bool) -> JSONValue {
        info(summary, full: full).json
    }

    /// `GET /v1/workflows`: every workflow's outline, without `definition`.
    static func workflowList(_ summaries: [WorkflowSummary]) -> JSONValue {
        WorkflowList(workflows: summaries.map { info($0, full: false) }).json
    }

    static func diagnostic(_ diagnostic: Diagnostic) -> JSONValue {
        DiagnosticInfo(file: diagnostic.file, line: diagnostic.line, column: diagnostic.column,
                       severity: diagnostic.severity.rawValue, message: diagnostic.message).json
    }

    /// The body of an error answer.
    static func error(code: String, message: String, details: [String: JSONValue]) -> JSONValue {
        ErrorEnvelope(code: code, message: message, details: details).json
    }

    // MARK: Models of engine values

    private static func info(_ instance: Instance, retention: (String) -> Int64?) -> InstanceInfo {
        let purgeAt = instance.isFinal ? retention(instance.workflow).map { instance.updatedAtMillis + $0 } : nil
        return InstanceInfo(id: instance.id, workflow: instance.workflow, version: instance.version, state: instance.state,
                            data: instance.data, revision: instance.revision, final: instance.isFinal,
                            createdAt: Timestamp.rfc3339(millis: instance.createdAtMillis),
                            updatedAt: Timestamp.rfc3339(millis: instance.updatedAtMillis),
                            purgeAt: purgeAt.map { Timestamp.rfc3339(millis: $0) })
    }

    private static func info(_ summary: WorkflowSummary, full: Bool) -> WorkflowInfo {
        let latest = summary.latest
        let definition = latest.definition
        let states = definition.states.map { WorkflowStateInfo(name: $0.name, final: $0.isFinal) }
        let transitions = definition.transitions.map { transition in
            let from: [String] = switch transition.from {
            case .anyNonFinal: ["*"]
            case .states(let names): names
            }
            return WorkflowTransitionInfo(name: transition.name, from: from, to: transition.to)
        }
        let versions = summary.versions.map { version in
            WorkflowVersionInfo(version: version.version, hash: version.hash, index: version.registeredIndex,
                                registeredAt: Timestamp.rfc3339(millis: version.registeredAtMillis))
        }
        // The definition's own Codable encoding is its wire shape (docs/api.md).
        var whole: JSONValue?
        if full, let encoded = try? JSONEncoder().encode(definition) {
            whole = try? JSONBody.parse(Array(encoded))
        }
        return WorkflowInfo(name: summary.name, description: definition.description, version: latest.version,
                            hash: latest.hash, initial: definition.initial, states: states, transitions: transitions,
                            versions: versions, definition: whole)
    }

    /// A token as `GET /v1/tokens` lists it (`secret`: the whole token, only when just created).
    static func token(_ record: TokenRecord, index: UInt64? = nil, nowMillis: Int64, secret: String? = nil) -> TokenInfo {
        let status = record.revokedAtMillis != nil ? "revoked" : record.isUsable(atMillis: nowMillis) ? "active" : "expired"
        return TokenInfo(id: record.id, name: record.name, role: record.role.name, status: status,
                         createdAt: Timestamp.rfc3339(millis: record.createdAtMillis), createdBy: record.createdBy,
                         expiresAt: record.expiresAtMillis.map(Timestamp.rfc3339(millis:)),
                         revokedAt: record.revokedAtMillis.map(Timestamp.rfc3339(millis:)),
                         index: index ?? record.createdIndex, token: secret)
    }
}
