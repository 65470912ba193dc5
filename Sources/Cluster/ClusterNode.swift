import Foundation
import Logging
import NIOCore
import NIOPosix
import Raft
import RaftTransport
import Synchronization

/// The result of a committed proposal: where it sits in the log and what applying it returned
/// (the state machine's value as it is; empty for entries the state machine did not see).
public struct Proposed: Sendable {
    public var index: LogIndex
    public var result: any Sendable
}

/// What a node knows of itself and the cluster, refreshed after every loop iteration.
public struct NodeStatus: Sendable, Hashable {
    public var id: NodeID
    public var term: Term = 0
    public var role: Role = .follower
    public var leader: NodeID = 0
    public var commitIndex: LogIndex = 0
    public var appliedIndex: LogIndex = 0
    public var lastIndex: LogIndex = 0
    public var configuration = Configuration()
    public var progress: [NodeID: ProgressStatus] = [:]
    public var addresses: [NodeID: MemberAddress] = [:]
    /// Leaders this node has seen since it started: each time it learns of a leader other than
    /// the one it knew before (etcd's `leader_changes_seen_total`; the first leader counts).
    public var leaderChanges = 0
    public var snapshotIndex: LogIndex = 0
    /// Why the node's storage failed (it then stopped), or nil while it works.
    public var storageFailure: String?
}

/// One running Raft node: the consensus core driven by a clock, made durable by a
/// ``RaftPersistence``, connected by a ``RaftTransport``, applying committed commands to a
/// ``ReplicatedStateMachine``.
///
/// All Raft work happens on one event-loop thread of the node's own (the node loop), so a
/// blocking `fsync` never stalls Swift's cooperative thread pool, and every proposal that
/// arrives while the disk is busy joins the next batch: group commit falls out of the
/// design. When the TCP transport's connections share that event loop, messages go from
/// socket to core and back without a thread hand-off.
///
/// ```swift
/// let node = ClusterNode(config: ClusterConfig(nodeID: 1), persistence: MemoryPersistence(.bootstrap([1])),
///                        transport: network.transport(for: 1), stateMachine: kv, addresses: [:])
/// node.start()
/// let proposed = try await node.propose(Array("set x 1".utf8))
/// ```
public final class ClusterNode: Sendable {
    public let id: NodeID
    private let loop: NodeLoop
    /// The event-loop group made for this node when none was given (shut down with it).
    private let ownedGroup: MultiThreadedEventLoopGroup?
    private let statusBox: StatusBox
    private let leadershipBox: LeadershipBox
    private let transport: any RaftTransport
    private let requestTimeoutMillis: Int
    private let commandBytesMax: Int
    /// One election timeout (`electionTicks` × `tickMillis`): how recently the leader must
    /// have heard from a member for the membership checks to count it as live.
    public let electionTimeoutMillis: Int

    /// - Parameter eventLoop: where the node runs. Give the event loop the TCP transport's
    ///   connections run on (a one-thread group shared by both, see `OrchestratorServer`)
    ///   and messages pass between socket and core without a thread hand-off. Without one,
    ///   the node makes its own one-thread group.
    public init(config: ClusterConfig, persistence: sending any RaftPersistence, transport: any RaftTransport,
                stateMachine: any ReplicatedStateMachine, addresses: [NodeID: MemberAddress],
                eventLoop: (any EventLoop)? = nil,
                logger: Logger = Logger(label: "orchestrator.cluster")) throws {
        id = config.nodeID
        let group = eventLoop == nil ? MultiThreadedEventLoopGroup(numberOfThreads: 1) : nil
        ownedGroup = group
        statusBox = StatusBox(NodeStatus(id: config.nodeID))
        leadershipBox = LeadershipBox()
        self.transport = transport
        requestTimeoutMillis = config.requestTimeoutMillis
        commandBytesMax = config.commandBytesMax
        electionTimeoutMillis = config.electionTicks * config.tickMillis
        var logger = logger
        logger[metadataKey: "node"] = "\(config.nodeID)"
        loop = try NodeLoop(config: config, persistence: persistence, transport: transport, stateMachine: stateMachine,
                        addresses: addresses, eventLoop: eventLoop ?? group!.next(), statusBox: statusBox,
                            leadershipBox: leadershipBox, logger: logger)
    }

    /// Starts the loop and begins taking messages from the transport.
    public func start() {
        let loop = self.loop
        loop.start()
        // Straight from the transport's reading thread into the loop when it can (no hand-
        // off at all when that thread is the loop's own event loop).
        if transport.deliverDirectly(to: { loop.post(messages: $0) }) { return }
        let incoming = transport.incoming
        Task.detached {
            for await message in incoming {
                loop.post(messages: [message])
            }
        }
    }

    /// Proposes a command; returns once it is committed and applied here, with its result.
    /// With `fencedOn: term`, the loop appends it only while this node leads in exactly that
    /// term (else `.deposed`): what work started for one term of leadership proposes with.
    /// Throws ``ClusterError``: `.notLeader` on a follower (forward to the leader), `.busy`,
    /// `.deposed`, `.dropped`, `.tooLarge`, `.shuttingDown` (all definitely not applied), or
    /// `.timedOut`, `.interrupted`, `.storageFailed` (the outcome is unknown).
    public func propose(_ command: [UInt8], fencedOn term: Term? = nil) async throws -> Proposed {
        try await withCheckedThrowingContinuation { continuation in
            propose(command, fencedOn: term, reply: .continuation(continuation))
        }
    }

