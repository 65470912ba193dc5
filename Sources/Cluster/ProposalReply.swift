/// Who waits for a proposal's fate: an async caller's continuation, or a callback.
///
/// A callback runs on the node loop's thread, at the moment the entry is applied (or the
/// proposal fails), so it must be short and must not block: the HTTP API's transition fast
/// path uses it to hand the answer straight to the connection's event loop, without waking a
/// task on the cooperative pool in between (docs/performance.md, "One hop fewer each way").
public enum ProposalReply: Sendable {
    case continuation(CheckedContinuation<Proposed, any Error>)
    case callback(@Sendable (Result<Proposed, any Error>) -> Void)

    func resume(returning proposed: Proposed) {
        switch self {
        case .continuation(let continuation): continuation.resume(returning: proposed)
        case .callback(let callback): callback(.success(proposed))
        }
    }

    func resume(throwing error: any Error) {
        switch self {
        case .continuation(let continuation): continuation.resume(throwing: error)
        case .callback(let callback): callback(.failure(error))
        }
    }
}
