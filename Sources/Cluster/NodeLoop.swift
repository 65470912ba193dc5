import Foundation
import Logging
import Metrics
import NIOCore
import Raft
import RaftTransport
import Synchronization

/// The node loop: owns the Raft core and drives it on one event loop (one thread).
///
/// Everything happens as tasks on `eventLoop`: events posted by other threads, ticks,
/// and — when the TCP transport runs its connections on the same event loop — the
/// messages it reads and the frames it writes. So a message goes from the socket into
/// the core and an answer from the core onto the socket without a thread hand-off, and
/// the work of one event-loop turn (every proposal and message that arrived) ends in one
/// `Ready`: one fsync for the batch.
final class NodeLoop: @unchecked Sendable {
    // Safety: every stored `var` is set up by `init` on the creating thread and from then
    // on read and written only in tasks running on `eventLoop`, which runs one task at a
    // time on one thread (`start()`, `post`, ticks and `afterEvents` all hop onto it).
    // Other threads touch only `closed` (atomic), `statusBox`, `leadershipBox` and
    // `foreignInbox` (Mutexes) and `eventLoop` (an immutable reference to a thread-safe object).
    let eventLoop: any EventLoop
    private let closed = Atomic<Bool>(false)
    /// Messages handed in from other threads (the in-memory transport, a transport reading on
    /// another event loop), drained by one loop task per burst rather than one per message.
    private let foreignInbox = Mutex<(messages: [Message], scheduled: Bool)>(([], false))
    /// Most messages `foreignInbox` holds; past it arrivals are dropped (Raft retransmits) and
    /// counted, so a node that cannot keep up never grows without bound.
    static let foreignInboxMessagesMax = 65_536
    private var tickTask: RepeatedTask?
    private var afterEventsScheduled = false
    /// Time spent since the last `afterEvents` stepping messages and handling events (the
    /// core builds its appends there): part of the turn that `afterEvents` ends.
    private var stepNanosThisTurn: UInt64 = 0
    /// Where this turn's `drainReady` time went, for the slow-turn warning: encoding and
    /// queueing messages, and the durable save.
    private var turnSendNanos: UInt64 = 0
    private var turnPersistNanos: UInt64 = 0
    private var turnMessages = 0
    private var finished = false
    /// The term in `logger`'s metadata.
    private var loggedTerm: Term = 0
    private var raft: RaftNode
    private let config: ClusterConfig
    private let persistence: any RaftPersistence
    /// Writes the leader's entries off the loop (nil: every `Ready` is persisted on the loop).
    /// While it holds writes, the loop leaves `persistence` alone (`BackgroundLogWriter`).
    private var writer: BackgroundLogWriter?
    /// `persistence.snapshotWriter()`, taken once: it runs on a snapshot thread.
    private let snapshotWrite: @Sendable (Snapshot) throws -> PreparedSnapshot
    private let transport: any RaftTransport
    private let stateMachine: any ReplicatedStateMachine
    private let statusBox: StatusBox
    private let leadershipBox: LeadershipBox
    /// Carries `node`, and `term` and `role` as they change, on every line the node logs.
    private var logger: Logger

    private var addresses: [NodeID: MemberAddress]
    private var pendingProposals: [LogIndex: PendingProposal] = [:]
    /// Proposals held for `config.proposalBatchDelayMicros` to share an append round, in
    /// arrival order, and the task that releases them (see ``holdForBatch(_:)``).
    private var heldProposals: [NodeEvent] = []
    private var heldRelease: Scheduled<Void>?
    private var pendingReads: [UInt64: PendingRead] = [:]
    /// Reads confirmed by a quorum, waiting for the local apply to reach their index.
    private var confirmedReads: [(index: LogIndex, continuation: CheckedContinuation<LogIndex, any Error>)] = []
    private var pendingTransfer: (target: NodeID, deadline: UInt64, continuation: CheckedContinuation<Void, any Error>)?
    private var nextReadContext: UInt64 = 1
    private var appliedSinceSnapshot = 0
    /// A snapshot is being encoded and written on another thread (at most one at a time).
    private var snapshotInFlight = false
    /// Entered while a background snapshot runs; `finish()` waits for it before closing storage.
    private let snapshotWork = DispatchGroup()
    private var leaderChanges = 0
    /// The leader the last soft state named (0: none), to count leader changes as etcd does.
    private var lastSeenLeader: NodeID = 0
    /// Why storage failed, once it has (the loop then stops).
    private var storageFailure: String?
    /// The commit and applied indexes already counted in `raft_proposals_committed_total`
    /// and `raft_proposals_applied_total`.
    private var countedCommit: LogIndex = 0
    private var countedApplied: LogIndex = 0
    private var running = true
    private var shutdownContinuation: CheckedContinuation<Void, Never>?
    private var lastPeers: [NodeID: PeerAddress] = [:]

