@testable import Cron
import XCTest

/// Milliseconds of an ISO 8601 text (with offset, or local in `zone`); fails the test when malformed.
func ms(_ text: String, _ zone: String = "UTC", file: StaticString = #filePath, line: UInt = #line) -> Int64 {
    guard let zone = try? CronTimeZone.named(zone), let millis = CronTime.parseISO8601(text, in: zone) else {
        XCTFail("cannot parse \(text) in \(zone)", file: file, line: line)
        return 0
    }
    return millis
}

/// The next `count` fire times of `expression` after `from`, as ISO 8601 in the schedule's zone.
func nextTimes(_ expression: String, _ zone: String = "UTC", from: String, count: Int = 5,
               anchor: Int64 = 0, file: StaticString = #filePath, line: UInt = #line) -> [String] {
    do {
        let schedule = try CronSchedule(expression, timeZone: zone)
        let tz = try CronTimeZone.named(zone)
        var out: [String] = []
        var t = ms(from, zone, file: file, line: line)
        for _ in 0..<count {
            guard let n = schedule.next(after: t, anchorMillis: anchor) else { break }
            XCTAssertGreaterThan(n, t, "next(after:) must move forward", file: file, line: line)
            out.append(CronTime.iso8601(n, in: tz))
            t = n
        }
        return out
    } catch {
        XCTFail("\(error)", file: file, line: line)
        return []
    }
}

/// The previous `count` fire times before `from`, newest first.
func previousTimes(_ expression: String, _ zone: String = "UTC", before: String, count: Int = 5,
                   anchor: Int64 = 0, file: StaticString = #filePath, line: UInt = #line) -> [String] {
    do {
        let schedule = try CronSchedule(expression, timeZone: zone)
        let tz = try CronTimeZone.named(zone)
        var out: [String] = []
        var t = ms(before, zone, file: file, line: line)
        for _ in 0..<count {
            guard let p = schedule.previous(before: t, anchorMillis: anchor) else { break }
            XCTAssertLessThan(p, t, "previous(before:) must move back", file: file, line: line)
            out.append(CronTime.iso8601(p, in: tz))
            t = p
        }
        return out
    } catch {
        XCTFail("\(error)", file: file, line: line)
        return []
    }
}

/// The message of the error `expression` is rejected with, or nil when it parses.
func cronError(_ expression: String, zone: String = "UTC") -> CronError? {
    do {
        _ = try CronSchedule(expression, timeZone: zone)
        return nil
    } catch {
        return error
    }
}

/// A small seeded generator (SplitMix64), so every random test is reproducible from its seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
