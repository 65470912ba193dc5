import APIModels
import API
import Engine

/// A leader service: while the cluster has no usable admin token — at its first start, or
/// after every admin token was revoked or expired — proposes this node's bootstrap admin
/// token (its digest), once per term. Apply creates it only if there is still none, so when
/// several nodes were given bootstrap files, the first one committed wins and the rest change
/// nothing; a bootstrap token that was revoked is not made again (its id is taken).
struct TokenBootstrapService: LeaderService {
    let name = "token-bootstrap"
    let token: APIToken

    func run(as leader: LeaderContext) async throws {
        guard leader.engine.usableAdminToken(atMillis: leader.clock.nowMillis) == nil else { return }
        let command = Command.createToken(CreateToken(id: token.id, role: .admin, name: "bootstrap", digest: token.digest,
                                                      bootstrap: true))
        let committed = try await leader.proposer.propose(command)
        switch committed.outcome {
        case .tokenChanged(let changed) where changed.changed:
            leader.logger.info("authentication is on: created the bootstrap admin token",
                               metadata: ["token": .string(token.id), "index": "\(committed.index)"])
        case .rejected(let rejection):
            let advice = "the cluster has no usable admin token: put a new token in the bootstrap file (remove it and restart this node to have one made)"
            leader.logger.warning("the bootstrap token \(token.id) was not created (\(rejection.message)); \(advice)")
        default:
            break
        }
    }
}