    private let metrics: NodeMetrics

    struct PendingProposal {
        var term: Term
        var deadline: UInt64
        var reply: ProposalReply
    }

    struct PendingRead {
        var deadline: UInt64
        var continuation: CheckedContinuation<LogIndex, any Error>
    }

    init(config: ClusterConfig, persistence: any RaftPersistence, transport: any RaftTransport,
         stateMachine: any ReplicatedStateMachine, addresses: [NodeID: MemberAddress], eventLoop: any EventLoop,
         statusBox: StatusBox, leadershipBox: LeadershipBox, logger: Logger) throws {
        self.eventLoop = eventLoop
        self.config = config
        self.persistence = persistence
        snapshotWrite = persistence.snapshotWriter()
        self.transport = transport
        self.stateMachine = stateMachine
        self.statusBox = statusBox
        self.leadershipBox = leadershipBox
        self.logger = logger
        metrics = NodeMetrics(node: config.nodeID)
        let durable = persistence.initialState()
        guard let snapshot = ClusterSnapshot(durable.snapshot.data) else {
            throw ClusterError.storageFailed("the snapshot at index \(durable.snapshot.metadata.index) does not decode")
        }
        var known = snapshot.addresses
        for (node, address) in addresses { known[node] = address }
        self.addresses = known
        if !snapshot.application.isEmpty {
            try stateMachine.restore(from: snapshot.application)
        }
        raft = RaftNode(config: config.raftConfig, state: durable)
        loggedTerm = durable.hardState.term
        // What the node starts with was counted by its previous run, if at all.
        countedCommit = raft.status.commit
        countedApplied = raft.status.applied
        let fsync = metrics.walFsync
        persistence.observeSyncs { nanos in fsync.recordNanoseconds(Int64(truncatingIfNeeded: nanos)) }
        if config.leaderWritesInBackground ?? persistence.hasDisk {
            let persistNanos = metrics.persistNanos
            writer = BackgroundLogWriter(persistence: PersistenceHandle(persistence),
                                         observe: { persistNanos.recordNanoseconds(Int64(truncatingIfNeeded: $0)) },
                                         completed: { [weak self] in self?.backgroundWriteCompleted() })
        }
        self.logger[metadataKey: "term"] = "\(loggedTerm)"
        self.logger[metadataKey: "role"] = "\(raft.currentRole.rawValue)"
        updatePeers()
        publishStatus()
    }

    private static func nowNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    private var requestTimeoutNanos: UInt64 { UInt64(config.requestTimeoutMillis) * 1_000_000 }

    // MARK: Entry points (any thread)

    /// Starts ticking. Call once.
    func start() {
        let tick = TimeAmount.milliseconds(Int64(config.tickMillis))
        eventLoop.execute {
            self.tickTask = self.eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { _ in self.onTick() }
        }
    }

    /// Queues an event for the loop; false once the loop has stopped (the caller then
    /// answers the event itself). An event that slips in while the loop stops is answered
    /// with `shuttingDown` by the loop.
    @discardableResult
    func post(_ event: NodeEvent) -> Bool {
        guard !closed.load(ordering: .acquiring) else { return false }
        eventLoop.execute { self.receive(event) }
        return true
    }

    /// Steps arrived Raft messages: at once when called on the loop's own event loop (the
    /// TCP transport's read path), else through `foreignInbox`: everything that arrives
    /// before the loop gets to it is stepped in one task, so a burst costs one thread hop.
    func post(messages: [Message]) {
        guard !messages.isEmpty, !closed.load(ordering: .relaxed) else { return }
        if eventLoop.inEventLoop {
            receive(messages)
            return
        }
        let schedule = foreignInbox.withLock { inbox -> Bool in
            guard inbox.messages.count + messages.count <= Self.foreignInboxMessagesMax else {
                metrics.inboxDropped.increment(by: Int64(messages.count))
                return false
            }
            inbox.messages.append(contentsOf: messages)
            if inbox.scheduled { return false }
            inbox.scheduled = true
            return true
        }
        if schedule { eventLoop.execute { self.drainForeignInbox() } }
    }

    private func drainForeignInbox() {
        let batch = foreignInbox.withLock { inbox -> [Message] in
            defer {
                inbox.messages = []
                inbox.scheduled = false
            }
            return inbox.messages
        }
        receive(batch)
    }

