import Workflow

/// The result of one run of one plugin: how it ended, how long it took, what it printed
/// (up to the caps) and the data it asked to merge.
///
/// ```swift
/// let run = await runner.run(plugin, event: event, timeout: hook.timeout)
/// switch run.outcome {
/// case .succeeded: merge(run.dataPatch)
/// case .cancelled: break                      // deposed: the next leader runs it again
/// default: scheduleRetryIfAllowed(run)        // per the hook's retry policy
/// }
/// ```
public struct HookRun: Sendable, Hashable {
    /// The plugin's name.
    public var plugin: String
    /// How it ended.
    public var outcome: HookOutcome
    /// The exit status, when the process exited (also after a timeout, if it exited on SIGTERM).
    public var exitCode: Int32?
    /// The signal that ended the process, when one did (also SIGTERM/SIGKILL sent at a timeout).
    public var signal: Int32?
    /// From just before the start to the end of the process group, in milliseconds.
    public var durationMillis: Int64
    /// Standard output up to `PluginRunSettings.stdoutBytesMax`, invalid UTF-8 replaced by
    /// U+FFFD, without the last line when that became `dataPatch`.
    public var stdout: String
    /// Standard error up to `PluginRunSettings.stderrBytesMax`, invalid UTF-8 replaced by U+FFFD.
    public var stderr: String
    /// True when the plugin wrote more than the cap to stdout; the rest was read and discarded.
    public var stdoutTruncated: Bool
    /// True when the plugin wrote more than the cap to stderr; the rest was read and discarded.
    public var stderrTruncated: Bool
    /// Bytes the plugin wrote to stdout in all, kept or not.
    public var stdoutBytesTotal: Int
    /// Bytes the plugin wrote to stderr in all, kept or not.
    public var stderrBytesTotal: Int
    /// The last non-empty stdout line, when it is a JSON object no larger than
    /// `PluginRunSettings.dataPatchBytesMax` and stdout was not truncated: the members to
    /// merge into the instance's data. Nil otherwise (the line then stays in `stdout`).
    public var dataPatch: [String: JSONValue]?

    /// Creates a result.
    public init(plugin: String, outcome: HookOutcome, exitCode: Int32? = nil, signal: Int32? = nil, durationMillis: Int64,
                stdout: String = "", stderr: String = "", stdoutTruncated: Bool = false, stderrTruncated: Bool = false,
                stdoutBytesTotal: Int = 0, stderrBytesTotal: Int = 0, dataPatch: [String: JSONValue]? = nil) {
        self.plugin = plugin
        self.outcome = outcome
        self.exitCode = exitCode
        self.signal = signal
        self.durationMillis = durationMillis
        self.stdout = stdout
        self.stderr = stderr
        self.stdoutTruncated = stdoutTruncated
        self.stderrTruncated = stderrTruncated
        self.stdoutBytesTotal = stdoutBytesTotal
        self.stderrBytesTotal = stderrBytesTotal
        self.dataPatch = dataPatch
    }

    /// `outcome.isRetryable`: true only for exit 75.
    public var isRetryable: Bool { outcome.isRetryable }
}
