import Engine
import Logging
import ServiceLifecycle
import Synchronization

/// The runtime of leader services: watches this node's leadership and, for each term it
/// leads, runs every registered ``LeaderService`` in one task tree with a ``LeaderContext``
/// for that term; cancels the tree when the node is deposed, stops or shuts down.
///
/// - A service that returns is done for the term; one that throws is restarted after
///   `restartBackoffMillis` (a `deposed` error ends it: the term is over).
/// - Stopping is bounded: after cancelling, the runtime waits at most `stopGraceMillis` for
///   the services to end, then logs which did not and moves on. Their proposals are fenced
///   on the old term, so a straggler can no longer change anything.
///
/// ```swift
/// let services = LeaderServices(consensus: consensus, engine: engine, clock: SystemClock(),
///                               services: [WorkflowRegistrar(directory: "workflows", plugins: plugins)], logger: logger)
/// try await services.run()        // a swift-service-lifecycle Service
/// ```
public final class LeaderServices: Service, Sendable {
    /// Settings with defaults.
    public struct Settings: Sendable {
        /// Wait before restarting a service that threw.
        public var restartBackoffMillis: Int = 1_000
        /// Longest wait for the services of a term to end after cancelling them.
        public var stopGraceMillis: Int = 5_000
        public init() {}
    }

    /// What the runtime is doing, for health reports and tests.
    public enum Phase: Sendable, Hashable {
        /// Not leading: nothing runs.
        case idle
        /// Running the services for `term`.
        case running(term: UInt64)
    }

    let consensus: any Consensus
    let engine: ReplicatedEngine
    let clock: any WallClock
    let services: [any LeaderService]
    let settings: Settings
    let logger: Logger
    private let phaseBox = Mutex<(phase: Phase, starts: Int)>((.idle, 0))

    public init(consensus: any Consensus, engine: ReplicatedEngine, clock: any WallClock, services: [any LeaderService],
                settings: Settings = Settings(), logger: Logger) {
        self.consensus = consensus
        self.engine = engine
        self.clock = clock
        self.services = services
        self.settings = settings
        self.logger = logger
    }

    /// The current phase.
    public var phase: Phase { phaseBox.withLock { $0.phase } }
    /// How many terms the services were started for so far.
    public var termsStarted: Int { phaseBox.withLock { $0.starts } }

    /// Follows leadership until the node stops or a graceful shutdown begins.
    public func run() async throws {
        var current: (term: UInt64, task: Task<Void, Never>)?
        for await leadership in consensus.leadership().cancelOnGracefulShutdown() {
            if case .leading(let term, let since) = leadership {
                if current?.term == term { continue }
                if let running = current { await stop(running.task, term: running.term) }
                current = (term, start(term: term, sinceIndex: since))
            } else if let running = current {
                await stop(running.task, term: running.term)
                current = nil
            }
            if leadership == .stopped { break }
        }
        if let running = current { await stop(running.task, term: running.term) }
    }

    private func start(term: UInt64, sinceIndex: UInt64) -> Task<Void, Never> {
        phaseBox.withLock {
            $0.phase = .running(term: term)
            $0.starts += 1
        }
        logger.info("leader services starting", metadata: ["term": "\(term)", "since_index": "\(sinceIndex)",
                                                           "services": "\(services.map(\.name))"])
        let services = self.services
        return Task {
            await withTaskGroup(of: Void.self) { group in
                for service in services {
                    var serviceLogger = logger
                    serviceLogger[metadataKey: "service"] = "\(service.name)"
                    serviceLogger[metadataKey: "term"] = "\(term)"
                    let context = LeaderContext(term: term, sinceIndex: sinceIndex, engine: engine, clock: clock,
                                                proposer: FencedProposer(consensus: consensus, term: term),
                                                logger: serviceLogger)
                    group.addTask { await self.supervise(service, context) }
                }
            }
        }
    }

    /// Runs `service` until it returns, is cancelled or its term ends; restarts it after a
    /// failure.
    private func supervise(_ service: any LeaderService, _ context: LeaderContext) async {
        while !Task.isCancelled {
            do {
                try await service.run(as: context)
                return
            } catch is CancellationError {
                return
            } catch ConsensusError.deposed {
                return
            } catch {
                if Task.isCancelled { return }
                context.logger.warning("leader service failed; restarting",
                                       metadata: ["error": "\(error)", "backoff_ms": "\(settings.restartBackoffMillis)"])
                try? await Task.sleep(for: .milliseconds(settings.restartBackoffMillis))
            }
        }
    }

    private func stop(_ task: Task<Void, Never>, term: UInt64) async {
        task.cancel()
        let ended = await Self.wait(for: task, upToMillis: settings.stopGraceMillis)
        phaseBox.withLock { $0.phase = .idle }
        if ended {
            logger.info("leader services stopped", metadata: ["term": "\(term)"])
        } else {
            logger.error("leader services did not stop in time; their proposals are fenced on the old term",
                         metadata: ["term": "\(term)", "grace_ms": "\(settings.stopGraceMillis)"])
        }
    }

    /// Whether `task` ended within `millis`. Does not wait for it beyond that.
    static func wait(for task: Task<Void, Never>, upToMillis millis: Int) async -> Bool {
        let gate = OnceGate()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            gate.arm(continuation)
            let timer = Task {
                try? await Task.sleep(for: .milliseconds(millis))
                gate.resume(returning: false)
            }
            Task {
                await task.value
                timer.cancel()
                gate.resume(returning: true)
            }
        }
    }
}

/// A continuation resumed once, by whichever of several tasks gets there first.
private final class OnceGate: Sendable {
    private let waiting = Mutex<CheckedContinuation<Bool, Never>?>(nil)

    func arm(_ continuation: CheckedContinuation<Bool, Never>) {
        waiting.withLock { $0 = continuation }
    }

    func resume(returning value: Bool) {
        waiting.withLock { $0.take() }?.resume(returning: value)
    }
}
