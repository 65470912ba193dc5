/// The safety or liveness property a failed run broke.
public enum Invariant: String, Sendable, Hashable {
    /// At most one leader per term, over the whole history.
    case electionSafety = "election safety"
    /// Two logs holding an entry with the same index and term hold identical prefixes.
    case logMatching = "log matching"
    /// Every committed entry is in the log of every leader of a later term.
    case leaderCompleteness = "leader completeness"
    /// Applied sequences are prefixes of one another; apply is contiguous.
    case stateMachineSafety = "state-machine safety"
    /// A committed entry never disappears or changes, across crashes and restarts; a quorum
    /// holds it durably when it commits.
    case durability = "durability"
    /// At most one unapplied membership change; views of the membership agree with the
    /// committed log; a leader changes membership only after committing in its own term.
    case membership = "membership sanity"
    /// A ReadIndex read point never precedes a commit that happened before the request.
    case linearizableReads = "linearizable reads"
    /// `propose` results match what commits; no proposal is applied twice.
    case proposals = "proposal integrity"
    /// The core asked for something the `Ready` contract forbids (e.g. sent a vote before
    /// persisting it, acknowledged entries it had not persisted).
    case readyContract = "Ready contract"
    /// After faults heal, a leader emerges and pending proposals resolve in bounded time.
    case liveness = "liveness"
}

/// A violated invariant, with everything needed to replay the run that found it.
public struct SimulationFailure: Error, CustomStringConvertible, Sendable {
    public var invariant: Invariant
    public var detail: String
    public var seed: UInt64
    public var tick: UInt64
    public var step: UInt64
    /// The one command that replays this run.
    public var replayCommand: String
    /// The last events before the failure, oldest first.
    public var recentEvents: [String]

    public var description: String {
        var text = "Raft simulation violated \(invariant.rawValue): \(detail)\n"
        text += "  seed \(seed), tick \(tick), step \(step)\n"
        text += "  replay: \(replayCommand)\n"
        if !recentEvents.isEmpty {
            text += "  last \(recentEvents.count) events:\n"
            for line in recentEvents { text += "    \(line)\n" }
        }
        return text
    }
}
