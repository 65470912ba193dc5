/// Wall-clock time as the orchestrator uses it: milliseconds since the Unix epoch, and a way
/// to sleep until such a time. The one definition of "now" above the Raft core: `Server`
/// gives the real one (`SystemClock`), tests a `ManualClock`.
///
/// Apply never reads a clock: the leader stamps each command with `nowMillis` when it proposes
/// it (`Command.proposedAtMillis`), and leader services (registration, hooks, cron) are handed
/// a clock rather than reading one.
///
/// ```swift
/// let clock: any WallClock = ManualClock(nowMillis: 1_800_000_000_000)
/// try await clock.sleep(untilMillis: clock.nowMillis + 1_000)
/// ```
public protocol WallClock: Sendable {
    /// Now, in milliseconds since the Unix epoch.
    var nowMillis: Int64 { get }
    /// Returns at or after `deadline` (ms since the epoch); throws `CancellationError` when the
    /// task is cancelled first.
    func sleep(untilMillis deadline: Int64) async throws
}
