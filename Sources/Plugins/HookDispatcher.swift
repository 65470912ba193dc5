import Engine
import Logging
import Metrics
import Synchronization
import Workflow

/// Runs committed hook dispatches on the leader and proposes their results: the half of the
/// hook machinery that lives outside apply. Pending work lives in the engine (`Dispatch`), so
/// this keeps nothing a new leader would need: on start it takes every instance with a
/// pending dispatch from the engine state, then follows the effect stream.
///
/// - One instance's dispatches run one at a time, in the engine's queue order; different
///   instances run in parallel, at most `Settings.runsMax` at once and at most each plugin's
///   `concurrency`.
/// - A dispatch runs when it is the first of its instance's queue and its due time (engine
///   time; later for a retry) has come by `clock`.
/// - Each attempt's result is proposed as `Command.hookResult` through `propose` (fenced on
///   the leader's term by the caller). A run cut short by cancellation (the node was deposed)
///   is not reported: the next leader runs it again with the same dispatch id.
///
/// ```swift
/// let dispatcher = HookDispatcher(catalog: PluginCatalog.discover(in: "plugins"), runner: PluginRunner())
/// try await dispatcher.run(engine: engine, clock: clock, propose: { try await proposer.propose($0) }, logger: logger)
/// ```
public struct HookDispatcher: Sendable {
    /// Limits of the dispatcher.
    public struct Settings: Sendable {
        /// Most hook runs at once, over all plugins. Default 32.
        public var runsMax: Int = 32
        /// Most bytes of each of stdout and stderr carried in a result (its tail): what the log
        /// and the instance history keep of a run. Default 4 KiB.
        public var outputTailBytesMax: Int = 4_096
        /// Tries to propose one result before giving up (the dispatch then runs again). Default 5.
        public var proposeAttemptsMax: Int = 5
        public init() {}
    }

    public let catalog: PluginCatalog
    public let runner: PluginRunner
    public let settings: Settings
    /// The dispatches running now, for `GET /v1/dispatches` (shared with the API).
    public let running: RunningDispatches

    public init(catalog: PluginCatalog, runner: PluginRunner, settings: Settings = Settings(),
                running: RunningDispatches = RunningDispatches()) {
        self.catalog = catalog
        self.runner = runner
        self.settings = settings
        self.running = running
    }

    private enum Event: Sendable {
        case effects(CommittedEffects)
        case effectsEnded((any Error)?)
        case finished(instance: String, dispatchID: String, plugin: String)
        case wake
    }

