import Synchronization

/// A `WallClock` that moves only when told: the deterministic twin of the system clock for
/// tests of leader services. Sleepers wake, in deadline order, when `advance(byMillis:)` or
/// `set(millis:)` reaches their deadline.
///
/// ```swift
/// let clock = ManualClock(nowMillis: 0)
/// async let woke: Void = clock.sleep(untilMillis: 500)
/// clock.advance(byMillis: 500)       // the sleeper returns
/// ```
public final class ManualClock: WallClock {
    private struct Sleeper {
        var deadline: Int64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private let state: Mutex<(now: Int64, nextID: UInt64, sleepers: [UInt64: Sleeper])>

    /// A clock reading `nowMillis`.
    public init(nowMillis: Int64 = 0) {
        state = Mutex((nowMillis, 1, [:]))
    }

    public var nowMillis: Int64 { state.withLock { $0.now } }

    /// How many tasks are sleeping on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(untilMillis deadline: Int64) async throws {
        let id = state.withLock { state -> UInt64 in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Result<Void, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return nil
                }
                if let resumeNow { continuation.resume(with: resumeNow) }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward by `millis` (≥ 0) and wakes every sleeper now due.
    public func advance(byMillis millis: Int64) {
        precondition(millis >= 0, "a ManualClock is advanced forward; use set(millis:) to jump")
        set(millis: nowMillis + millis)
    }

    /// Sets the clock to `millis` (also backwards, to test clock jumps) and wakes every
    /// sleeper now due, earliest deadline first.
    public func set(millis: Int64) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = millis
            let ready = state.sleepers.filter { $0.value.deadline <= millis }
            for id in ready.keys { state.sleepers.removeValue(forKey: id) }
            return ready.values.sorted { $0.deadline < $1.deadline }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}
