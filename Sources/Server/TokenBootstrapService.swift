import APIModels
import API
import Engine

/// A leader service: while the cluster holds no API token, proposes this node's bootstrap
/// admin token (its digest), once per term. Apply creates it only if the cluster still holds
/// none, so when several nodes were given bootstrap files, the first one committed wins and
/// the rest change nothing.
struct TokenBootstrapService: LeaderService {
    let name = "token-bootstrap"
    let token: APIToken

    func run(as leader: LeaderContext) async throws {
        guard !leader.engine.authenticationEnabled else { return }
        let command = Command.createToken(CreateToken(id: token.id, role: .admin, name: "bootstrap", digest: token.digest,
                                                      bootstrap: true))
        let committed = try await leader.proposer.propose(command)
        if case .tokenChanged(let changed) = committed.outcome, changed.changed {
            leader.logger.info("authentication is on: created the bootstrap admin token",
                               metadata: ["token": .string(token.id), "index": "\(committed.index)"])
        }
    }
}
