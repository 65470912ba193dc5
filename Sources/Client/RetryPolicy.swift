/// How the client retries a request the cluster could not answer (`ClientError.busy`,
/// `.unavailable`, `.outcomeUnknown`): capped exponential backoff within an overall deadline,
/// and at least the server's `Retry-After` after a 429.
///
/// What is retried is decided per call (`OrchestratorClient.call`): reads and writes that carry
/// a request id (`start`, `submit`, `workflows apply`) retry every retryable error, since a
/// retried request id is never applied twice; other writes (membership changes) retry only
/// errors that say the request was not applied.
///
/// ```swift
/// let patient = RetryPolicy(deadlineSeconds: 60)       // ride out a long election
/// let client = OrchestratorClient(baseURL: "http://127.0.0.1:8080", retry: patient)
/// ```
public struct RetryPolicy: Sendable, Hashable {
    /// Most attempts, the first included. Default 50.
    public var attemptsMax: Int
    /// Wait before the first retry. Default 50 ms.
    public var initialBackoffMillis: Int
    /// Longest wait between attempts (the backoff doubles up to it). Default 1 s.
    public var maxBackoffMillis: Int
    /// No retry starts after this much time since the first attempt. Default 15 s: several
    /// election timeouts.
    public var deadlineSeconds: Double

    /// The defaults listed on each field.
    public init(attemptsMax: Int = 50, initialBackoffMillis: Int = 50, maxBackoffMillis: Int = 1_000,
                deadlineSeconds: Double = 15) {
        precondition(attemptsMax >= 1 && initialBackoffMillis >= 0 && maxBackoffMillis >= initialBackoffMillis)
        self.attemptsMax = attemptsMax
        self.initialBackoffMillis = initialBackoffMillis
        self.maxBackoffMillis = maxBackoffMillis
        self.deadlineSeconds = deadlineSeconds
    }

    /// One attempt, no retries.
    public static let none = RetryPolicy(attemptsMax: 1, initialBackoffMillis: 0, maxBackoffMillis: 0, deadlineSeconds: 0)

    /// Runs `operation` until it succeeds, fails with an error `shouldRetry` refuses, or the
    /// policy is exhausted (then the last error is thrown). `onRetry` sees each error retried.
    /// `operation` runs in the caller's task, one attempt at a time, so it may use state that
    /// is not `Sendable` (the file a snapshot download writes).
    public func run<Value>(
        shouldRetry: (ClientError) -> Bool = { $0.isRetryable },
        onRetry: ((ClientError) -> Void)? = nil,
        _ operation: () async throws -> Value
    ) async throws -> Value {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .milliseconds(Int64(deadlineSeconds * 1_000))
        var backoffMillis = initialBackoffMillis
        var attempt = 1
        while true {
            do {
                return try await operation()
            } catch let error as ClientError where shouldRetry(error) {
                var waitMillis = backoffMillis
                if case .busy(_, _, let retryAfterSeconds) = error { waitMillis = max(waitMillis, retryAfterSeconds * 1_000) }
                let wake = clock.now + .milliseconds(waitMillis)
                guard attempt < attemptsMax, wake < deadline, !Task.isCancelled else { throw error }
                onRetry?(error)
                try await Task.sleep(until: wake, clock: clock)
                backoffMillis = min(max(backoffMillis * 2, 1), maxBackoffMillis)
                attempt += 1
            }
        }
    }
}
