/// When the transitions of an open-loop run (`bench --rate R`) are meant to be sent: the
/// n-th transition of the run (its ticket, counted from 0 across all clients) is due
/// `n / R` seconds after the origin, whichever client sends it. A client that is free takes
/// the next ticket and waits for its time; when every client is busy as a ticket falls due,
/// the ticket waits for the first client to come free and is sent late.
///
/// Latency is measured from the intended send time, not the actual one (as wrk2 does): a
/// server that stalls for a second makes every transition due in that second late, and
/// each of them counts the wait. Closed-loop clients would instead send nothing during the
/// stall and record one slow answer (coordinated omission). How far behind the schedule a
/// send was is its lag; the report gives the largest.
///
/// ```swift
/// let schedule = OpenLoopSchedule(ratePerSecond: 1_000)
/// schedule.intendedNanos(ticket: 3)                       // 3_000_000: 3 ms after the origin
/// schedule.latencyNanos(ticket: 3, answeredNanos: 9_000_000)   // 6 ms, however late it was sent
/// ```
struct OpenLoopSchedule: Sendable, Hashable {
    /// Transitions per second, in total across all clients.
    let ratePerSecond: Double

    /// A schedule of `ratePerSecond` transitions per second (more than 0, finite).
    init(ratePerSecond: Double) {
        precondition(ratePerSecond > 0 && ratePerSecond.isFinite, "a schedule needs a positive, finite rate")
        self.ratePerSecond = ratePerSecond
    }

    /// When ticket `ticket` is due, in nanoseconds after the origin.
    func intendedNanos(ticket: Int) -> Int64 {
        precondition(ticket >= 0)
        // Computed from the ticket each time, not by adding up intervals, so rounding errors
        // never accumulate over a long run.
        return Int64((Double(ticket) * 1e9 / ratePerSecond).rounded(.down))
    }

    /// How many tickets fall due in the first `durationNanos` after the origin.
    func ticketsDue(withinNanos durationNanos: Int64) -> Int {
        guard durationNanos > 0 else { return 0 }
        var count = Int((Double(durationNanos) * ratePerSecond / 1e9).rounded(.up))
        // Correct the estimate at the edge, where floating point may be one off either way.
        while count > 0, intendedNanos(ticket: count - 1) >= durationNanos { count -= 1 }
        while intendedNanos(ticket: count) < durationNanos { count += 1 }
        return count
    }

    /// The latency of ticket `ticket` answered at `answeredNanos` after the origin: from the
    /// time it was due, including any wait for a free client and every retry.
    func latencyNanos(ticket: Int, answeredNanos: Int64) -> Int64 {
        max(0, answeredNanos - intendedNanos(ticket: ticket))
    }

    /// How far behind the schedule ticket `ticket` was sent at `sentNanos`; 0 when on time.
    func lagNanos(ticket: Int, sentNanos: Int64) -> Int64 {
        max(0, sentNanos - intendedNanos(ticket: ticket))
    }
}