    /// From the writer's thread: a batch is durable (or failed); the loop collects it.
    private func backgroundWriteCompleted() {
        guard !closed.load(ordering: .relaxed) else { return }
        eventLoop.execute {
            guard self.running else { return }
            let start = Self.nowNanos()
            self.collectBackgroundWrites()
            self.stepNanosThisTurn += Self.nowNanos() - start
            self.scheduleAfterEvents()
        }
    }

    // MARK: On the event loop

    /// Tells the core how far the writer got; stops the node if a write failed. Never
    /// between `ready()` and `advance`.
    private func collectBackgroundWrites() {
        guard let writer else { return }
        let (durable, failure) = writer.collect()
        if let failure {
            storageFailed(failure)
            return
        }
        if let durable { raft.persisted(through: durable.index, term: durable.term) }
    }

    /// Waits until every background write is durable (or failed), so the loop may use the
    /// persistence itself: a `Ready` that must be durable before its messages leave, a
    /// snapshot, closing. False if a write failed: then nothing more may be written (the
    /// caller stops the node through `collectBackgroundWrites`). The caller reports the
    /// writes to the core with `collectBackgroundWrites` once it may call the core.
    private func waitForBackgroundWrites() -> Bool {
        guard let writer else { return true }
        if writer.isBusy {
            let start = Self.nowNanos()
            writer.waitUntilIdle()
            turnPersistNanos += Self.nowNanos() - start
        }
        return writer.failure == nil
    }

    private func receive(_ event: NodeEvent) {
        guard running else { return refuse(event) }
        if holdForBatch(event) { return }
        let start = Self.nowNanos()
        handle(event)
        stepNanosThisTurn += Self.nowNanos() - start
        scheduleAfterEvents()
    }

    /// Holds `event` back if it is a proposal to a leader that has proposals in flight (or
    /// already holds some) and a batch delay is set; the first one held arms the release.
    /// What is held is proposed, in order, when the delay ends or once
    /// ``heldProposalsMax`` are held, whichever comes first (Kafka's `linger.ms` and
    /// `batch.size`) — so the proposals that arrive meanwhile leave in one append round
    /// (`ClusterConfig.proposalBatchDelayMicros`), and a burst is never held longer than
    /// it takes to fill a batch.
    private func holdForBatch(_ event: NodeEvent) -> Bool {
        guard config.proposalBatchDelayMicros > 0, case .propose = event, raft.currentRole == .leader,
              !pendingProposals.isEmpty || !heldProposals.isEmpty else { return false }
        heldProposals.append(event)
        if heldProposals.count >= Self.heldProposalsMax {
            heldRelease?.cancel()
            heldRelease = nil
            releaseHeldProposals()
        } else if heldRelease == nil {
            heldRelease = eventLoop.scheduleTask(in: .microseconds(Int64(config.proposalBatchDelayMicros))) {
                self.heldRelease = nil
                self.releaseHeldProposals()
            }
        }
        return true
    }

    /// Held proposals that are released at once, delay or not: a full batch.
    static let heldProposalsMax = 32

    private func releaseHeldProposals() {
        guard running, !heldProposals.isEmpty else { return }
        let held = heldProposals
        heldProposals = []
        let start = Self.nowNanos()
        for event in held { handle(event) }
        stepNanosThisTurn += Self.nowNanos() - start
        scheduleAfterEvents()
    }

    private func receive(_ messages: [Message]) {
        guard running else { return }
        let start = Self.nowNanos()
        for message in messages { raft.step(message) }
        stepNanosThisTurn += Self.nowNanos() - start
        scheduleAfterEvents()
    }

    /// Runs `afterEvents` once, after every task already queued on the event loop: so all
    /// proposals and messages that arrived together end up in one `Ready`.
    private func scheduleAfterEvents() {
        guard !afterEventsScheduled else { return }
        afterEventsScheduled = true
        eventLoop.execute {
            self.afterEventsScheduled = false
            self.afterEvents()
        }
    }

    private func afterEvents() {
        if running {
            let start = Self.nowNanos()
            drainReady()
            if raft.currentTerm != loggedTerm {
                loggedTerm = raft.currentTerm
                logger[metadataKey: "term"] = "\(loggedTerm)"
            }
            publishStatus()
            // The turn: this Ready and the stepping that led to it (not the waits between tasks).
            let step = stepNanosThisTurn
            let took = Self.nowNanos() - start + step
            metrics.loopTurn.recordNanoseconds(Int64(truncatingIfNeeded: took))
            if took > Self.slowTurnNanos {
                // Everything queued behind this turn waited as long (etcd logs the same). Where
                // it went: stepping messages (the core builds appends there), encoding and
                // queueing the messages of its Readys, the durable save; the rest is applying.
                logger.warning("node loop turn took too long", metadata: ["ms": "\(Double(took) / 1e6)",
                                                                          "step_ms": "\(Double(step) / 1e6)",
                                                                          "send_ms": "\(Double(turnSendNanos) / 1e6)",
                                                                          "persist_ms": "\(Double(turnPersistNanos) / 1e6)",
                                                                          "messages": "\(turnMessages)",
                                                                          "applied": "\(raft.appliedIndex)"])
            }
            stepNanosThisTurn = 0
            turnSendNanos = 0
            turnPersistNanos = 0
            turnMessages = 0
        }
        if !running { finish() }
    }