    /// ``propose(_:fencedOn:)`` for a caller that is not a task: `completion` gets the same
    /// result, called exactly once — on the node loop's thread once the proposal was taken
    /// (so it must be short and never block), or on the caller's thread when it was refused
    /// before reaching the loop (too large, shutting down).
    public func propose(_ command: [UInt8], fencedOn term: Term? = nil,
                        completion: @escaping @Sendable (Result<Proposed, any Error>) -> Void) {
        propose(command, fencedOn: term, reply: .callback(completion))
    }

    private func propose(_ command: [UInt8], fencedOn term: Term?, reply: ProposalReply) {
        guard command.count <= commandBytesMax else {
            return reply.resume(throwing: ClusterError.tooLarge(bytes: command.count, max: commandBytesMax))
        }
        if !loop.post(.propose(Envelope.command(command).encoded, fence: term, reply)) {
            reply.resume(throwing: ClusterError.shuttingDown)
        }
    }

    /// This node's leadership now (see ``NodeLeadership``).
    public var leadership: NodeLeadership { leadershipBox.value }

    /// The node's leadership as it changes: the current value, then each change; the stream
    /// ends after `.stopped`.
    public func watchLeadership() -> AsyncStream<NodeLeadership> {
        leadershipBox.watch()
    }

    /// A linearizable read point: returns once this node has applied everything committed
    /// before the call, as confirmed by a quorum (ReadIndex). Works on followers too.
    public func readIndex() async throws -> LogIndex {
        try await withCheckedThrowingContinuation { continuation in
            if !loop.post(.read(continuation)) { continuation.resume(throwing: ClusterError.shuttingDown) }
        }
    }

    /// Adds a member (as a learner, or directly as a voter), after replicating addresses.
    ///
    /// A node that joins (`serve --join`) knows no other member: it learns where they listen
    /// from the log (or a snapshot) as it catches up. So before the change the log gets the
    /// addresses of every current member, as this node knows them, and of the new one — each
    /// an address entry, committed in this order before the membership change, so every node
    /// knows the new member's address once the change is in force, and the new member knows
    /// everyone's once it has caught up to it, whichever node leads by then.
    public func addMember(_ node: NodeID, address: MemberAddress, asLearner: Bool) async throws {
        let status = statusBox.value
        var announced = status.addresses.filter { status.configuration.members.contains($0.key) && $0.key != node }
        announced[node] = address
        for (member, memberAddress) in announced.sorted(by: { $0.key < $1.key }) {
            _ = try await withCheckedThrowingContinuation { continuation in
                if !loop.post(.propose(Envelope.address(member, memberAddress).encoded, fence: nil, .continuation(continuation))) {
                    continuation.resume(throwing: ClusterError.shuttingDown)
                }
            }
        }
        try await changeMembership(asLearner ? .addLearner(node) : .addVoter(node))
    }

    /// Proposes one membership change; returns once it is committed (and so in force).
    public func changeMembership(_ change: ConfigChange) async throws {
        _ = try await withCheckedThrowingContinuation { continuation in
            if !loop.post(.membership(change, .continuation(continuation))) { continuation.resume(throwing: ClusterError.shuttingDown) }
        }
    }

    /// Hands leadership to `target` (a voter); returns once it leads or the attempt ended.
    public func transferLeadership(to target: NodeID) async throws {
        try await withCheckedThrowingContinuation { continuation in
            if !loop.post(.transfer(target, continuation)) { continuation.resume(throwing: ClusterError.shuttingDown) }
        }
    }

    /// The node's state as of its last loop iteration.
    public var status: NodeStatus { statusBox.value }

    /// The node's status read from the loop itself — not the copy `status` returns — within
    /// `timeoutMillis`: proof that the loop still takes events (the liveness check).
    /// Throws `.timedOut` when it did not answer in time, `.storageFailed` or `.shuttingDown`
    /// when it has stopped.
    public func liveStatus(timeoutMillis: Int) async throws -> NodeStatus {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<NodeStatus, ClusterError>, Never>) in
            let answer = OneAnswer(continuation)
            let statusBox = self.statusBox
            let stopped: @Sendable () -> ClusterError = {
                statusBox.value.storageFailure.map(ClusterError.storageFailed) ?? .shuttingDown
            }
            guard loop.post(.status({ status in answer.give(status.map { .success($0) } ?? .failure(stopped())) })) else {
                answer.give(.failure(stopped()))
                return
            }
            // Not on the node's event loop: that is what may be stuck.
            answer.expire(after: timeoutMillis)
        }
        return try result.get()
    }

    /// Stops the loop after it finishes the `Ready` in hand; pending requests fail with
    /// `.shuttingDown`. Then closes the transport.
    public func shutdown() async {
        await withCheckedContinuation { continuation in
            if !loop.post(.shutdown(continuation)) { continuation.resume() }
        }
        await transport.shutdown()
        try? await ownedGroup?.shutdownGracefully()
    }
}

/// A continuation resumed once: by the loop's answer or by the deadline, whichever comes first.
private final class OneAnswer: Sendable {
    private let state: Mutex<(continuation: CheckedContinuation<Result<NodeStatus, ClusterError>, Never>?, timer: Task<Void, Never>?)>

    init(_ continuation: CheckedContinuation<Result<NodeStatus, ClusterError>, Never>) {
        state = Mutex((continuation, nil))
    }

    func give(_ result: Result<NodeStatus, ClusterError>) {
        let (continuation, timer) = state.withLock { state in
            defer { state = (nil, nil) }
            return state
        }
        timer?.cancel()
        continuation?.resume(returning: result)
    }

    func expire(after millis: Int) {
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(millis))
            if !Task.isCancelled { self.give(.failure(.timedOut)) }
        }
        let answered = state.withLock { state -> Bool in
            guard state.continuation != nil else { return true }
            state.timer = timer
            return false
        }
        if answered { timer.cancel() }
    }
}
