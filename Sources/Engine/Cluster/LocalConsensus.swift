import Synchronization

/// A one-node `Consensus` with no log: each proposal is stamped with `clock()`, encoded,
/// given the next index and applied at once. For tests of the API, dispatcher and scheduler
/// without Raft, and for tools. It is always the leader.
///
/// ```swift
/// let engine = ReplicatedEngine()
/// let consensus = LocalConsensus(engine: engine, clock: { 1_700_000_000_000 })
/// let (outcome, index) = try await consensus.propose(.registerWorkflow(RegisterWorkflow(definition: definition)))
/// ```
public final class LocalConsensus: Consensus {
    /// The engine proposals are applied to.
    public let engine: ReplicatedEngine
    private let clock: @Sendable () -> Int64
    private let nextIndex: Mutex<UInt64>

    /// A consensus over `engine`; `clock` gives the "leader's" time in ms since the epoch.
    public init(engine: ReplicatedEngine, clock: @escaping @Sendable () -> Int64) {
        self.engine = engine
        self.clock = clock
        self.nextIndex = Mutex(engine.appliedIndex + 1)
    }

    public func propose(_ command: Command) async throws -> (outcome: Outcome, index: UInt64) {
        let bytes = command.stamped(atMillis: clock()).encoded()
        // Index assignment and apply under one lock: entries apply in index order.
        return nextIndex.withLock { next in
            let index = next
            next += 1
            return (engine.apply(index: index, bytes: bytes), index)
        }
    }

    public func readBarrier() async throws {}

    public var isLeader: Bool { true }
}
