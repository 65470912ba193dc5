import Foundation
import Raft

/// What other threads ask of a node's loop (``NodeLoop/post(_:)``).
enum NodeEvent: Sendable {
    /// Append `data`; with `fence`, only while this node leads in exactly that term.
    case propose([UInt8], fence: Term?, ProposalReply)
    case read(CheckedContinuation<LogIndex, any Error>)
    case membership(ConfigChange, ProposalReply)
    case transfer(NodeID, CheckedContinuation<Void, any Error>)
    case shutdown(CheckedContinuation<Void, Never>)
    /// Answer with the status as the loop has it now (nil once it has stopped): the liveness
    /// check, so it must be cheap and never wait.
    case status(@Sendable (NodeStatus?) -> Void)
    /// A snapshot encoded and written off the loop (or why it failed), with the time it started.
    case snapshotWritten(Result<PreparedSnapshot, any Error>, startedNanos: UInt64)
}