    /// A turn of the loop longer than this is logged.
    static let slowTurnNanos: UInt64 = 50_000_000

    private func onTick() {
        guard running else { return }
        let start = Self.nowNanos()
        raft.tick()
        expireRequests(now: start)
        stepNanosThisTurn += Self.nowNanos() - start
        afterEvents()
    }

    /// Answers an event that arrived after the loop stopped.
    private func refuse(_ event: NodeEvent) {
        switch event {
        case .snapshotWritten: break
        case .propose(_, _, let c), .membership(_, let c): c.resume(throwing: ClusterError.shuttingDown)
        case .read(let c): c.resume(throwing: ClusterError.shuttingDown)
        case .transfer(_, let c): c.resume(throwing: ClusterError.shuttingDown)
        case .shutdown(let c): c.resume()
        case .status(let answer): answer(nil)
        }
    }

    private func handle(_ event: NodeEvent) {
        switch event {
        case .propose(let data, let fence, let reply):
            if let fence, raft.currentRole != .leader || raft.currentTerm != fence {
                reply.resume(throwing: ClusterError.deposed(term: fence, currentTerm: raft.currentTerm))
                return
            }
            do {
                let position = try raft.propose(data)
                metrics.proposals.increment()
                pendingProposals[position.index] = PendingProposal(term: position.term, deadline: Self.nowNanos() + requestTimeoutNanos,
                                                                   reply: reply)
            } catch {
                refuseProposal(reply, error)
            }
        case .membership(let change, let reply):
            do {
                let position = try raft.proposeConfigChange(change)
                pendingProposals[position.index] = PendingProposal(term: position.term, deadline: Self.nowNanos() + requestTimeoutNanos,
                                                                   reply: reply)
            } catch {
                refuseProposal(reply, error)
            }
        case .read(let continuation):
            guard raft.currentLeader != 0 else {
                continuation.resume(throwing: ClusterError.notLeader(leader: 0))
                return
            }
            let context = nextReadContext
            nextReadContext += 1
            pendingReads[context] = PendingRead(deadline: Self.nowNanos() + requestTimeoutNanos, continuation: continuation)
            raft.requestRead(context: context)
        case .transfer(let target, let continuation):
            if raft.currentLeader == target {
                continuation.resume()
                return
            }
            do {
                try raft.transferLeadership(to: target)
                pendingTransfer?.continuation.resume(throwing: ClusterError.rejected("superseded by a transfer to \(target)"))
                pendingTransfer = (target, Self.nowNanos() + requestTimeoutNanos, continuation)
            } catch {
                continuation.resume(throwing: Self.clusterError(error))
            }
        case .shutdown(let continuation):
            // Between tasks no Ready is half handled: stop now, so that a second shutdown
            // (refused once `running` is false) cannot return before storage is closed.
            running = false
            shutdownContinuation = continuation
            finish()
        case .snapshotWritten(let result, let started):
            snapshotWritten(result, startedNanos: started)
        case .status(let answer):
            answer(currentStatus())
        }
    }

    /// A proposal the core refused to append. `notLeader` is routing, not failure (the API
    /// forwards the write to the leader), so only the other refusals count as failed.
    private func refuseProposal(_ reply: ProposalReply, _ error: ProposalError) {
        let clusterError = Self.clusterError(error)
        if case .notLeader = clusterError {} else { metrics.proposalsFailed.increment() }
        reply.resume(throwing: clusterError)
    }

    /// A proposal taken by this node that will not be answered with its outcome (dropped by a
    /// leader change, timed out, lost to a snapshot, interrupted by a stop).
    private func failProposal(_ pending: PendingProposal, _ error: ClusterError) {
        metrics.proposalsFailed.increment()
        pending.reply.resume(throwing: error)
    }

    private static func clusterError(_ error: ProposalError) -> ClusterError {
        switch error {
        case .notLeader(let leader): .notLeader(leader: leader)
        // Back-pressure, not a refusal: the same proposal succeeds shortly.
        case .uncommittedLimitReached, .leadershipTransferInProgress: .busy(error.description)
        case .learnerNotReady(let lag): .learnerNotReady(lag)
        case .wouldLoseQuorum(let shortfall): .wouldLoseQuorum(shortfall)
        default: .rejected(error.description)
        }
    }

