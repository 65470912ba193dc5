/// A plugin run attached to a transition (`hooks`) or to a state (`on_enter`, `on_exit`).
///
/// ```yaml
/// - plugin: shipping-label
///   with: { carrier: dhl }
///   timeout: 30s
///   retry: { attempts: 5, backoff: 2s, max_backoff: 1m }
///   on_failure: cancel
/// ```
public struct Hook: Sendable, Codable, Hashable {
    /// The plugin to run (`plugins/NAME`).
    public let plugin: String
    /// Parameters handed to the plugin in its event as `with`; an empty object when not given.
    public let with: [String: JSONValue]
    /// How long one attempt may run; nil leaves it to the plugin's manifest or the server default.
    public let timeout: WorkflowDuration?
    /// How often and how patiently to retry a failed run.
    public let retry: RetryPolicy
    /// A transition to request once the hook succeeds.
    public let onSuccess: String?
    /// A transition to request once the hook has failed for good (after its retries).
    public let onFailure: String?

    /// Creates a hook.
    public init(plugin: String, with: [String: JSONValue] = [:], timeout: WorkflowDuration? = nil,
                retry: RetryPolicy = .none, onSuccess: String? = nil, onFailure: String? = nil) {
        self.plugin = plugin
        self.with = with
        self.timeout = timeout
        self.retry = retry
        self.onSuccess = onSuccess
        self.onFailure = onFailure
    }
}

/// How a failed hook is retried: up to `attempts` runs in total, waiting `backoff` after the
/// first failure and doubling each time, never more than `maxBackoff`.
public struct RetryPolicy: Sendable, Codable, Hashable {
    /// Total runs including the first, 1…`WorkflowLimits.retryAttemptsMax`.
    public let attempts: Int
    /// The wait after the first failure. Default 1s.
    public let backoff: WorkflowDuration
    /// The longest wait between attempts. Default 1m, or `backoff` when that is longer.
    public let maxBackoff: WorkflowDuration

    /// Creates a policy.
    public init(attempts: Int, backoff: WorkflowDuration = RetryPolicy.backoffDefault, maxBackoff: WorkflowDuration? = nil) {
        self.attempts = attempts
        self.backoff = backoff
        self.maxBackoff = maxBackoff ?? max(backoff, RetryPolicy.maxBackoffDefault)
    }

    /// One attempt, no retries: the policy of a hook without `retry`.
    public static let none = RetryPolicy(attempts: 1)
    /// `backoff` when not given: 1 second.
    public static let backoffDefault = WorkflowDuration(milliseconds: 1_000)
    /// `max_backoff` when not given: 1 minute.
    public static let maxBackoffDefault = WorkflowDuration(milliseconds: 60_000)

    /// The wait before attempt `attempt` (2 for the first retry): `backoff × 2^(attempt-2)`,
    /// capped at `maxBackoff`.
    public func delay(beforeAttempt attempt: Int) -> WorkflowDuration {
        guard attempt >= 2 else { return WorkflowDuration(milliseconds: 0) }
        var wait = backoff.milliseconds
        for _ in 2..<attempt {
            wait = wait * 2
            if wait >= maxBackoff.milliseconds { return maxBackoff }
        }
        return WorkflowDuration(milliseconds: min(wait, maxBackoff.milliseconds))
    }
}