    /// Runs dispatches until cancelled (the node was deposed or stops). Throws
    /// `EffectStreamError.fellBehind` when it could not keep up with the effect stream (the
    /// caller restarts it; it then starts again from the engine state).
    public func run(engine: ReplicatedEngine, clock: any WallClock,
                    propose: @escaping @Sendable (Command) async throws(ConsensusError) -> Committed,
                    logger: Logger) async throws {
        // Woken only by entries that record or finish dispatches.
        let (state, effects) = engine.subscribe(where: { effect in
            switch effect {
            case .dispatchRecorded, .dispatchRetryScheduled, .dispatchFinished: true
            default: false
            }
        })
        let (events, inbox) = AsyncStream<Event>.makeStream()
        var candidates = Set(state.instancesWithDispatches)
        var busy: [String: String] = [:]
        var perPlugin: [String: Int] = [:]
        var wake: (atMillis: Int64, task: Task<Void, Never>)?
        let metrics = DispatcherMetrics()
        defer {
            wake?.task.cancel()
            running.removeAll()
            metrics.running.record(0)
        }
        logger.info("hook dispatcher started", metadata: ["pending": "\(state.pendingDispatchCount)",
                                                          "plugins": "\(catalog.names.sorted())"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await batch in effects { inbox.yield(.effects(batch)) }
                    inbox.yield(.effectsEnded(nil))
                } catch {
                    inbox.yield(.effectsEnded(error))
                }
            }
            var iterator = events.makeAsyncIterator()
            while true {
                // Start every dispatch that may run now; note when the next one falls due. The
                // copy of the state is dropped before waiting: holding it would make the next
                // apply copy what it changes (copy-on-write).
                do {
                    let now = clock.nowMillis
                    let current = engine.current()
                    var nextDue: Int64?
                    for instance in candidates where busy[instance] == nil {
                        guard let dispatch = current.nextDispatch(of: instance) else {
                            candidates.remove(instance)
                            continue
                        }
                        if dispatch.dueAtMillis > now {
                            nextDue = min(nextDue ?? .max, dispatch.dueAtMillis)
                            continue
                        }
                        let plugin = catalog.plugin(named: dispatch.plugin)
                        guard busy.count < settings.runsMax,
                              perPlugin[dispatch.plugin, default: 0] < (plugin?.concurrency ?? 1) else {
                            continue   // held back by a limit: stays a candidate for the next pass
                        }
                        busy[instance] = dispatch.id
                        perPlugin[dispatch.plugin, default: 0] += 1
                        candidates.remove(instance)
                        running.insert(dispatch.id)
                        let hook = current.hook(of: dispatch)
                        let data = current.instance(id: instance)?.data ?? [:]
                        group.addTask {
                            await self.runOnce(dispatch, hook: hook, plugin: plugin, data: data, clock: clock, propose: propose,
                                               metrics: metrics, logger: logger)
                            inbox.yield(.finished(instance: instance, dispatchID: dispatch.id, plugin: dispatch.plugin))
                        }
                    }
                    metrics.running.record(busy.count)
                    metrics.pending.record(current.pendingDispatchCount)
                    if let nextDue, wake?.atMillis != nextDue {
                        wake?.task.cancel()
                        wake = (nextDue, Task {
                            if (try? await clock.sleep(untilMillis: nextDue)) != nil { inbox.yield(.wake) }
                        })
                    }
                }

                guard let event = await iterator.next() else { return }
                switch event {
                case .effects(let batch):
                    for effect in batch.effects {
                        switch effect {
                        case .dispatchRecorded(_, let instance, _), .dispatchRetryScheduled(_, let instance, _, _),
                             .dispatchFinished(_, let instance, _):
                            candidates.insert(instance)
                        default: break
                        }
                    }
                case .effectsEnded(let error):
                    group.cancelAll()
                    if let error { throw error }
                    return
                case .finished(let instance, let id, let plugin):
                    busy[instance] = nil
                    perPlugin[plugin, default: 1] -= 1
                    running.remove(id)
                    candidates.insert(instance)
                case .wake:
                    wake = nil
                }
            }
        }
    }

    /// Runs one attempt and proposes its result.
    private func runOnce(_ dispatch: Dispatch, hook: Hook?, plugin: Plugin?, data: [String: JSONValue], clock: any WallClock,
                         propose: @Sendable (Command) async throws(ConsensusError) -> Committed,
                         metrics: DispatcherMetrics, logger: Logger) async {
        var result: HookResult
        metrics.started(delayMillis: clock.nowMillis - dispatch.dueAtMillis)
        if let plugin, let hook {
            let timeout = runner.timeout(for: plugin, hookTimeout: hook.timeout)
            let event = HookEvent(workflow: dispatch.workflow, version: dispatch.version, instance: dispatch.instance,
                                  transition: dispatch.transition, from: dispatch.from, to: dispatch.to, data: data,
                                  with: hook.with, dispatchID: dispatch.id, attempt: dispatch.attempt,
                                  deadlineMillis: clock.nowMillis + timeout.milliseconds)
            let run = await runner.run(plugin, event: event, timeout: hook.timeout)
            if case .cancelled = run.outcome { return }
            result = HookResult(dispatchID: dispatch.id, attempt: dispatch.attempt, result: Self.result(run.outcome),
                                durationMillis: run.durationMillis, dataPatch: run.dataPatch)
            (result.stdout, result.stdoutTruncated) = Self.tail(run.stdout, bytesMax: settings.outputTailBytesMax, cut: run.stdoutTruncated)
            (result.stderr, result.stderrTruncated) = Self.tail(run.stderr, bytesMax: settings.outputTailBytesMax, cut: run.stderrTruncated)
            metrics.finished(plugin: plugin.name, result: run.outcome.code, durationMillis: run.durationMillis,
                             retry: dispatch.attempt > 1)
        } else {
            let reason: String
            if hook == nil {
                reason = "the hook is missing from \(dispatch.workflow) v\(dispatch.version)"
            } else if let problem = catalog.problems(named: dispatch.plugin).first {
                reason = "plugin '\(dispatch.plugin)': \(problem)"
            } else {
                reason = "no plugin named '\(dispatch.plugin)' in \(catalog.directory)"
            }
            result = HookResult(dispatchID: dispatch.id, attempt: dispatch.attempt, result: .couldNotStart(reason: reason),
                                durationMillis: 0)
            metrics.finished(plugin: dispatch.plugin, result: "could_not_start", durationMillis: 0, retry: dispatch.attempt > 1)
        }
        // Proposing the same result twice is harmless (the first one for an attempt wins), so
        // a proposal whose fate is unknown is simply proposed again.
        for attempt in 1...settings.proposeAttemptsMax {
            do {
                _ = try await propose(.hookResult(result))
                return
            } catch {
                if case .deposed = error { return }
                if Task.isCancelled { return }
                logger.warning("proposing a hook result failed; retrying",
                               metadata: ["dispatch": "\(dispatch.id)", "error": "\(error)", "try": "\(attempt)"])
                try? await Task.sleep(for: .milliseconds(100 * attempt))
            }
        }
        logger.error("gave up proposing a hook result; the dispatch will run again",
                     metadata: ["dispatch": "\(dispatch.id)"])
    }

    static func result(_ outcome: HookOutcome) -> HookResult.Result {
        switch outcome {
        case .succeeded: .succeeded
        case .retryableFailure: .retryableFailure
        case .failed(let code): .failed(exitCode: code)
        case .signalled(let signal): .signalled(signal: signal)
        case .timedOut: .timedOut
        case .couldNotStart(let reason): .couldNotStart(reason: reason)
        case .cancelled: .couldNotStart(reason: "cancelled")
        }
    }

    /// The last `bytesMax` bytes of `text` (on a character boundary), and whether anything was cut.
    static func tail(_ text: String, bytesMax: Int, cut: Bool) -> (String, Bool) {
        let utf8 = text.utf8
        guard utf8.count > bytesMax else { return (text, cut) }
        var start = utf8.index(utf8.endIndex, offsetBy: -bytesMax)
        while start < utf8.endIndex, UTF8.isContinuation(utf8[start]) { start = utf8.index(after: start) }
        return (String(text[start...]), true)
    }
}

