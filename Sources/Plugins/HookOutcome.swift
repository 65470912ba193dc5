/// How one hook run ended, from the plugin's exit status and what the runner had to do.
///
/// The runner only classifies; it never retries. The dispatcher decides with the hook's
/// `retry` policy (`RetryPolicy`):
/// - `succeeded` (exit 0): done; the hook's `on_success` may follow.
/// - `retryableFailure` (exit 75, `EX_TEMPFAIL`): the plugin says "not now, try again";
///   `isRetryable` is true only for this.
/// - `failed`, `signalled`, `timedOut`, `couldNotStart`: failures. They too are retried while
///   the hook's `retry.attempts` allow, and the hook has failed for good (its `on_failure`
///   may follow) only when they are used up.
/// - `cancelled`: the calling task was cancelled (a deposed leader stopping its runs). It is
///   not a result of the plugin and should not be recorded: the next leader runs the
///   dispatch again.
public enum HookOutcome: Sendable, Hashable, CustomStringConvertible {
    /// Exit status 0.
    case succeeded
    /// Exit status 75 (`EX_TEMPFAIL`): a temporary failure.
    case retryableFailure
    /// Any other exit status.
    case failed(exitCode: Int32)
    /// Ended by a signal the runner did not send (it crashed or something else killed it).
    case signalled(signal: Int32)
    /// Still running at its timeout: its process group got SIGTERM, then SIGKILL after the grace period.
    case timedOut
    /// It never ran (or could not be watched): missing program, not executable, bad `#!`
    /// line, missing working directory. `reason` says which, for people.
    case couldNotStart(reason: String)
    /// The calling task was cancelled; the process group was stopped like a timeout.
    case cancelled

    /// Exit status 75 (`EX_TEMPFAIL`), which plugins use to say "try again later".
    public static let retryableExitCode: Int32 = 75

    /// True only for `succeeded`.
    public var isSuccess: Bool { self == .succeeded }

    /// True only for `retryableFailure` (exit 75). Other failures are retried by the hook's
    /// policy as well; this says the plugin itself asked for it.
    public var isRetryable: Bool { self == .retryableFailure }

    /// A stable snake_case name for history and JSON: `succeeded`, `retryable_failure`,
    /// `failed`, `signalled`, `timed_out`, `could_not_start`, `cancelled`.
    public var code: String {
        switch self {
        case .succeeded: return "succeeded"
        case .retryableFailure: return "retryable_failure"
        case .failed: return "failed"
        case .signalled: return "signalled"
        case .timedOut: return "timed_out"
        case .couldNotStart: return "could_not_start"
        case .cancelled: return "cancelled"
        }
    }

    /// For people: `failed (exit 3)`, `could not start: ...`.
    public var description: String {
        switch self {
        case .succeeded: return "succeeded"
        case .retryableFailure: return "retryable failure (exit 75)"
        case .failed(let exitCode): return "failed (exit \(exitCode))"
        case .signalled(let signal): return "killed by signal \(signal)"
        case .timedOut: return "timed out"
        case .couldNotStart(let reason): return "could not start: \(reason)"
        case .cancelled: return "cancelled"
        }
    }
}