    /// Handles every `Ready` the core has, in the order its contract sets.
    private func drainReady() {
        while running && raft.hasReady {
            let ready = raft.ready()
            if let soft = ready.softState { roleChanged(soft) }
            if let writer, ready.mayPersistInBackground {
                handInBackground(ready, to: writer)
                continue
            }
            // Anything still being written in the background is written first, in order.
            guard waitForBackgroundWrites() else {
                collectBackgroundWrites()
                return
            }
            // Raft thesis §10.2.1: a leader may send its appends while it writes the same
            // entries to its own disk: with followers, what it appends commits only once they
            // acknowledge it, and the loop handles acknowledgements after this Ready has been
            // persisted. Messages that depend on durable state (votes, acknowledgements) wait
            // for the disk.
            let sendFirst = raft.currentRole == .leader && ready.messages.allSatisfy(\.isLeaderTraffic)
            if sendFirst && !ready.messages.isEmpty { send(ready.messages) }
            // What a leader commits is durable on a quorum (the core counts its own log only
            // once written): apply it (and answer its proposers) before this Ready's own write.
            let durableThrough = ready.entries.first.map { $0.index - 1 } ?? .max
            let applyFirst = sendFirst ? ready.committedEntries.prefix { $0.index <= durableThrough }.count : 0
            for entry in ready.committedEntries.prefix(applyFirst) { apply(entry) }
            if ready.needsPersistence {
                let start = Self.nowNanos()
                defer { turnPersistNanos += Self.nowNanos() - start }
                // etcd's MustSync (`ready.mustSync`): a hard state that only moves the commit
                // index is written without an fsync. Saves an fsync per commit at low load.
                do {
                    if !ready.mustSync, let hardState = ready.hardState {
                        try persistence.saveCommitIndex(hardState)
                    } else {
                        try persistence.save(hardState: ready.hardState, entries: ready.entries, snapshot: ready.snapshot)
                        // The whole durable save: writes and fsync (the fsync alone: `walFsync`).
                        metrics.persistNanos.recordNanoseconds(Int64(Self.nowNanos() - start))
                    }
                } catch {
                    storageFailed("persisting \(ready.entries.count) entries: \(error)")
                    return
                }
            }
            if !sendFirst && !ready.messages.isEmpty { send(ready.messages) }
            if let snapshot = ready.snapshot { installSnapshot(snapshot) }
            for entry in ready.committedEntries.dropFirst(applyFirst) { apply(entry) }
            confirmReads(ready.readStates)
            raft.advance(ready)
            collectBackgroundWrites()
            resolveConfirmedReads()
            maybeSnapshot()
        }
    }

    /// A leader's `Ready` whose write may run in the background (`Ready.mayPersistInBackground`):
    /// its appends leave and what a quorum committed is applied now, while the writer makes
    /// its entries durable; the core counts this node's copy once the writer reports back.
    private func handInBackground(_ ready: Ready, to writer: BackgroundLogWriter) {
        if !ready.messages.isEmpty { send(ready.messages) }
        if ready.needsPersistence {
            let start = Self.nowNanos()
            writer.submit(BackgroundLogWriter.Write(hardState: ready.hardState, entries: ready.entries, sync: ready.mustSync))
            turnPersistNanos += Self.nowNanos() - start
        }
        for entry in ready.committedEntries { apply(entry) }
        confirmReads(ready.readStates)
        raft.advance(ready, persisted: false)
        resolveConfirmedReads()
        maybeSnapshot()
    }

    private func confirmReads(_ states: [ReadState]) {
        for state in states {
            if let pending = pendingReads.removeValue(forKey: state.context) {
                confirmedReads.append((state.index, pending.continuation))
            }
        }
    }

    private func send(_ messages: [Message]) {
        let start = Self.nowNanos()
        transport.send(messages)
        turnSendNanos += Self.nowNanos() - start
        turnMessages += messages.count
    }

    private func roleChanged(_ soft: SoftState) {
        // etcd's rule: a change is a leader other than the one last seen (none counts as seen).
        if soft.leader != 0 && soft.leader != lastSeenLeader {
            leaderChanges += 1
            metrics.leaderChangesSeen.increment()
        }
        lastSeenLeader = soft.leader
        logger[metadataKey: "role"] = "\(soft.role.rawValue)"
        logger[metadataKey: "term"] = "\(raft.currentTerm)"
        logger.info("role changed", metadata: ["leader": "\(soft.leader)"])
        // Leading starts only once this term's first entry is applied (see `apply`).
        if soft.role != .leader { leadershipBox.set(.following(term: raft.currentTerm, leader: soft.leader)) }
        if let transfer = pendingTransfer, soft.leader == transfer.target {
            transfer.continuation.resume()
            pendingTransfer = nil
        }
    }

