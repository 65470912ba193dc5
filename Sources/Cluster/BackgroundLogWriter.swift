import Dispatch
import Raft
import Synchronization

/// Writes a leader's new log entries (and its commit index) on a thread of its own, so the
/// node loop never waits for the disk while it leads: it sends the appends, applies what a
/// quorum has, answers proposers and takes the next batch while the write and its fsync
/// run here. The core counts the leader towards a quorum only once a write is reported
/// back (``RaftNode/persisted(through:term:)``), so an entry still commits only when a
/// quorum holds it durably — Raft thesis §10.2.1, as etcd's asynchronous storage writes.
///
/// Writes run in the order they were handed over; writes queued while one runs are merged
/// into the next (one fsync for all of them). The node loop touches the persistence itself
/// only after ``waitUntilIdle()``; see ``PersistenceHandle``.
final class BackgroundLogWriter: Sendable {
    /// One leader `Ready`'s durable part.
    struct Write: Sendable {
        var hardState: HardState?
        var entries: [Entry]
        /// False for a hard state that only moves the commit index (written without a sync).
        var sync: Bool
    }

    private struct State {
        var queue: [Write] = []
        var running = false
        /// The last entry made durable and not yet collected by the loop.
        var durable: LogPosition?
        var failure: String?
    }

    private let state = Mutex(State())
    /// Entered per queued write, left once it is durable (or dropped after a failure).
    private let outstanding = DispatchGroup()
    private let worker = DispatchQueue(label: "orchestrator.raft.log-writer", qos: .userInitiated)
    private let persistence: PersistenceHandle
    /// Called on the writer's thread after each batch (durable or failed): the loop collects.
    private let completed: @Sendable () -> Void
    /// Called with the duration of each durable batch (writes and fsync).
    private let observe: @Sendable (UInt64) -> Void

    init(persistence: PersistenceHandle, observe: @escaping @Sendable (UInt64) -> Void,
         completed: @escaping @Sendable () -> Void) {
        self.persistence = persistence
        self.observe = observe
        self.completed = completed
    }

    /// Queues `write`; the loop must not call the persistence until ``waitUntilIdle()``.
    func submit(_ write: Write) {
        outstanding.enter()
        let start = state.withLock { state -> Bool in
            state.queue.append(write)
            if state.running { return false }
            state.running = true
            return true
        }
        if start { worker.async { self.work() } }
    }

    /// Whether writes are queued or running.
    var isBusy: Bool { state.withLock { $0.running } }

    /// Why writing stopped, if a write failed.
    var failure: String? { state.withLock { $0.failure } }

    /// Blocks until every queued write is durable or dropped after a failure.
    func waitUntilIdle() {
        outstanding.wait()
    }

    /// As ``waitUntilIdle()``, for at most `timeout`; false if writes are still running.
    func waitUntilIdle(timeout: DispatchTimeInterval) -> Bool {
        outstanding.wait(timeout: .now() + timeout) == .success
    }

    /// The last entry made durable since the previous call, and why writing stopped, if it did.
    func collect() -> (durable: LogPosition?, failure: String?) {
        state.withLock { state in
            defer { state.durable = nil }
            return (state.durable, state.failure)
        }
    }

    private func work() {
        while true {
            let batch = state.withLock { state -> [Write]? in
                guard !state.queue.isEmpty else {
                    state.running = false
                    return nil
                }
                defer { state.queue = [] }
                return state.queue
            }
            guard let batch else { return }
            let failed = state.withLock { $0.failure != nil }
            if !failed {
                let start = DispatchTime.now().uptimeNanoseconds
                do {
                    try persist(batch)
                    observe(DispatchTime.now().uptimeNanoseconds - start)
                    if let last = batch.last(where: { !$0.entries.isEmpty })?.entries.last {
                        state.withLock { $0.durable = LogPosition(index: last.index, term: last.term) }
                    }
                } catch {
                    // Nothing after a failed write may be written: a later entry or commit
                    // index on disk without this one would break the log's prefix.
                    state.withLock { $0.failure = "writing \(batch.reduce(0) { $0 + $1.entries.count }) entries: \(error)" }
                }
            }
            for _ in batch { outstanding.leave() }
            completed()
        }
    }

    /// Writes `batch` in order, merging runs of contiguous writes into one save.
    private func persist(_ batch: [Write]) throws {
        var entries: [Entry] = []
        var hardState: HardState?
        var sync = false
        func flush() throws {
            guard hardState != nil || !entries.isEmpty else { return }
            if sync {
                try persistence.persistence.save(hardState: hardState, entries: entries, snapshot: nil)
            } else if let hardState {
                try persistence.persistence.saveCommitIndex(hardState)
            }
            entries = []
            hardState = nil
            sync = false
        }
        for write in batch {
            if let first = write.entries.first, let last = entries.last, first.index != last.index + 1 {
                try flush()  // not contiguous: an overwrite, written on its own
            }
            entries.append(contentsOf: write.entries)
            hardState = write.hardState ?? hardState
            sync = sync || write.sync
        }
        try flush()
    }
}

/// The node's persistence, shared by the node loop and its ``BackgroundLogWriter``.
///
/// Safety of `@unchecked Sendable`: the persistence is not thread-safe, but it is never
/// used from two threads at once. The writer calls it only for a write handed over by
/// `submit` that it has not yet finished (between `outstanding.enter()` and `leave()`);
/// the node loop calls it only when no such write exists — after `waitUntilIdle()`, which
/// returns once every `leave()` happened, and before its next `submit` (the loop is the
/// only submitter, on its one thread). The DispatchGroup's wait/leave and the writer's
/// Mutex order those calls (happens-before) in both directions.
final class PersistenceHandle: @unchecked Sendable {
    let persistence: any RaftPersistence

    init(_ persistence: any RaftPersistence) {
        self.persistence = persistence
    }
}
