import Engine
import Metrics
import Synchronization

/// The engine's series on `GET /metrics` (docs/operations.md, "Metrics"): transitions counted
/// as this node applies them, and facts sampled when the endpoint is scraped. Labels are
/// bounded: workflow and state names come from the registered definitions (the engine's
/// `workflowsMax`), never from instance ids.
///
/// - `orchestrator_transitions_total{node, workflow, result}`: `result="applied"` for every
///   instance move this node applied — from the API, a hook's follow-up, a cron trigger or a
///   state timeout; `result="rejected"` for a transition the workflow's rules refused (not
///   allowed from the current state, wrong `expect`, a final state, an unknown transition or
///   state) and for a cron trigger's matching instance that refused its transition. Every
///   replica applies the same entries, so each node counts the same: aggregate with `max`,
///   not `sum`.
/// - `orchestrator_instances{node, workflow, state}`: instances per state, sampled at scrape;
///   every state of a workflow's latest version is reported, 0 when empty.
/// - `orchestrator_history_entries_dropped{node}`: history entries the per-instance limits dropped.
/// - `orchestrator_build_info{version}`: always 1; the label says what runs.
final class EngineMetrics: Sendable {
    private struct Pair: Hashable {
        var workflow: String
        var state: String
    }

    private struct TransitionKey: Hashable {
        var workflow: String
        var result: String
    }

    private let node: String
    private let engine: ReplicatedEngine
    private let historyDropped: Gauge
    private let buildInfo: Gauge
    /// Counters by (workflow, result), made once each: apply runs on the node loop.
    private let transitions = Mutex<[TransitionKey: Counter]>([:])
    /// Gauges by (workflow, state), and the pairs the last scrape reported: a pair that is
    /// gone (a workflow's new version dropped a state) reads 0 rather than its last count.
    private let instances = Mutex<(gauges: [Pair: Gauge], reported: Set<Pair>)>(([:], []))

    init(node: UInt64, engine: ReplicatedEngine) {
        self.node = "\(node)"
        self.engine = engine
        historyDropped = Gauge(label: "orchestrator_history_entries_dropped", dimensions: [("node", self.node)])
        buildInfo = Gauge(label: "orchestrator_build_info", dimensions: [("version", BuildInfo.version)])
        buildInfo.record(1)
    }

    /// Counts what applying one entry did. Called on the node loop, after the engine applied it.
    func count(_ applied: Applied) {
        for effect in applied.effects {
            if case .instanceMoved(_, let workflow, _, _, _, _) = effect { countTransitions(workflow, "applied") }
        }
        switch applied.outcome {
        case .rejected(let rejection):
            // A refused command changed nothing, so the instance it named still tells its workflow.
            if let id = rejection.refusedTransitionInstance, let workflow = engine.instance(id: id)?.workflow {
                countTransitions(workflow, "rejected")
            }
        case .cronFired(let fired):
            for slot in fired.results {
                if case .fired(_, _, let notMoved) = slot.status, notMoved > 0 {
                    countTransitions(slot.workflow, "rejected", by: notMoved)
                }
            }
        default:
            break
        }
    }

    private func countTransitions(_ workflow: String, _ result: String, by amount: Int = 1) {
        let counter = transitions.withLock { counters in
            let key = TransitionKey(workflow: workflow, result: result)
            if let counter = counters[key] { return counter }
            let counter = Counter(label: "orchestrator_transitions_total",
                                  dimensions: [("node", node), ("workflow", workflow), ("result", result)])
            counters[key] = counter
            return counter
        }
        counter.increment(by: Int64(amount))
    }

    /// Records the sampled gauges; called just before the registry is written out.
    func sample() {
        historyDropped.record(engine.historyEntriesDropped)
        var counts: [Pair: Int] = [:]
        for summary in engine.workflowSummaries() {
            for state in summary.latest.definition.states { counts[Pair(workflow: summary.name, state: state.name)] = 0 }
        }
        for (workflow, states) in engine.instanceCounts() {
            for (state, count) in states { counts[Pair(workflow: workflow, state: state)] = count }
        }
        instances.withLock { instances in
            for gone in instances.reported where counts[gone] == nil { counts[gone] = 0 }
            for (pair, count) in counts {
                let gauge = instances.gauges[pair] ?? Gauge(label: "orchestrator_instances",
                                                            dimensions: [("node", node), ("workflow", pair.workflow),
                                                                         ("state", pair.state)])
                instances.gauges[pair] = gauge
                gauge.record(count)
            }
            instances.reported = Set(counts.filter { $0.value > 0 }.keys)
        }
    }
}

extension Rejection {
    /// The instance of a transition the workflow's rules refused; nil for every other
    /// rejection (malformed commands, starts, registrations, limits, an unknown instance).
    var refusedTransitionInstance: String? {
        switch self {
        case .unknownTransition(let instance, _, _), .unknownState(let instance, _, _),
             .transitionNotAllowed(let instance, _, _, _, _), .ambiguousTransition(let instance, _, _, _),
             .expectationFailed(let instance, _, _):
            return instance
        case .instanceFinal(let id, _):
            return id
        default:
            return nil
        }
    }
}
