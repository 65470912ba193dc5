/// A hook attempt as an instance's history shows it.
public struct HookRunRecord: Sendable, Hashable {
    public let dispatchID: String
    public let plugin: String
    public let stage: Dispatch.Stage
    public let attempt: Int
    /// `HookResult.Result.name`.
    public let result: String
    public let exitCode: Int32?
    public let signal: Int32?
    public let durationMillis: Int64
    public let stdout: String
    public let stderr: String
    public let stdoutTruncated: Bool
    public let stderrTruncated: Bool
    /// What followed: `will retry at …`, `failed for good`, `on_success 'x' taken`, a refused
    /// follow-up or data patch, or the reason a plugin could not start.
    public let note: String
    /// True when this was the dispatch's last word (succeeded, or failed with no attempt left).
    public let final: Bool
}