    private func apply(_ entry: Entry) {
        var result: any Sendable = [UInt8]()
        switch entry.kind {
        case .normal:
            if entry.data.isEmpty {
                // The no-op a new leader appends first: once it is applied here, this node's
                // state holds everything earlier leaders committed, and it leads for real.
                if raft.currentRole == .leader && entry.term == raft.currentTerm {
                    leadershipBox.set(.leading(term: entry.term, sinceIndex: entry.index))
                }
            } else {
                switch Envelope(entry.data) {
                case .command(let body)?:
                    result = stateMachine.apply(index: entry.index, term: entry.term, command: body)
                case .address(let node, let address)?:
                    addresses[node] = address
                    updatePeers()
                case nil:
                    // Every replica skips the same bytes the same way, so state stays equal.
                    logger.error("skipping entry with an unknown envelope", metadata: ["index": "\(entry.index)"])
                }
            }
        case .configChange:
            updatePeers()
            // The core put the change in force when it committed: publish it before the
            // proposer is answered, so an admin call answers with the membership it made.
            publishStatus()
        }
        appliedSinceSnapshot += 1
        if let pending = pendingProposals.removeValue(forKey: entry.index) {
            if pending.term == entry.term {
                pending.reply.resume(returning: Proposed(index: entry.index, result: result))
            } else {
                failProposal(pending, .dropped)
            }
        }
    }

    private func installSnapshot(_ snapshot: Snapshot) {
        guard let decoded = ClusterSnapshot(snapshot.data) else {
            storageFailed("the snapshot at index \(snapshot.metadata.index) from the leader does not decode")
            return
        }
        do {
            try stateMachine.restore(from: decoded.application)
        } catch {
            storageFailed("restoring the snapshot at index \(snapshot.metadata.index): \(error)")
            return
        }
        addresses.merge(decoded.addresses) { _, new in new }
        appliedSinceSnapshot = 0
        updatePeers()
        // Every proposal at or below the snapshot was either applied elsewhere or lost;
        // from here we cannot tell which.
        for index in pendingProposals.keys where index <= snapshot.metadata.index {
            failProposal(pendingProposals.removeValue(forKey: index)!, .timedOut)
        }
        logger.info("installed snapshot", metadata: ["index": "\(snapshot.metadata.index)", "bytes": "\(snapshot.data.count)"])
    }

    private func resolveConfirmedReads() {
        guard !confirmedReads.isEmpty else { return }
        let applied = raft.appliedIndex
        var waiting: [(index: LogIndex, continuation: CheckedContinuation<LogIndex, any Error>)] = []
        for read in confirmedReads {
            if read.index <= applied { read.continuation.resume(returning: read.index) } else { waiting.append(read) }
        }
        confirmedReads = waiting
    }

    /// Every `snapshotEveryEntries` applied entries: captures the state here (O(1)), then
    /// encodes and writes it on another thread, so proposals never wait for a big snapshot
    /// (the loop only adopts the written file and compacts, in `snapshotWritten`).
    private func maybeSnapshot() {
        guard appliedSinceSnapshot >= config.snapshotEveryEntries, !snapshotInFlight else { return }
        let applied = raft.appliedIndex
        guard let pending = raft.snapshotMetadata(at: applied) else { return }
        let start = Self.nowNanos()
        let source = stateMachine.snapshotSource()
        let addresses = self.addresses
        let write = snapshotWrite
        snapshotInFlight = true
        appliedSinceSnapshot = 0
        snapshotWork.enter()
        let work = snapshotWork
        Thread.detachNewThread {
            Self.lowerThreadPriority()
            let result = Result<PreparedSnapshot, any Error> {
                let data = ClusterSnapshot(addresses: addresses, application: source()).encoded
                return try write(Snapshot(metadata: pending, data: data))
            }
            self.post(.snapshotWritten(result, startedNanos: start))
            work.leave()
        }
    }

