import Workflow

/// The limits of every run, with defaults. Each bounds something a plugin could otherwise
/// make unbounded: its time, the time it gets to stop, and the memory its output takes.
///
/// ```swift
/// var settings = PluginRunSettings()
/// settings.gracePeriod = .seconds(1)       // tests: stop faster
/// let runner = PluginRunner(settings: settings)
/// ```
public struct PluginRunSettings: Sendable, Hashable {
    /// The timeout of a run when neither the hook nor the manifest sets one. Default 1 minute.
    public var timeoutDefault: WorkflowDuration
    /// After SIGTERM to the process group (timeout or cancellation), how long before SIGKILL. Default 5 s.
    public var gracePeriod: Duration
    /// Most stdout kept per run, in bytes; the rest is read and discarded. Default 64 KiB.
    public var stdoutBytesMax: Int
    /// Most stderr kept per run, in bytes; the rest is read and discarded. Default 64 KiB.
    public var stderrBytesMax: Int
    /// Largest data patch accepted from the last stdout line, in bytes of sorted-key JSON
    /// (as `JSONWriter` writes it). Default 16 KiB.
    public var dataPatchBytesMax: Int

    /// The default settings: 1 minute, 5 s grace, 64 KiB of each output, 16 KiB data patch.
    public init(timeoutDefault: WorkflowDuration = WorkflowDuration(milliseconds: 60_000),
                gracePeriod: Duration = .seconds(5),
                stdoutBytesMax: Int = 64 << 10,
                stderrBytesMax: Int = 64 << 10,
                dataPatchBytesMax: Int = 16 << 10) {
        precondition(stdoutBytesMax >= 0 && stderrBytesMax >= 0 && dataPatchBytesMax >= 0, "output caps cannot be negative")
        self.timeoutDefault = timeoutDefault
        self.gracePeriod = gracePeriod
        self.stdoutBytesMax = stdoutBytesMax
        self.stderrBytesMax = stderrBytesMax
        self.dataPatchBytesMax = dataPatchBytesMax
    }
}
