/// Lets a repeated warning through at most once per interval, saying how many times the
/// thing happened since the last line: a flood of bad connections makes a few log lines,
/// not one per connection.
///
/// ```swift
/// if let times = throttle.occurred(atNanos: now) { logger.warning("… (\(times) since the last notice)") }
/// ```
struct NoticeThrottle {
    let intervalNanos: UInt64
    private var lastNanos: UInt64?
    private var heldBack = 0

    init(intervalNanos: UInt64 = 10_000_000_000) {
        self.intervalNanos = intervalNanos
    }

    /// Records one occurrence at `now` (monotonic nanoseconds). Returns nil to stay quiet,
    /// else the occurrences since the last notice, this one included.
    mutating func occurred(atNanos now: UInt64) -> Int? {
        heldBack += 1
        if let lastNanos, now &- lastNanos < intervalNanos { return nil }
        lastNanos = now
        defer { heldBack = 0 }
        return heldBack
    }
}
