import Engine
import Logging
import Metrics

/// Removes finished instances whose retention ran out, on the leader: every pass asks the
/// engine for candidates (oldest finished first, `ReplicatedEngine.purgeCandidates`) and
/// proposes them in `purgeInstances` entries of up to `PurgeInstances.idsMax`. Apply checks
/// each instance again from the entry alone, so a late or repeated purge removes nothing
/// twice and never something still in use; the sweeper keeps nothing a new leader needs.
///
/// ```swift
/// try await RetentionSweeper(settings: .init(defaultRetentionMillis: 7 * 86_400_000))
///     .run(engine: engine, clock: clock, propose: { try await proposer.propose($0) }, logger: logger)
/// ```
public struct RetentionSweeper: Sendable {
    public struct Settings: Sendable {
        /// Retention for workflows that declare none; nil: their instances are kept.
        public var defaultRetentionMillis: Int64?
        /// Pause between passes. Default 10 s: an instance goes at most this long after its time.
        public var intervalMillis: Int64 = 10_000
        public init(defaultRetentionMillis: Int64? = nil) {
            self.defaultRetentionMillis = defaultRetentionMillis
        }
    }

    public let settings: Settings

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Sweeps until cancelled (the node was deposed or stops).
    public func run(engine: ReplicatedEngine, clock: any WallClock,
                    propose: @escaping @Sendable (Command) async throws(ConsensusError) -> Committed,
                    logger: Logger) async throws {
        let purgedCounter = Counter(label: "orchestrator_instances_purged_total")
        while !Task.isCancelled {
            var purged = 0
            while !Task.isCancelled {
                let ids = engine.purgeCandidates(nowMillis: clock.nowMillis, defaultRetentionMillis: settings.defaultRetentionMillis,
                                                 limit: PurgeInstances.idsMax)
                if ids.isEmpty { break }
                do {
                    let committed = try await propose(.purgeInstances(PurgeInstances(ids: ids,
                                                                                     defaultRetentionMillis: settings.defaultRetentionMillis)))
                    guard case .instancesPurged(let result) = committed.outcome, result.purged > 0 else { break }
                    purged += result.purged
                    purgedCounter.increment(by: result.purged)
                } catch .deposed(let term, let current) {
                    throw ConsensusError.deposed(term: term, currentTerm: current)
                } catch {
                    logger.warning("purging finished instances failed; retrying on the next pass", metadata: ["error": "\(error)"])
                    break
                }
            }
            if purged > 0 { logger.info("purged finished instances past their retention", metadata: ["purged": "\(purged)"]) }
            try await clock.sleep(untilMillis: clock.nowMillis + settings.intervalMillis)
        }
    }
}
