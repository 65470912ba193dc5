#if canImport(Glibc)
import Glibc
#endif

/// The threads a ``FileLogStore`` runs its slow file work on (the reclaimer, the segment
/// preparer), so its owner — a node loop — never waits for an `unlink`, a
/// `posix_fallocate` or a directory sync. This target uses no Foundation, so these are
/// plain pthreads.
enum BackgroundThread {
    /// Starts `body` on a new joinable thread at a lower CPU priority. Returns nil when no
    /// thread could be created.
    static func start(_ body: @escaping @Sendable () -> Void) -> pthread_t? {
        final class Box {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let box = Unmanaged.passRetained(Box(body))
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { raw in
            BackgroundThread.lowerPriority()
            Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, box.toOpaque())
        guard created == 0 else {
            box.release()
            return nil
        }
        return thread
    }

    /// Starts `body` on a new thread nobody waits for. Returns false when no thread could
    /// be created.
    static func detach(_ body: @escaping @Sendable () -> Void) -> Bool {
        guard let thread = start(body) else { return false }
        pthread_detach(thread)
        return true
    }

    /// Waits until `thread` (from ``start(_:)``) has finished.
    static func join(_ thread: pthread_t) {
        let rc = pthread_join(thread, nil)
        precondition(rc == 0, "pthread_join failed: \(rc)")
    }

    /// Background work should not take the CPU from the loop that owns the store.
    private static func lowerPriority() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)  // who 0: this thread only, on Linux
        #endif
    }
}
