@testable import Cron
import XCTest

/// TZif files, POSIX TZ footers and ISO 8601 text.
final class TimeZoneTests: XCTestCase {
    func offset(_ zone: String, _ utc: String) throws -> Int {
        try CronTimeZone.named(zone).offsetSeconds(atMillis: ms(utc))
    }

    func testOffsetsMatchKnownValues() throws {
        XCTAssertEqual(try offset("America/New_York", "2026-01-15T12:00:00Z"), -5 * 3600)
        XCTAssertEqual(try offset("America/New_York", "2026-07-15T12:00:00Z"), -4 * 3600)
        XCTAssertEqual(try offset("America/New_York", "2026-03-08T06:59:59Z"), -5 * 3600)
        XCTAssertEqual(try offset("America/New_York", "2026-03-08T07:00:00Z"), -4 * 3600)
        XCTAssertEqual(try offset("Europe/Berlin", "2026-03-29T00:59:59Z"), 3600)
        XCTAssertEqual(try offset("Europe/Berlin", "2026-03-29T01:00:00Z"), 7200)
        XCTAssertEqual(try offset("Australia/Lord_Howe", "2026-01-15T00:00:00Z"), 11 * 3600)
        XCTAssertEqual(try offset("Australia/Lord_Howe", "2026-07-15T00:00:00Z"), 10 * 3600 + 1800)
        XCTAssertEqual(try offset("Asia/Kolkata", "2026-07-15T00:00:00Z"), 5 * 3600 + 1800)
        XCTAssertEqual(try offset("UTC", "2026-07-15T00:00:00Z"), 0)
        // History from the table: New York had year-round DST ("war time") in 1943.
        XCTAssertEqual(try offset("America/New_York", "1943-01-15T12:00:00Z"), -4 * 3600)
    }

    func testFooterRulesDecideTimesBeyondTheTable() throws {
        let zone = try CronTimeZone.named("America/New_York")
        let last = zone.rules.transitionSeconds.last ?? 0
        XCTAssertNotNil(zone.rules.footer)
        // Far beyond any table (2090): the footer's rule, second Sunday of March at 02:00.
        XCTAssertEqual(try offset("America/New_York", "2090-03-12T06:59:59Z"), -5 * 3600)
        XCTAssertEqual(try offset("America/New_York", "2090-03-12T07:00:00Z"), -4 * 3600)
        XCTAssertEqual(try offset("America/New_York", "2090-11-05T05:59:59Z"), -4 * 3600)
        XCTAssertEqual(try offset("America/New_York", "2090-11-05T06:00:00Z"), -5 * 3600)
        XCTAssertLessThan(last, ms("2090-01-01T00:00:00Z") / 1000)
        // A table cut short: the footer alone gives the same answers.
        var truncated = zone.rules
        let cut = truncated.transitionSeconds.firstIndex { $0 > ms("2010-01-01T00:00:00Z") / 1000 }!
        truncated.transitionSeconds.removeSubrange(cut...)
        truncated.offsetsAfter.removeSubrange(cut...)
        for year in 2010...2040 {
            let t = CivilTime.days(year: Int64(year), month: 3, day: 20) * 86_400
            XCTAssertEqual(truncated.period(at: t), zone.rules.period(at: t), "\(year)")
            let u = CivilTime.days(year: Int64(year), month: 11, day: 20) * 86_400
            XCTAssertEqual(truncated.period(at: u), zone.rules.period(at: u), "\(year)")
        }
    }