/// The dispatch ids running now on this node.
public final class RunningDispatches: Sendable {
    private let ids = Mutex<Set<String>>([])

    public init() {}

    /// A copy of the set.
    public var current: Set<String> { ids.withLock { $0 } }

    func insert(_ id: String) { _ = ids.withLock { $0.insert(id) } }
    func remove(_ id: String) { _ = ids.withLock { $0.remove(id) } }
    func removeAll() { ids.withLock { $0.removeAll() } }
}

/// The dispatcher's metrics (swift-metrics).
struct DispatcherMetrics: Sendable {
    let running = Gauge(label: "orchestrator_hook_running")
    let pending = Gauge(label: "orchestrator_hook_pending")
    /// From a dispatch's due time (the leader's stamp on the entry that recorded it, or its
    /// retry time) to its attempt starting: the dispatcher's own latency.
    let startDelay = Metrics.Timer(label: "orchestrator_hook_start_delay_seconds")

    func started(delayMillis: Int64) {
        startDelay.recordMilliseconds(max(0, delayMillis))
    }

    func finished(plugin: String, result: String, durationMillis: Int64, retry: Bool) {
        Counter(label: "orchestrator_hook_runs_total", dimensions: [("plugin", plugin), ("result", result)]).increment()
        if result != "succeeded" {
            Counter(label: "orchestrator_hook_failures_total", dimensions: [("plugin", plugin)]).increment()
        }
        if retry { Counter(label: "orchestrator_hook_retries_total", dimensions: [("plugin", plugin)]).increment() }
        Metrics.Timer(label: "orchestrator_hook_duration_seconds", dimensions: [("plugin", plugin)])
            .recordMilliseconds(durationMillis)
    }
}
