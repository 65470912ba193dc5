import Engine
import Scheduler

/// A leader service: runs the cron scheduler (triggers and state timeouts) for the term.
struct SchedulerService: LeaderService {
    let name = "scheduler"

    func run(as leader: LeaderContext) async throws {
        let proposer = leader.proposer
        try await CronScheduler().run(engine: leader.engine, clock: leader.clock,
                                      propose: { (command: Command) async throws(ConsensusError) -> Committed in
                                          try await proposer.propose(command)
                                      },
                                      logger: leader.logger)
    }
}