    func testPosixTZStrings() throws {
        let us = try XCTUnwrap(PosixTZ("EST5EDT,M3.2.0,M11.1.0"))
        XCTAssertEqual(us.standardOffsetSeconds, -5 * 3600)
        XCTAssertEqual(us.daylight?.offsetSeconds, -4 * 3600)
        XCTAssertEqual(us.transitions(year: 2026).map(\.at), [ms("2026-03-08T07:00:00Z") / 1000, ms("2026-11-01T06:00:00Z") / 1000])

        let lordHowe = try XCTUnwrap(PosixTZ("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0"))
        XCTAssertEqual(lordHowe.standardOffsetSeconds, 10 * 3600 + 1800)
        XCTAssertEqual(lordHowe.daylight?.offsetSeconds, 11 * 3600)
        XCTAssertEqual(lordHowe.period(at: ms("2026-01-01T00:00:00Z") / 1000).offsetSeconds, 11 * 3600)
        XCTAssertEqual(lordHowe.transitions(year: 2026).map(\.at),
                       [ms("2026-04-05T02:00:00+11:00") / 1000, ms("2026-10-04T02:00:00+10:30") / 1000])

        // Transition times /-1, /25 and Jn and n day rules.
        let greenland = try XCTUnwrap(PosixTZ("<-02>2<-01>,M3.5.0/-1,M10.5.0/0"))
        XCTAssertEqual(greenland.transitions(year: 2026).map(\.at),
                       [ms("2026-03-28T23:00:00-02:00") / 1000, ms("2026-10-25T00:00:00-01:00") / 1000])
        let julian = try XCTUnwrap(PosixTZ("XXX3YYY,J60/25,300"))
        XCTAssertEqual(julian.transitions(year: 2028).map(\.at),
                       [ms("2028-03-02T01:00:00-03:00") / 1000, ms("2028-10-27T02:00:00-02:00") / 1000])
        XCTAssertEqual(PosixTZ("IST-5:30")?.standardOffsetSeconds, 5 * 3600 + 1800)
        XCTAssertNil(PosixTZ("IST-5:30,"))
        XCTAssertNil(PosixTZ("5"))
        XCTAssertNil(PosixTZ("EST5EDT,M13.1.0,M11.1.0"))
        XCTAssertNil(PosixTZ("EST5EDT,M3.2.0/200,M11.1.0"))
    }

    func testMalformedTZifIsRejected() {
        XCTAssertThrowsError(try TZif(bytes: Array("TZjf".utf8)))
        XCTAssertThrowsError(try TZif(bytes: Array("TZif2".utf8) + [UInt8](repeating: 0, count: 10)))
        var random = SeededRandom(seed: 99)
        let real = CronTimeZone.readFile("/usr/share/zoneinfo/Europe/Berlin", bytesMax: 1 << 20) ?? []
        XCTAssertFalse(real.isEmpty)
        for _ in 0..<2000 where !real.isEmpty {
            var bytes = real
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            if Bool.random(using: &random) { bytes.removeLast(Int.random(in: 0..<bytes.count, using: &random)) }
            if let zone = try? TZif(bytes: bytes) { _ = zone.period(at: 1_780_000_000) }
        }
    }

    func testISO8601FormatAndParse() throws {
        let ny = try CronTimeZone.named("America/New_York")
        XCTAssertEqual(CronTime.iso8601(ms("2026-03-08T07:00:00Z"), in: ny), "2026-03-08T03:00:00-04:00")
        XCTAssertEqual(CronTime.iso8601(ms("2026-03-08T07:00:00.250Z"), in: .utc), "2026-03-08T07:00:00.250+00:00")
        XCTAssertEqual(CronTime.iso8601(-1, in: .utc), "1969-12-31T23:59:59.999+00:00")
        XCTAssertEqual(CronTime.iso8601(0, in: try CronTimeZone.named("Asia/Kolkata")), "1970-01-01T05:30:00+05:30")
        XCTAssertEqual(CronTime.parseISO8601("2026-03-08T03:00:00-04:00", in: .utc), 1_772_953_200_000)
        XCTAssertEqual(CronTime.parseISO8601("2026-03-08T07:00:00Z", in: ny), 1_772_953_200_000)
        XCTAssertEqual(CronTime.parseISO8601("2026-03-08T07:00:00.5Z", in: ny), 1_772_953_200_500)
        XCTAssertEqual(CronTime.parseISO8601("2026-03-08T03:00", in: ny), 1_772_953_200_000)
        XCTAssertEqual(CronTime.parseISO8601("2026-03-08T03:00:00", in: ny), 1_772_953_200_000)
        XCTAssertEqual(CronTime.parseISO8601("2026-03-08", in: ny), ms("2026-03-08T05:00:00Z"))
        // Local times: a repeated one is its first occurrence, a skipped one the end of the gap.
        XCTAssertEqual(CronTime.parseISO8601("2026-11-01T01:30", in: ny), ms("2026-11-01T05:30:00Z"))
        XCTAssertEqual(CronTime.parseISO8601("2026-03-08T02:30", in: ny), ms("2026-03-08T07:00:00Z"))
        for bad in ["", "2026", "2026-02-30", "2026-13-01", "2026-03-08T24:00", "2026-03-08T03:00:00+", "2026-03-08T03:00Zx",
                    "2026-03-08T3:00", "tomorrow", "2026-03-08T03:00:00.+01:00"] {
            XCTAssertNil(CronTime.parseISO8601(bad, in: ny), bad)
        }
    }
}
