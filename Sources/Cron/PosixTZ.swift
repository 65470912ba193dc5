/// The POSIX TZ string of a TZif footer, e.g. `EST5EDT,M3.2.0,M11.1.0` or Lord Howe's
/// `<+1030>-10:30<+11>-11,M10.1.0,M4.1.0`: the rule for every time after the file's last
/// explicit transition (RFC 8536 §3.3; POSIX.1-2017 §8.3, with the RFC's extension of
/// transition times to −167…167 hours).
struct PosixTZ: Sendable, Hashable {
    /// The day a transition happens on.
    enum DateRule: Sendable, Hashable {
        /// `Jn`: day 1…365, February 29 never counted.
        case julianNoLeap(Int)
        /// `n`: day 0…365, February 29 counted in leap years.
        case zeroBased(Int)
        /// `Mm.w.d`: weekday d (0 = Sunday) of week w (1…5, 5 = the last) of month m.
        case monthWeekDay(month: Int, week: Int, weekday: Int)
    }

    /// A transition: its day and its local time of day in seconds (may be negative or past 24h).
    struct Rule: Sendable, Hashable {
        var date: DateRule
        var timeSeconds: Int
    }

    /// Daylight saving time: its offset and when it starts and ends.
    struct Daylight: Sendable, Hashable {
        var offsetSeconds: Int
        var start: Rule
        var end: Rule
    }

    /// Standard time's offset, seconds east of UTC (POSIX writes it west: `EST5` is −18000).
    var standardOffsetSeconds: Int
    var daylight: Daylight?

    /// Parses a TZ string; nil when malformed.
    init?(_ text: String) {
        var reader = Reader(scalars: Array(text.unicodeScalars))
        guard reader.name(), let std = reader.offset() else { return nil }
        standardOffsetSeconds = -std
        if reader.atEnd {
            daylight = nil
            return
        }
        guard reader.name() else { return nil }
        var dstOffset = -std + 3600
        if !reader.atEnd && reader.peek != "," {
            guard let offset = reader.offset() else { return nil }
            dstOffset = -offset
        }
        let start: Rule
        let end: Rule
        if reader.atEnd {
            // POSIX leaves the default rules to the implementation; this is the US rule, as in glibc.
            start = Rule(date: .monthWeekDay(month: 3, week: 2, weekday: 0), timeSeconds: 7200)
            end = Rule(date: .monthWeekDay(month: 11, week: 1, weekday: 0), timeSeconds: 7200)
        } else {
            guard reader.take(","), let s = reader.rule(), reader.take(","), let e = reader.rule(), reader.atEnd else { return nil }
            start = s
            end = e
        }
        daylight = Daylight(offsetSeconds: dstOffset, start: start, end: end)
    }

    /// The two transitions of `year` as (instant in seconds since the epoch, offset after it).
    func transitions(year: Int64) -> [(at: Int64, offset: Int)] {
        guard let daylight else { return [] }
        let start = Self.localSeconds(year: year, rule: daylight.start) - Int64(standardOffsetSeconds)
        let end = Self.localSeconds(year: year, rule: daylight.end) - Int64(daylight.offsetSeconds)
        // At equal instants (DST all year, e.g. `EST5EDT,0/0,J365/25`) standard time comes
        // first, so the offset after both is daylight time.
        if end <= start {
            return [(end, standardOffsetSeconds), (start, daylight.offsetSeconds)]
        }
        return [(start, daylight.offsetSeconds), (end, standardOffsetSeconds)]
    }

    /// The period around `seconds`: its offset and the transitions bounding it (never beyond
    /// the rule's years `seconds`'s year ± 1, which always holds two transitions a year).
    func period(at seconds: Int64) -> ZonePeriod {
        guard daylight != nil else {
            return ZonePeriod(offsetSeconds: standardOffsetSeconds, startSeconds: .min, endSeconds: .max)
        }
        let year = CivilTime.fields(localSeconds: seconds).year
        let all = transitions(year: year - 1) + transitions(year: year) + transitions(year: year + 1)
        var offset = standardOffsetSeconds
        var start = Int64.min
        var end = Int64.max
        for transition in all {
            if transition.at <= seconds {
                offset = transition.offset
                start = transition.at
            } else {
                end = transition.at
                break
            }
        }
        return ZonePeriod(offsetSeconds: offset, startSeconds: start, endSeconds: end)
    }

