import Engine
import Foundation
import Workflow

/// A leader service: when this node starts leading a term, registers every definition in
/// the workflows directory whose content hash differs from the latest registered version,
/// through Raft (DESIGN.md: registration is a replicated command, so every replica pins the
/// same version). An unchanged file is never proposed again, however often leadership moves.
///
/// A node without the directory starts with no workflows and says so once per term; a
/// definition that does not load is logged with its file:line:column and skipped; a failed
/// proposal makes the service throw, so the runtime retries it after a backoff.
struct WorkflowRegistrar: LeaderService {
    let name = "workflow-registrar"
    /// The directory of `*.yaml` definitions.
    let directory: String
    /// The plugins directory definitions are checked against.
    let pluginsDirectory: String

    func run(as leader: LeaderContext) async throws {
        guard FileManager.default.fileExists(atPath: directory) else {
            leader.logger.info("no workflows directory; starting with none (register with PUT /v1/workflows/{name} or `orchestrator workflows apply`)",
                               metadata: ["directory": "\(directory)"])
            return
        }
        let files = WorkflowLoader.loadFiles(at: [directory],
                                             pluginNames: OrchestratorServer.pluginNames(in: pluginsDirectory))
        for diagnostic in files.diagnostics where diagnostic.isError {
            leader.logger.error("workflow not registered: \(diagnostic)")
        }
        var failures: [String] = []
        for loaded in files.workflows {
            try Task.checkCancellation()
            let definition = loaded.definition
            if leader.engine.workflow(named: definition.name)?.latest.hash == definition.contentHash { continue }
            do {
                let committed = try await leader.proposer.propose(.registerWorkflow(RegisterWorkflow(definition: definition)))
                switch committed.outcome {
                case .workflowRegistered(let registered):
                    leader.logger.info("registered workflow", metadata: ["workflow": "\(definition.name)",
                                                                         "version": "\(registered.version)",
                                                                         "index": "\(committed.index)"])
                case .rejected(let rejection):
                    leader.logger.error("workflow refused by the engine: \(rejection.message)",
                                        metadata: ["workflow": "\(definition.name)", "code": "\(rejection.code)"])
                default:
                    leader.logger.error("unexpected outcome registering a workflow",
                                        metadata: ["workflow": "\(definition.name)", "outcome": "\(committed.outcome)"])
                }
            } catch .deposed(let term, let current) {
                throw ConsensusError.deposed(term: term, currentTerm: current)
            } catch {
                leader.logger.warning("registering \(definition.name) failed; will retry: \(error)")
                failures.append(definition.name)
            }
        }
        if !failures.isEmpty { throw RegistrationIncomplete(workflows: failures) }
    }
}

/// Some definitions could not be proposed this time; the runtime retries the service.
struct RegistrationIncomplete: Error, CustomStringConvertible {
    var workflows: [String]
    var description: String { "not yet registered: \(workflows.joined(separator: ", "))" }
}
