import Engine
import Plugins

/// A leader service: runs the hook dispatcher for the term, with the plugins found in the
/// plugins directory when the term began (so a plugin added while the node leads is picked up
/// at the next term, like a changed workflow file).
struct HookDispatcherService: LeaderService {
    let name = "hook-dispatcher"
    let pluginsDirectory: String
    let runner: PluginRunner
    let running: RunningDispatches

    func run(as leader: LeaderContext) async throws {
        let catalog = PluginCatalog.discover(in: pluginsDirectory)
        for note in catalog.notes { leader.logger.info("\(note)") }
        for problem in catalog.problems { leader.logger.warning("plugin not usable: \(problem)") }
        let dispatcher = HookDispatcher(catalog: catalog, runner: runner, running: running)
        let proposer = leader.proposer
        try await dispatcher.run(engine: leader.engine, clock: leader.clock,
                                 propose: { (command: Command) async throws(ConsensusError) -> Committed in
                                     try await proposer.propose(command)
                                 },
                                 logger: leader.logger)
    }
}
