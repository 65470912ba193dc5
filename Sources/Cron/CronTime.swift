/// ISO 8601 text for instants (ms since the epoch), with the offset of a zone.
public enum CronTime {
    /// `2026-03-08T03:00:00-04:00`: seconds always, `.123` only when the milliseconds are not
    /// zero, and the offset always numeric (`+00:00`, never `Z`).
    public static func iso8601(_ millis: Int64, in zone: CronTimeZone) -> String {
        let offset = zone.offsetSeconds(atMillis: millis)
        let seconds = CivilTime.floorDiv(millis, 1000)
        let fraction = Int(millis - seconds * 1000)
        let f = CivilTime.fields(localSeconds: seconds + Int64(offset))
        var text = f.year < 0 ? "-" + pad(Int(-f.year), 4) : pad(Int(f.year), 4)
        text += "-\(pad(f.month, 2))-\(pad(f.day, 2))T\(pad(f.hour, 2)):\(pad(f.minute, 2)):\(pad(f.second, 2))"
        if fraction != 0 { text += "." + pad(fraction, 3) }
        let magnitude = abs(offset)
        text += (offset < 0 ? "-" : "+") + pad(magnitude / 3600, 2) + ":" + pad(magnitude / 60 % 60, 2)
        if magnitude % 60 != 0 { text += ":" + pad(magnitude % 60, 2) }
        return text
    }

    /// Parses `2026-03-08T03:00:00-04:00`, `…Z`, `2026-03-08T03:00:00.250+01:00`, and without
    /// an offset `2026-03-08T03:00`, `2026-03-08T03:00:00`, `2026-03-08` (local time in
    /// `zone`; a repeated local time is its first occurrence, a skipped one the first instant
    /// after the gap). Nil when malformed.
    public static func parseISO8601(_ text: String, in zone: CronTimeZone) -> Int64? {
        var reader = Reader(bytes: Array(text.utf8))
        guard let year = reader.digits(4), reader.take("-"), let month = reader.digits(2), reader.take("-"),
              let day = reader.digits(2), (1...12).contains(month),
              (1...CivilTime.daysInMonth(year: Int64(year), month: month)).contains(day) else { return nil }
        var hour = 0, minute = 0, second = 0, millis = 0
        var offset: Int?
        if !reader.atEnd {
            guard reader.take("T") || reader.take("t") || reader.take(" "),
                  let h = reader.digits(2), reader.take(":"), let m = reader.digits(2), h < 24, m < 60 else { return nil }
            hour = h
            minute = m
            if reader.take(":") {
                guard let s = reader.digits(2), s < 60 else { return nil }
                second = s
                if reader.take(".") || reader.take(",") {
                    var count = 0
                    while let d = reader.digit() {
                        if count < 3 { millis = millis * 10 + d }
                        count += 1
                    }
                    guard count > 0, count <= 9 else { return nil }
                    for _ in count..<3 where count < 3 { millis *= 10 }
                }
            }
            if reader.take("Z") || reader.take("z") {
                offset = 0
            } else if let sign = reader.peek, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                reader.index += 1
                guard let oh = reader.digits(2), oh <= 23 else { return nil }
                var om = 0
                if reader.take(":") {
                    guard let m = reader.digits(2) else { return nil }
                    om = m
                } else if let m = reader.digits(2) {
                    om = m
                }
                guard om < 60 else { return nil }
                offset = (sign == UInt8(ascii: "-") ? -1 : 1) * (oh * 3600 + om * 60)
            }
            guard reader.atEnd else { return nil }
        }
        let local = CivilTime.days(year: Int64(year), month: month, day: day) * CivilTime.secondsPerDay
            + Int64(hour * 3600 + minute * 60 + second)
        let instant = offset.map { local - Int64($0) } ?? zone.instant(forLocalSeconds: local)
        return instant * 1000 + Int64(millis)
    }

    static func pad(_ n: Int, _ width: Int) -> String {
        let digits = String(n)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    struct Reader {
        let bytes: [UInt8]
        var index = 0
        var atEnd: Bool { index >= bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[index] }

        mutating func take(_ c: Character) -> Bool {
            guard let ascii = c.asciiValue, peek == ascii else { return false }
            index += 1
            return true
        }

        mutating func digit() -> Int? {
            guard let b = peek, b >= 48, b <= 57 else { return nil }
            index += 1
            return Int(b - 48)
        }

        mutating func digits(_ count: Int) -> Int? {
            var n = 0
            for _ in 0..<count {
                guard let d = digit() else { return nil }
                n = n * 10 + d
            }
            return n
        }
    }
}

extension CronTimeZone {
    /// The instant of a wall-clock time: the first when it occurs twice, the first instant
    /// after the gap when it does not occur.
    func instant(forLocalSeconds local: Int64) -> Int64 {
        // Every offset in effect within a day either side; each is tried.
        let candidates = [period(at: local - 86_400).offsetSeconds, period(at: local).offsetSeconds,
                          period(at: local + 86_400).offsetSeconds]
        var best: Int64?
        for offset in candidates {
            let instant = local - Int64(offset)
            if period(at: instant).offsetSeconds == offset, best.map({ instant < $0 }) ?? true { best = instant }
        }
        if let best { return best }
        // In a gap: read with the offset before it, the instant lands after the transition.
        return period(at: local - Int64(candidates[0])).startSeconds
    }
}
