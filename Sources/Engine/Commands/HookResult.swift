import Workflow

/// `Command.hookResult`: how one attempt of a dispatch ended, as the leader's dispatcher
/// observed it. The first final result applied for a dispatch wins; a result for a dispatch
/// already finished, or for another attempt than the one the engine waits for, changes
/// nothing (`HookRecorded.Status.ignored`), so a deposed leader's late result is harmless.
public struct HookResult: Sendable, Hashable {
    /// How the attempt ended.
    public enum Result: Sendable, Hashable {
        /// Exit status 0.
        case succeeded
        /// Exit status 75 (EX_TEMPFAIL).
        case retryableFailure
        /// Another exit status.
        case failed(exitCode: Int32)
        /// Ended by a signal.
        case signalled(signal: Int32)
        /// Ran past its timeout and was killed.
        case timedOut
        /// Could not be started (missing plugin, not executable, …), with the reason.
        case couldNotStart(reason: String)

        /// The short name used in history and the API: `succeeded`, `retryable_failure`,
        /// `failed`, `signalled`, `timed_out`, `could_not_start`.
        public var name: String {
            switch self {
            case .succeeded: "succeeded"
            case .retryableFailure: "retryable_failure"
            case .failed: "failed"
            case .signalled: "signalled"
            case .timedOut: "timed_out"
            case .couldNotStart: "could_not_start"
            }
        }
    }

    /// The dispatch, `<index>.<n>`.
    public var dispatchID: String
    /// The attempt this result is for, from 1.
    public var attempt: Int
    public var result: Result
    /// How long the attempt ran.
    public var durationMillis: Int64
    /// The tail of the captured standard output (capped by the dispatcher).
    public var stdout: String
    /// The tail of the captured standard error.
    public var stderr: String
    /// True when output was cut (by the runner's cap or the dispatcher's tail).
    public var stdoutTruncated: Bool
    public var stderrTruncated: Bool
    /// A JSON object the plugin printed as its last stdout line: merged into the instance
    /// data when the attempt succeeded.
    public var dataPatch: [String: JSONValue]?
    /// See `Command.proposedAtMillis`.
    public var proposedAtMillis: Int64

    public init(dispatchID: String, attempt: Int, result: Result, durationMillis: Int64, stdout: String = "",
                stderr: String = "", stdoutTruncated: Bool = false, stderrTruncated: Bool = false,
                dataPatch: [String: JSONValue]? = nil, proposedAtMillis: Int64 = 0) {
        self.dispatchID = dispatchID
        self.attempt = attempt
        self.result = result
        self.durationMillis = durationMillis
        self.stdout = stdout
        self.stderr = stderr
        self.stdoutTruncated = stdoutTruncated
        self.stderrTruncated = stderrTruncated
        self.dataPatch = dataPatch
        self.proposedAtMillis = proposedAtMillis
    }
}
