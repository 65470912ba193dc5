/// A parsed 5-field expression as bitsets, one bit per allowed value, so matching a value is
/// a shift and finding the next allowed value is a count of trailing zeros.
struct CronFields: Sendable, Hashable {
    /// Bits 0…59.
    var minutes: UInt64
    /// Bits 0…23.
    var hours: UInt64
    /// Bits 1…31.
    var daysOfMonth: UInt64
    /// Bits 1…12.
    var months: UInt64
    /// Bits 0…6, 0 = Sunday (a written 7 is folded into 0).
    var daysOfWeek: UInt64
    /// Both day fields are restricted: a day matches when either matches (Vixie cron's rule,
    /// with "restricted" decided as croniter does; see `CronParser`). Otherwise both must.
    var daysCombineWithOr: Bool
    /// The hour field names plain hours only (values and ranges, no `*`, no step): such a
    /// schedule names fixed wall-clock times, and the DST rules for fixed times apply.
    var hourIsFixed: Bool

    /// The days of `month` in `year` that match, as bits 1…31.
    func days(year: Int64, month: Int) -> UInt64 {
        let length = CivilTime.daysInMonth(year: year, month: month)
        let firstWeekday = CivilTime.weekday(days: CivilTime.days(year: year, month: month, day: 1))
        // Bit r of `rotated` says whether day r+1 (weekday firstWeekday+r) matches.
        let rotated = ((daysOfWeek >> UInt64(firstWeekday)) | (daysOfWeek << UInt64(7 - firstWeekday))) & 0x7F
        let byWeekday = (rotated | rotated << 7 | rotated << 14 | rotated << 21 | rotated << 28) << 1
        let combined = daysCombineWithOr ? (daysOfMonth | byWeekday) : (daysOfMonth & byWeekday)
        return combined & ((UInt64(1) << UInt64(length + 1)) - 2)
    }

    /// The first matching wall-clock minute at or after `lowSeconds` (local seconds) and before
    /// `highSeconds`, or nil.
    func firstMatch(atOrAfter lowSeconds: Int64, before highSeconds: Int64) -> Int64? {
        guard lowSeconds < highSeconds else { return nil }
        let start = CivilTime.ceilToMinute(lowSeconds)
        let f = CivilTime.fields(localSeconds: start)
        var year = f.year, month = f.month, day = f.day, hour = f.hour, minute = f.minute
        while true {
            let dayNumber = CivilTime.days(year: year, month: month, day: day)
            guard dayNumber * CivilTime.secondsPerDay + Int64(hour * 3600 + minute * 60) < highSeconds else { return nil }
            guard let m = Bits.next(months, from: month) else {
                year += 1; month = 1; day = 1; hour = 0; minute = 0
                continue
            }
            if m != month { month = m; day = 1; hour = 0; minute = 0 }
            guard let d = Bits.next(days(year: year, month: month), from: day) else {
                month += 1; day = 1; hour = 0; minute = 0
                continue
            }
            if d != day { day = d; hour = 0; minute = 0 }
            guard let h = Bits.next(hours, from: hour) else {
                day += 1; hour = 0; minute = 0
                continue
            }
            if h != hour { hour = h; minute = 0 }
            guard let mi = Bits.next(minutes, from: minute) else {
                hour += 1; minute = 0
                continue
            }
            let found = CivilTime.days(year: year, month: month, day: day) * CivilTime.secondsPerDay
                + Int64(hour * 3600 + mi * 60)
            return found < highSeconds ? found : nil
        }
    }

    /// The last matching wall-clock minute at or before `highSeconds` (local seconds) and at or
    /// after `lowSeconds`, or nil.
    func lastMatch(atOrBefore highSeconds: Int64, notBefore lowSeconds: Int64) -> Int64? {
        guard lowSeconds <= highSeconds else { return nil }
        let f = CivilTime.fields(localSeconds: highSeconds)
        var year = f.year, month = f.month, day = f.day, hour = f.hour, minute = f.minute
        while true {
            let dayNumber = CivilTime.days(year: year, month: month, day: day)
            guard dayNumber * CivilTime.secondsPerDay + Int64(hour * 3600 + minute * 60) >= lowSeconds else { return nil }
            guard let m = Bits.previous(months, atOrBelow: month) else {
                year -= 1; month = 12; day = 31; hour = 23; minute = 59
                continue
            }
            if m != month { month = m; day = 31; hour = 23; minute = 59 }
            guard let d = Bits.previous(days(year: year, month: month), atOrBelow: day) else {
                // Day 0 of a month is the last day of the one before; the month search above
                // moves on from there.
                month -= 1
                if month == 0 { year -= 1; month = 12 }
                day = 31; hour = 23; minute = 59
                continue
            }
            if d != day { day = d; hour = 23; minute = 59 }
            guard let h = Bits.previous(hours, atOrBelow: hour) else {
                day -= 1; hour = 23; minute = 59
                if day == 0 {
                    month -= 1
                    if month == 0 { year -= 1; month = 12 }
                    day = 31
                }
                continue
            }
            if h != hour { hour = h; minute = 59 }
            guard let mi = Bits.previous(minutes, atOrBelow: minute) else {
                hour -= 1; minute = 59
                if hour < 0 {
                    hour = 23; day -= 1
                    if day == 0 {
                        month -= 1
                        if month == 0 { year -= 1; month = 12 }
                        day = 31
                    }
                }
                continue
            }
            let found = CivilTime.days(year: year, month: month, day: day) * CivilTime.secondsPerDay
                + Int64(hour * 3600 + mi * 60)
            return found >= lowSeconds ? found : nil
        }
    }
}

/// Bit searches on a 64-bit set.
enum Bits {
    /// The lowest set bit at or above `from`, or nil.
    @inline(__always)
    static func next(_ mask: UInt64, from: Int) -> Int? {
        guard from < 64 else { return nil }
        let shifted = mask >> UInt64(max(from, 0))
        return shifted == 0 ? nil : max(from, 0) + shifted.trailingZeroBitCount
    }

    /// The highest set bit at or below `atOrBelow`, or nil.
    @inline(__always)
    static func previous(_ mask: UInt64, atOrBelow: Int) -> Int? {
        guard atOrBelow >= 0 else { return nil }
        let kept = atOrBelow >= 63 ? mask : mask & ((UInt64(1) << UInt64(atOrBelow + 1)) - 1)
        return kept == 0 ? nil : 63 - kept.leadingZeroBitCount
    }
}