    /// Background work (snapshots) should not take the CPU from the node loop and the
    /// API: on Linux, nice this thread to 10 (nice values are per thread there). Best effort.
    private static func lowerThreadPriority() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)   // who 0: the calling thread only, on Linux
        #endif
    }

    private func snapshotWritten(_ result: Result<PreparedSnapshot, any Error>, startedNanos start: UInt64) {
        snapshotInFlight = false
        let prepared: PreparedSnapshot
        switch result {
        case .success(let written): prepared = written
        case .failure(let error):
            storageFailed("writing the snapshot: \(error)")
            return
        }
        let index = prepared.snapshot.metadata.index
        // What this turn spends, for the log line below: adopting the file, compacting the
        // core's log, compacting the store's.
        let adoptStart = Self.nowNanos()
        var coreCompactStart = adoptStart, storeCompactStart = adoptStart, compactEnd = adoptStart
        do {
            // A snapshot from the leader may have replaced the log meanwhile: then this one
            // is stale. (Its file, if any, is older than the installed one; after a restart the
            // store lists it among the old snapshots that retention deletes.)
            // The log below the snapshot is durable before the snapshot replaces it.
            guard waitForBackgroundWrites() else {
                collectBackgroundWrites()
                return
            }
            collectBackgroundWrites()
            guard raft.canSnapshot(at: index), try persistence.adoptSnapshot(prepared) else {
                logger.info("discarded a stale snapshot", metadata: ["index": "\(index)"])
                return
            }
            _ = raft.createSnapshot(at: index, data: prepared.snapshot.data)
            coreCompactStart = Self.nowNanos()
            storeCompactStart = coreCompactStart
            let trailing = LogIndex(config.snapshotTrailingEntries)
            if index > trailing {
                raft.compact(through: index - trailing)
                storeCompactStart = Self.nowNanos()
                try persistence.compact(through: index - trailing)
            }
            compactEnd = Self.nowNanos()
        } catch {
            storageFailed("saving the snapshot at index \(index): \(error)")
            return
        }
        let elapsed = Self.nowNanos() - start
        metrics.snapshotNanos.recordNanoseconds(Int64(elapsed))
        metrics.snapshotBytes.record(prepared.snapshot.data.count)
        logger.info("took snapshot", metadata: ["index": "\(index)", "bytes": "\(prepared.snapshot.data.count)",
                                                "log_starts_at": "\(raft.status.firstIndex)",
                                                "ms": "\(Double(elapsed) / 1e6)",
                                                "adopt_ms": "\(Double(coreCompactStart - adoptStart) / 1e6)",
                                                "core_compact_ms": "\(Double(storeCompactStart - coreCompactStart) / 1e6)",
                                                "store_compact_ms": "\(Double(compactEnd - storeCompactStart) / 1e6)"])
    }

    private func updatePeers() {
        let members = raft.status.configuration.members
        var peers: [NodeID: PeerAddress] = [:]
        for (node, address) in addresses where node != config.nodeID && (members.isEmpty || members.contains(node)) {
            peers[node] = address.raft
        }
        if peers != lastPeers {
            lastPeers = peers
            transport.updatePeers(peers)
        }
    }

    private func expireRequests(now: UInt64) {
        for (index, pending) in pendingProposals where pending.deadline <= now {
            pendingProposals.removeValue(forKey: index)
            failProposal(pending, .timedOut)
        }
        for (context, pending) in pendingReads where pending.deadline <= now {
            pendingReads.removeValue(forKey: context)
            pending.continuation.resume(throwing: ClusterError.timedOut)
        }
        if let transfer = pendingTransfer, transfer.deadline <= now {
            pendingTransfer = nil
            transfer.continuation.resume(throwing: ClusterError.timedOut)
        }
    }

    private func publishStatus() {
        let status = currentStatus()
        metrics.term.record(Int(status.term))
        metrics.commit.record(Int(status.commitIndex))
        metrics.applied.record(Int(status.appliedIndex))
        metrics.isLeader.record(status.role == .leader && running ? 1 : 0)
        // A stopped node serves nothing, whatever leader it last knew.
        metrics.hasLeader.record(status.leader != 0 && running ? 1 : 0)
        metrics.proposalsPending.record(pendingProposals.count)
        if status.commitIndex > countedCommit {
            metrics.proposalsCommitted.increment(by: Int64(status.commitIndex - countedCommit))
            countedCommit = status.commitIndex
        }
        if status.appliedIndex > countedApplied {
            metrics.proposalsApplied.increment(by: Int64(status.appliedIndex - countedApplied))
            countedApplied = status.appliedIndex
        }
        statusBox.set(status)
    }

    private func currentStatus() -> NodeStatus {
        let s = raft.status
        return NodeStatus(id: s.id, term: s.term, role: s.role, leader: s.leader, commitIndex: s.commit,
                          appliedIndex: s.applied, lastIndex: s.lastIndex, configuration: s.configuration,
                          progress: s.progress, addresses: addresses, leaderChanges: leaderChanges,
                          snapshotIndex: s.firstIndex - 1, storageFailure: storageFailure)
    }

    private func storageFailed(_ reason: String) {
        logger.critical("storage failed; the node stops", metadata: ["reason": "\(reason)"])
        storageFailure = storageFailure ?? reason
        running = false
        failEverything(ClusterError.storageFailed(reason))
    }

    /// Fails every waiting request with `error` — except proposals already appended, whose
    /// fate is unknown (they may commit on the other nodes): those fail with `.interrupted`.
    private func failEverything(_ error: ClusterError) {
        let inFlight = ClusterError.interrupted(error.description)
        for (_, pending) in pendingProposals { failProposal(pending, inFlight) }
        pendingProposals = [:]
        for (_, pending) in pendingReads { pending.continuation.resume(throwing: error) }
        pendingReads = [:]
        for read in confirmedReads { read.continuation.resume(throwing: error) }
        confirmedReads = []
        pendingTransfer?.continuation.resume(throwing: error)
        pendingTransfer = nil
        // Held proposals were never appended: they definitely did not apply.
        heldRelease?.cancel()
        heldRelease = nil
        for event in heldProposals {
            if case .propose(_, _, let reply) = event { reply.resume(throwing: error) }
        }
        heldProposals = []
    }

    /// Stops for good (shutdown or a storage failure): no more ticks, every pending
    /// request fails, storage closes. Runs once.
    private func finish() {
        guard !finished else { return }
        finished = true
        running = false
        closed.store(true, ordering: .releasing)
        tickTask?.cancel()
        tickTask = nil
        leadershipBox.set(.stopped)
        failEverything(.shuttingDown)
        // A snapshot still being written should finish before the storage closes (bounded,
        // so a state machine that never finishes encoding cannot hold up shutdown).
        if snapshotWork.wait(timeout: .now() + 30) == .timedOut {
            logger.warning("closing storage while a snapshot is still being written")
        }
        // So must the log writer's last writes; a writer stuck on a dead disk for 30 s keeps
        // the storage (closing it under a running write is not safe), the process goes on.
        if let writer, !writer.waitUntilIdle(timeout: .seconds(30)) {
            logger.error("the log writer did not finish within 30 s; leaving storage open")
        } else {
            persistence.close()
        }
        publishStatus()
        shutdownContinuation?.resume()
        shutdownContinuation = nil
    }
}