    /// Local seconds (wall clock) of `rule` in `year`.
    static func localSeconds(year: Int64, rule: Rule) -> Int64 {
        let day: Int64
        switch rule.date {
        case .julianNoLeap(let n):
            // Day 60 is March 1 whether or not February has 29 days.
            let leapShift: Int64 = (CivilTime.isLeapYear(year) && n >= 60) ? 1 : 0
            day = CivilTime.days(year: year, month: 1, day: 1) + Int64(n - 1) + leapShift
        case .zeroBased(let n):
            day = CivilTime.days(year: year, month: 1, day: 1) + Int64(n)
        case .monthWeekDay(let month, let week, let weekday):
            let first = CivilTime.days(year: year, month: month, day: 1)
            let firstWeekday = CivilTime.weekday(days: first)
            var dayOfMonth = 1 + (weekday - firstWeekday + 7) % 7 + (week - 1) * 7
            let length = CivilTime.daysInMonth(year: year, month: month)
            while dayOfMonth > length { dayOfMonth -= 7 }
            day = first + Int64(dayOfMonth - 1)
        }
        return day * CivilTime.secondsPerDay + Int64(rule.timeSeconds)
    }

    /// A cursor over the TZ string.
    struct Reader {
        let scalars: [Unicode.Scalar]
        var index = 0

        var atEnd: Bool { index >= scalars.count }
        var peek: Unicode.Scalar? { atEnd ? nil : scalars[index] }

        mutating func take(_ scalar: Unicode.Scalar) -> Bool {
            guard peek == scalar else { return false }
            index += 1
            return true
        }

        /// `EST` (3+ letters) or `<+1030>` (quoted: letters, digits, + and -).
        mutating func name() -> Bool {
            if take("<") {
                let start = index
                while let c = peek, c != ">" {
                    guard c.properties.isAlphabetic || (c.value >= 48 && c.value <= 57) || c == "+" || c == "-" else { return false }
                    index += 1
                }
                guard index - start >= 3, take(">") else { return false }
                return true
            }
            let start = index
            while let c = peek, c.properties.isAlphabetic, c.isASCII { index += 1 }
            return index - start >= 3
        }

        /// `[+-]h[h][:mm[:ss]]` in seconds, as written (POSIX: positive is west of UTC).
        mutating func offset() -> Int? {
            time(maxHours: 24)
        }

        mutating func time(maxHours: Int) -> Int? {
            var sign = 1
            if take("-") { sign = -1 } else { _ = take("+") }
            guard let hours = digits(max: 3), hours <= maxHours else { return nil }
            var seconds = hours * 3600
            if take(":") {
                guard let minutes = digits(max: 2), minutes < 60 else { return nil }
                seconds += minutes * 60
                if take(":") {
                    guard let secs = digits(max: 2), secs < 60 else { return nil }
                    seconds += secs
                }
            }
            return sign * seconds
        }

        mutating func digits(max count: Int) -> Int? {
            var n = 0
            var taken = 0
            while let c = peek, c.value >= 48, c.value <= 57, taken < count {
                n = n * 10 + Int(c.value - 48)
                taken += 1
                index += 1
            }
            return taken == 0 ? nil : n
        }

        /// `Jn`, `n` or `Mm.w.d`, then an optional `/time` (default 02:00).
        mutating func rule() -> Rule? {
            let date: DateRule
            if take("J") {
                guard let n = digits(max: 3), (1...365).contains(n) else { return nil }
                date = .julianNoLeap(n)
            } else if take("M") {
                guard let m = digits(max: 2), (1...12).contains(m), take("."),
                      let w = digits(max: 1), (1...5).contains(w), take("."),
                      let d = digits(max: 1), (0...6).contains(d) else { return nil }
                date = .monthWeekDay(month: m, week: w, weekday: d)
            } else {
                guard let n = digits(max: 3), (0...365).contains(n) else { return nil }
                date = .zeroBased(n)
            }
            var time = 7200
            if take("/") {
                guard let t = self.time(maxHours: 167) else { return nil }
                time = t
            }
            return Rule(date: date, timeSeconds: time)
        }
    }
}

/// A stretch of time with one UTC offset: `[startSeconds, endSeconds)` between two
/// transitions (`.min` / `.max` when there is none on that side).
struct ZonePeriod: Sendable, Hashable {
    var offsetSeconds: Int
    var startSeconds: Int64
    var endSeconds: Int64
}
