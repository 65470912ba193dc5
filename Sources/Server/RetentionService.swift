import Engine
import Scheduler

/// A leader service: purges finished instances past their retention for the term.
struct RetentionService: LeaderService {
    let name = "retention"
    /// The cluster default for workflows without `retention` (nil: kept for good).
    let defaultRetentionMillis: Int64?

    func run(as leader: LeaderContext) async throws {
        let proposer = leader.proposer
        try await RetentionSweeper(settings: .init(defaultRetentionMillis: defaultRetentionMillis))
            .run(engine: leader.engine, clock: leader.clock,
                 propose: { (command: Command) async throws(ConsensusError) -> Committed in try await proposer.propose(command) },
                 logger: leader.logger)
    }
}