/// The node's metrics (swift-metrics; exported by whatever backend the process bootstraps).
/// Names and meanings follow etcd's (docs/operations.md lists them); every series carries
/// the node id, so nodes sharing one process (`dev --in-memory`) stay apart.
struct NodeMetrics {
    let term, commit, applied, isLeader, hasLeader, snapshotBytes, proposalsPending: Gauge
    let leaderChangesSeen, proposals, proposalsCommitted, proposalsApplied, proposalsFailed, inboxDropped: Counter
    let persistNanos, walFsync, snapshotNanos, loopTurn: Metrics.Timer

    init(node: NodeID) {
        let dimensions = [("node", "\(node)")]
        term = Gauge(label: "raft_term", dimensions: dimensions)
        commit = Gauge(label: "raft_commit_index", dimensions: dimensions)
        applied = Gauge(label: "raft_applied_index", dimensions: dimensions)
        isLeader = Gauge(label: "raft_is_leader", dimensions: dimensions)
        // etcd's `etcd_server_has_leader`, in the orchestrator's namespace: what alerts watch.
        hasLeader = Gauge(label: "orchestrator_has_leader", dimensions: dimensions)
        snapshotBytes = Gauge(label: "raft_snapshot_bytes", dimensions: dimensions)
        proposalsPending = Gauge(label: "raft_proposals_pending", dimensions: dimensions)
        leaderChangesSeen = Counter(label: "raft_leader_changes_seen_total", dimensions: dimensions)
        proposals = Counter(label: "raft_proposals_total", dimensions: dimensions)
        proposalsCommitted = Counter(label: "raft_proposals_committed_total", dimensions: dimensions)
        proposalsApplied = Counter(label: "raft_proposals_applied_total", dimensions: dimensions)
        proposalsFailed = Counter(label: "raft_proposals_failed_total", dimensions: dimensions)
        inboxDropped = Counter(label: "raft_inbox_dropped_messages_total", dimensions: dimensions)
        persistNanos = Metrics.Timer(label: "raft_persist_duration_seconds", dimensions: dimensions)
        walFsync = Metrics.Timer(label: "raft_wal_fsync_duration_seconds", dimensions: dimensions)
        snapshotNanos = Metrics.Timer(label: "raft_snapshot_duration_seconds", dimensions: dimensions)
        // One turn: a tick, or the messages and proposals of one event-loop pass, ending in
        // the Ready they produced (persist, send, apply). Everything queued waits as long.
        loopTurn = Metrics.Timer(label: "raft_loop_turn_duration_seconds", dimensions: dimensions)
    }
}
