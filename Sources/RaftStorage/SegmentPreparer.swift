#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Creates the next segment file of a ``FileLogStore`` ahead of time, on a thread of its
/// own, so a segment roll on the owner's thread (a node loop) is a `rename` and the writes
/// and syncs a save makes anyway — not a `posix_fallocate` of 64 MiB and the sync that
/// makes it durable, whose cost depends on the file system and how busy it is
/// (docs/performance.md, "The segment roll, off the loop").
///
/// At most one file is prepared at a time, under the fixed name ``fileName`` in the
/// store's directory: created, preallocated to `segmentBytes` (when the options ask for
/// it), `fsync`ed, and the directory `fsync`ed. The store takes it with ``take()`` when it
/// rolls, renames it to the segment's name (the name holds the first index, known only
/// then) and starts the next preparation. Recovery removes a file of that name left by a
/// crash: nothing in it was ever acknowledged (docs/storage.md, "Segment roll").
///
/// A failed preparation is kept and handed to the store at its next roll, which throws it
/// (and is poisoned, as for any failed write); nothing earlier depended on it.
///
/// Not `Sendable`: only the store's owner calls it. The thread shares one
/// ``Preparation`` with it.
final class SegmentPreparer {
    /// The name the next segment is prepared under (ends in `.tmp`, which no segment or
    /// snapshot name does).
    static let fileName = "segment-next.tmp"

    /// A file ready to become the next segment: open read-write, `allocatedBytes` reserved.
    struct Prepared: Sendable {
        /// The open descriptor; whoever takes the file closes it.
        let fd: Int32
        let path: String
        let allocatedBytes: UInt64
    }

    /// One preparation, shared between the owner and the preparing thread.
    final class Preparation: Sendable {
        let path: String
        fileprivate let outcome = Mutex<Result<Prepared, StorageError>?>(nil)
        fileprivate let cancelled = Atomic<Bool>(false)
        fileprivate let ownerWaiting = Atomic<Bool>(false)

        init(path: String) { self.path = path }

        /// Set by ``SegmentPreparer/cancel()`` (the store is closing): the preparation stops
        /// at its next step and removes its file.
        var isCancelled: Bool { cancelled.load(ordering: .acquiring) }
        var isFinished: Bool { outcome.withLock { $0 != nil } }
        /// The store rolled before the file was ready and waits for it in ``SegmentPreparer/take()``.
        var isOwnerWaiting: Bool { ownerWaiting.load(ordering: .acquiring) }
    }

    let directory: String
    /// Bytes to reserve per file; 0: none (`preallocateSegments` off).
    let preallocateBytes: UInt64
    /// Test hook: called on the preparing thread before the file is created, so a test can
    /// make the preparation fail (by throwing) or hold it in flight.
    let beforePreparing = Mutex<(@Sendable (Preparation) throws -> Void)?>(nil)

    private var current: Preparation?
    private var thread: pthread_t?

    init(directory: String, preallocateBytes: UInt64) {
        self.directory = directory
        self.preallocateBytes = preallocateBytes
    }

    /// A preparation was started and not taken yet (in flight, ready or failed).
    var isPending: Bool { current != nil }

    /// The preparation started and not taken yet, for tests to watch.
    var pending: Preparation? { current }

    /// Starts preparing the next file. At most one is pending.
    func start() {
        precondition(current == nil, "a segment file is already being prepared")
        let preparation = Preparation(path: FileSystem.join(directory, Self.fileName))
        let hook = beforePreparing.withLock { $0 }
        current = preparation
        let work: @Sendable () -> Void = { [directory, preallocateBytes] in
            Self.prepare(preparation, directory: directory, preallocateBytes: preallocateBytes, hook: hook)
        }
        thread = BackgroundThread.start(work)
        if thread == nil { work() }  // no thread to be had: do it here rather than never
    }

    /// The pending preparation's outcome, waiting for it if it is still in flight (`waited`
    /// says so); nil when none was started. Taking it makes room for the next ``start()``.
    func take() -> (outcome: Result<Prepared, StorageError>, waited: Bool)? {
        guard let preparation = current else { return nil }
        let waited = !preparation.isFinished
        if waited { preparation.ownerWaiting.store(true, ordering: .releasing) }
        finishThread()
        current = nil
        return (preparation.outcome.withLock { $0 }!, waited)
    }

    /// Stops a pending preparation (waiting for its current step) and removes its file.
    func cancel() {
        guard let preparation = current else { return }
        preparation.cancelled.store(true, ordering: .releasing)
        finishThread()
        current = nil
        if case .success(let prepared) = preparation.outcome.withLock({ $0 }) {
            _ = Glibc.close(prepared.fd)
            try? FileSystem.remove(prepared.path)
        }
    }

    private func finishThread() {
        if let thread { BackgroundThread.join(thread) }
        thread = nil
    }

    /// Runs on the preparing thread.
    private static func prepare(
        _ preparation: Preparation, directory: String, preallocateBytes: UInt64,
        hook: (@Sendable (Preparation) throws -> Void)?
    ) {
        let outcome: Result<Prepared, StorageError>
        do {
            outcome = .success(try makeFile(preparation, directory: directory, preallocateBytes: preallocateBytes, hook: hook))
        } catch let StorageError.io(operation, path, code) {
            outcome = .failure(.io(operation: "preparing the next segment: \(operation)", path: path, errno: code))
        } catch let error as StorageError {
            outcome = .failure(error)
        } catch is Cancelled {
            outcome = .failure(.io(operation: "preparing the next segment (cancelled: the store is closing)", path: preparation.path, errno: ECANCELED))
        } catch {
            outcome = .failure(.io(operation: "preparing the next segment (\(error))", path: preparation.path, errno: EIO))
        }
        preparation.outcome.withLock { $0 = outcome }
    }

    private struct Cancelled: Error {}

    /// Creates, preallocates and syncs the file; on any failure after creating it, removes it.
    private static func makeFile(
        _ preparation: Preparation, directory: String, preallocateBytes: UInt64,
        hook: (@Sendable (Preparation) throws -> Void)?
    ) throws -> Prepared {
        try hook?(preparation)
        if preparation.isCancelled { throw Cancelled() }
        // O_EXCL: the name is free (recovery removed any leftover, and the previous file was
        // renamed away); anything else found there is not ours to overwrite or remove.
        let file = try FileDescriptor(path: preparation.path, flags: O_RDWR | O_CREAT | O_EXCL)
        do {
            var allocated: UInt64 = 0
            if preallocateBytes > 0, try file.preallocate(size: preallocateBytes) {
                allocated = preallocateBytes
            }
            if preparation.isCancelled { throw Cancelled() }
            // The allocation made durable here is what a roll's own sync no longer waits for.
            try file.fullSync()
            try FileSystem.syncDirectory(directory)
            return Prepared(fd: file.release(), path: preparation.path, allocatedBytes: allocated)
        } catch {
            file.close()
            try? FileSystem.remove(preparation.path)
            throw error
        }
    }
}
