/// What a node's consensus loop answered when asked, with a deadline, whether it still works
/// (`Consensus.liveness(timeoutMillis:)`, behind `GET /livez`). Asking goes through the loop
/// itself, not the status copy `health()` reads, so a loop that is stuck shows here.
public enum Liveness: Sendable, Hashable {
    /// The loop answered within the deadline.
    case responding
    /// The loop has stopped for good: the node shut down, or its storage failed (`reason`
    /// says which). Only a restart brings it back.
    case stopped(reason: String)
    /// No answer within `timeoutMillis`: the loop is blocked (a disk that does not return from
    /// fsync, a turn that never ends) or far behind its queue.
    case unresponsive(timeoutMillis: Int)
}
