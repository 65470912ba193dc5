/// A parsed cron expression in a time zone, answering "when does it fire next?".
///
/// ```swift
/// let nightly = try CronSchedule("30 2 * * *", timeZone: "America/New_York")
/// nightly.next(after: now)       // ms since the epoch of the next 02:30 in New York
/// let every = try CronSchedule("@every 1h30m")
/// every.next(after: now, anchorMillis: createdAt)   // createdAt + k·90min
/// ```
///
/// Calendar expressions fire on whole minutes of the zone's wall clock. Across DST changes:
/// - a *fixed* time (the hour field is plain values or ranges: `30 2 * * *`, `0 1,13 * * *`,
///   `0 9-17 * * *`) that a spring-forward gap skips fires once, at the first instant after
///   the gap (02:30 on 2026-03-08 in New York fires at 03:00-04:00);
/// - a fixed time that a fall-back repeats fires once, at its first occurrence;
/// - a schedule whose hour field has `*` or a step (`*/15 * * * *`, `0 */2 * * *`) follows
///   real time: times in a gap do not occur, both copies of a repeated time fire.
public struct CronSchedule: Sendable, Hashable {
    /// The expression as written.
    public let expression: String
    /// The zone's name as given.
    public let timeZoneName: String
    let rule: CronParser.Rule
    /// The zone the expression is read in.
    public let zone: CronTimeZone

    /// How far `next` and `previous` look: about 5 years (5·366 days).
    static let searchSecondsMax: Int64 = 5 * 366 * 86_400

    /// Parses `expression` and loads `timeZone` (an IANA name; `UTC` is built in and needs
    /// no tz files).
    public init(_ expression: String, timeZone: String = "UTC") throws(CronError) {
        try self.init(expression, zone: try CronTimeZone.named(timeZone))
    }

    /// Parses `expression` to be read in `zone`.
    public init(_ expression: String, zone: CronTimeZone) throws(CronError) {
        self.expression = expression
        self.timeZoneName = zone.name
        self.rule = try CronParser.parse(expression)
        self.zone = zone
    }

    /// For `@every D`: D in ms; nil for calendar expressions.
    public var intervalMillis: Int64? {
        if case .every(let millis) = rule { return millis }
        return nil
    }

    /// The first fire time strictly after `millis` (ms since the epoch), or nil if there is
    /// none within about 5 years (`0 0 30 2 *` never fires).
    ///
    /// For `@every D` the fire times are `anchorMillis + k·D` for k ≥ 1 (every slot after
    /// the anchor); `anchorMillis` is ignored for calendar expressions.
    public func next(after millis: Int64, anchorMillis: Int64 = 0) -> Int64? {
        switch rule {
        case .every(let interval):
            guard millis >= anchorMillis else { return Self.slot(anchorMillis, 1, interval) }
            return Self.slot(anchorMillis, (millis - anchorMillis) / interval + 1, interval)
        case .calendar(let fields):
            return nextCalendar(fields, after: millis)
        }
    }

    /// The last fire time strictly before `millis`, or nil if there is none within about 5
    /// years back (for `@every`: none at or before the anchor).
    public func previous(before millis: Int64, anchorMillis: Int64 = 0) -> Int64? {
        switch rule {
        case .every(let interval):
            guard millis > anchorMillis else { return nil }
            let (distance, overflow) = millis.subtractingReportingOverflow(anchorMillis)
            guard !overflow else { return nil }
            let k = (distance - 1) / interval
            return k >= 1 ? Self.slot(anchorMillis, k, interval) : nil
        case .calendar(let fields):
            return previousCalendar(fields, before: millis)
        }
    }

    /// `anchor + k·interval`, nil on overflow.
    static func slot(_ anchor: Int64, _ k: Int64, _ interval: Int64) -> Int64? {
        let (offset, o1) = k.multipliedReportingOverflow(by: interval)
        let (sum, o2) = anchor.addingReportingOverflow(offset)
        return o1 || o2 ? nil : sum
    }

    /// Walks the zone's periods (stretches of one UTC offset) forward from `millis`: in each,
    /// the wall clock maps one-to-one onto instants, so the first matching wall-clock minute
    /// is the answer; between periods the DST rules for fixed times apply.
    func nextCalendar(_ fields: CronFields, after millis: Int64) -> Int64? {
        // Fire times are whole seconds, so "after millis" is "at or after this second".
        let (firstAllowed, overflow) = CivilTime.floorDiv(millis, 1000).addingReportingOverflow(1)
        guard !overflow, firstAllowed < Int64.max / 2, firstAllowed > Int64.min / 2 else { return nil }
        let limit = firstAllowed + Self.searchSecondsMax
        var from = firstAllowed
        while from < limit {
            let period = zone.period(at: from)
            let offset = Int64(period.offsetSeconds)
            var low = from + offset
            if fields.hourIsFixed, period.startSeconds != .min {
                // After a fall-back, wall-clock times already passed in the period before are
                // repeats; a fixed time fired at its first occurrence.
                let before = Int64(zone.period(at: period.startSeconds - 1).offsetSeconds)
                if before > offset { low = max(low, period.startSeconds + before) }
            }
            let end = min(period.endSeconds, limit)
            if let local = fields.firstMatch(atOrAfter: low, before: end + offset) {
                return (local - offset) * 1000
            }
            guard period.endSeconds < limit else { return nil }
            if fields.hourIsFixed {
                // A spring-forward gap: a fixed time inside it fires at the first instant after.
                let after = Int64(zone.period(at: period.endSeconds).offsetSeconds)
                if after > offset,
                   fields.firstMatch(atOrAfter: period.endSeconds + offset, before: period.endSeconds + after) != nil {
                    return period.endSeconds * 1000
                }
            }
            from = period.endSeconds
        }
        return nil
    }

    /// `nextCalendar` backwards: the same set of fire times, searched from the other end.
    func previousCalendar(_ fields: CronFields, before millis: Int64) -> Int64? {
        // The last allowed second s has s·1000 < millis.
        let lastAllowed = CivilTime.floorDiv(millis - 1, 1000)
        guard lastAllowed < Int64.max / 2, lastAllowed > Int64.min / 2 else { return nil }
        let limit = lastAllowed - Self.searchSecondsMax
        var to = lastAllowed
        while to > limit {
            let period = zone.period(at: to)
            let offset = Int64(period.offsetSeconds)
            var low = max(period.startSeconds, limit) + offset
            var gapFires = false
            if fields.hourIsFixed, period.startSeconds != .min {
                let before = Int64(zone.period(at: period.startSeconds - 1).offsetSeconds)
                if before > offset { low = max(low, period.startSeconds + before) }
                if before < offset {
                    gapFires = fields.firstMatch(atOrAfter: period.startSeconds + before, before: period.startSeconds + offset) != nil
                }
            }
            if let local = fields.lastMatch(atOrBefore: to + offset, notBefore: low) {
                return (local - offset) * 1000
            }
            guard period.startSeconds > limit else { return nil }
            if gapFires { return period.startSeconds * 1000 }
            to = period.startSeconds - 1
        }
        return nil
    }
}
