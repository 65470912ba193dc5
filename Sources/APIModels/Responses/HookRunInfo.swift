import JSON

/// `hook` of a history entry of type `hook`: how one attempt of a hook dispatch ended.
/// `exit_code` and `signal` are `null` when they do not apply.
public struct HookRunInfo: Sendable, Codable, Hashable, JSONWritable {
    /// The dispatch, `<log index>.<hook number>` (the plugin's `ORCH_DISPATCH_ID`).
    public var dispatchID: String
    public var plugin: String
    /// `on_exit`, `hooks` or `on_enter`.
    public var stage: String
    /// From 1 (`ORCH_ATTEMPT`).
    public var attempt: Int
    /// `succeeded`, `retryable_failure`, `failed`, `signalled`, `timed_out` or `could_not_start`.
    public var result: String
    public var exitCode: Int?
    public var signal: Int?
    public var durationMillis: Int64
    /// The tail of what the plugin wrote (capped; `*_truncated` says when cut).
    public var stdout: String
    public var stderr: String
    public var stdoutTruncated: Bool
    public var stderrTruncated: Bool
    /// What followed: a retry's time, a final failure, a follow-up transition taken or refused.
    public var note: String
    /// True when this was the dispatch's last attempt (it succeeded, or failed with none left).
    public var final: Bool

    public init(dispatchID: String, plugin: String, stage: String, attempt: Int, result: String, exitCode: Int?, signal: Int?,
                durationMillis: Int64, stdout: String, stderr: String, stdoutTruncated: Bool, stderrTruncated: Bool,
                note: String, final: Bool) {
        self.dispatchID = dispatchID
        self.plugin = plugin
        self.stage = stage
        self.attempt = attempt
        self.result = result
        self.exitCode = exitCode
        self.signal = signal
        self.durationMillis = durationMillis
        self.stdout = stdout
        self.stderr = stderr
        self.stdoutTruncated = stdoutTruncated
        self.stderrTruncated = stderrTruncated
        self.note = note
        self.final = final
    }

    enum CodingKeys: String, CodingKey {
        case plugin, stage, attempt, result, signal, stdout, stderr, note, final
        case dispatchID = "dispatch_id"
        case exitCode = "exit_code"
        case durationMillis = "duration_ms"
        case stdoutTruncated = "stdout_truncated"
        case stderrTruncated = "stderr_truncated"
    }

    /// Encodes every key, absent values as `null` (as `json` does).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(dispatchID, forKey: .dispatchID)
        try container.encode(plugin, forKey: .plugin)
        try container.encode(stage, forKey: .stage)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(result, forKey: .result)
        try container.encode(exitCode, forKey: .exitCode)
        try container.encode(signal, forKey: .signal)
        try container.encode(durationMillis, forKey: .durationMillis)
        try container.encode(stdout, forKey: .stdout)
        try container.encode(stderr, forKey: .stderr)
        try container.encode(stdoutTruncated, forKey: .stdoutTruncated)
        try container.encode(stderrTruncated, forKey: .stderrTruncated)
        try container.encode(note, forKey: .note)
        try container.encode(final, forKey: .final)
    }

    public var json: JSONValue {
        .object(["dispatch_id": .string(dispatchID), "plugin": .string(plugin), "stage": .string(stage),
                 "attempt": .integer(attempt), "result": .string(result),
                 "exit_code": exitCode.map { .integer($0) } ?? .null, "signal": signal.map { .integer($0) } ?? .null,
                 "duration_ms": .number(Double(durationMillis)), "stdout": .string(stdout), "stderr": .string(stderr),
                 "stdout_truncated": .bool(stdoutTruncated), "stderr_truncated": .bool(stderrTruncated),
                 "note": .string(note), "final": .bool(final)])
    }
}
