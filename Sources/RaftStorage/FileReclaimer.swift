#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Deletes the files a ``FileLogStore`` no longer needs — segments a compaction made
/// obsolete, snapshots past retention — on its own thread, so the store's owner (a node
/// loop) never waits for an `unlink` of a big file or a directory sync.
///
/// Jobs run one at a time in the order they were handed over, and each deletion of a
/// segment is made durable (directory `fsync`) before the next starts, oldest segment
/// first: a crash at any point leaves the segments on disk a contiguous run of sequence
/// numbers that reaches back to the last durable compaction point, which recovery accepts
/// (docs/storage.md, "Compaction"). A segment job first syncs the file holding the
/// compaction record that made the segments obsolete, so no segment is ever gone while
/// the record that says it may go could still be lost.
///
/// After a failure (an `unlink` or a sync that failed) it stops deleting anything — a
/// later deletion could leave a hole in the sequence — and the store reports the failure
/// on its next call, as `StorageError.poisoned` (durability is unknown).
final class FileReclaimer: Sendable {
    /// One unit of work, run on the reclaimer's thread.
    enum Job: Sendable {
        /// Make `recordFile` durable (a `dup` of the segment holding the compaction record,
        /// closed afterwards), then delete `segments` (paths, oldest first), syncing the
        /// directory after each.
        case segments(recordFile: Int32, segments: [String])
        /// Delete one file (a snapshot past retention); no directory sync needed, since
        /// recovery accepts an older snapshot that is still there.
        case file(String)
    }

    private struct State {
        var jobs: [Job] = []
        var running = false
        var failure: String?
        var stopped = false
    }

    let directory: String
    private let state = Mutex(State())
    /// Test hook: called on the reclaimer's thread before each deletion with the path about
    /// to go, so a test can copy the directory at every point where a crash could come, or
    /// make the deletion fail by throwing.
    let beforeDeleting = Mutex<(@Sendable (String) throws -> Void)?>(nil)

    init(directory: String) {
        self.directory = directory
    }

    /// Why the reclaimer stopped, if it did.
    var failure: String? { state.withLock { $0.failure } }

    /// Queues `job`; starts the thread that works the queue if none runs.
    func submit(_ job: Job) {
        let start = state.withLock { state -> Bool in
            guard !state.stopped, state.failure == nil else {
                if case .segments(let fd, _) = job { close(fd) }
                return false
            }
            state.jobs.append(job)
            if state.running { return false }
            state.running = true
            return true
        }
        guard start else { return }
        if !BackgroundThread.detach({ self.work() }) {
            work()  // no thread to be had: do it here rather than never
        }
    }

    /// Blocks until every queued job has run (or the reclaimer stopped on a failure).
    func waitUntilIdle() {
        while state.withLock({ $0.running }) {
            usleep(1_000)
        }
    }

    private func work() {
        while true {
            let job = state.withLock { state -> Job? in
                guard state.failure == nil, !state.jobs.isEmpty else {
                    state.running = false
                    return nil
                }
                return state.jobs.removeFirst()
            }
            guard let job else { return }
            do {
                try run(job)
            } catch {
                let dropped = state.withLock { state -> [Job] in
                    state.failure = state.failure ?? "\(error)"
                    defer { state.jobs = [] }
                    return state.jobs
                }
                for case .segments(let fd, _) in dropped { close(fd) }
            }
        }
    }

    private func run(_ job: Job) throws {
        switch job {
        case .segments(let recordFile, let segments):
            defer { close(recordFile) }
            while fdatasync(recordFile) != 0 {
                if errno == EINTR { continue }
                throw StorageError.io(operation: "fdatasync (compaction record)", path: directory, errno: errno)
            }
            for path in segments {
                try beforeDeleting.withLock { $0 }?(path)
                try FileSystem.remove(path)
                try FileSystem.syncDirectory(directory)
            }
        case .file(let path):
            try beforeDeleting.withLock { $0 }?(path)
            try FileSystem.remove(path)
        }
    }
}
