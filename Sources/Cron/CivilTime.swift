/// Proleptic Gregorian calendar arithmetic on plain integers (Howard Hinnant's
/// `days_from_civil` / `civil_from_days`), so the target needs no Foundation calendar.
///
/// "Local seconds" below are seconds since 1970-01-01T00:00 of a wall clock: an instant
/// plus its UTC offset.
enum CivilTime {
    static let secondsPerDay: Int64 = 86_400

    /// Days since 1970-01-01 of `year`-`month`-`day` (month 1…12; the day may run past the
    /// month's end, it is counted on).
    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day number from `days(year:month:day:)`.
    static func date(days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday).
    static func weekday(days: Int64) -> Int {
        Int(floorMod(days + 4, 7))
    }

    static func isLeapYear(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysInMonth(year: Int64, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 {
        a - floorDiv(a, b) * b
    }

    /// The broken-down wall-clock time of `localSeconds`.
    static func fields(localSeconds: Int64) -> (year: Int64, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let days = floorDiv(localSeconds, secondsPerDay)
        let secondOfDay = Int(localSeconds - days * secondsPerDay)
        let date = date(days: days)
        return (date.year, date.month, date.day, secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
    }
}

extension CivilTime {
    /// The first whole minute at or after `seconds`.
    static func ceilToMinute(_ seconds: Int64) -> Int64 {
        let down = floorDiv(seconds, 60) * 60
        return down == seconds ? seconds : down + 60
    }

    /// The last whole minute at or before `seconds`.
    static func floorToMinute(_ seconds: Int64) -> Int64 {
        floorDiv(seconds, 60) * 60
    }
}
