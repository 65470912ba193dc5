@testable import Cron
import XCTest

/// Every syntax form, and every error with its message and column.
final class ParserTests: XCTestCase {
    func fields(_ expression: String) throws -> CronFields {
        guard case .calendar(let fields) = try CronParser.parse(expression) else {
            XCTFail("\(expression) is not a calendar expression")
            throw CronError(message: "not calendar")
        }
        return fields
    }

    func bits(_ values: [Int]) -> UInt64 { values.reduce(0) { $0 | 1 << UInt64($1) } }

    func testValuesListsRangesAndSteps() throws {
        let f = try fields("5,10-12,*/20,40-50/5,57/2 3 * * *")
        XCTAssertEqual(f.minutes, bits([5, 10, 11, 12, 0, 20, 40, 45, 50, 57, 59]))
        XCTAssertEqual(f.hours, bits([3]))
        XCTAssertEqual(try fields("* * * * *").minutes, (1 << 60) - 1)
        XCTAssertEqual(try fields("0 */7 * * *").hours, bits([0, 7, 14, 21]))
        // `a/n` is `a-max/n`, as croniter reads it.
        XCTAssertEqual(try fields("0 20/2 * * *").hours, bits([20, 22]))
        XCTAssertEqual(try fields("0 0 */10 * *").daysOfMonth, bits([1, 11, 21, 31]))
    }

    func testNamesInAnyCaseAndSundayAsZeroOrSeven() throws {
        XCTAssertEqual(try fields("0 0 * jan,Mar-MAY,oct/2 *").months, bits([1, 3, 4, 5, 10, 12]))
        XCTAssertEqual(try fields("0 0 * * mon-FRI").daysOfWeek, bits([1, 2, 3, 4, 5]))
        XCTAssertEqual(try fields("0 0 * * 7").daysOfWeek, bits([0]))
        XCTAssertEqual(try fields("0 0 * * 0").daysOfWeek, bits([0]))
        XCTAssertEqual(try fields("0 0 * * 5-7").daysOfWeek, bits([0, 5, 6]))
        XCTAssertEqual(try fields("0 0 * * sat,SUN").daysOfWeek, bits([0, 6]))
        // `*/n` in day-of-week runs over 0-6 (7 is only Sunday's other name).
        XCTAssertEqual(try fields("0 0 * * */3").daysOfWeek, bits([0, 3, 6]))
        XCTAssertEqual(try fields("0 0 * * 1/3").daysOfWeek, bits([1, 4]))
    }

    func testWhitespaceIsSpacesOrTabsAndIsTrimmed() throws {
        XCTAssertEqual(try fields("  0\t3  *   * \t* ").hours, bits([3]))
    }

    func testMacrosInAnyCase() throws {
        XCTAssertEqual(try fields("@yearly"), try fields("0 0 1 1 *"))
        XCTAssertEqual(try fields("@ANNUALLY"), try fields("0 0 1 1 *"))
        XCTAssertEqual(try fields("@Monthly"), try fields("0 0 1 * *"))
        XCTAssertEqual(try fields("@weekly"), try fields("0 0 * * 0"))
        XCTAssertEqual(try fields("@daily"), try fields("0 0 * * *"))
        XCTAssertEqual(try fields(" @midnight "), try fields("0 0 * * *"))
        XCTAssertEqual(try fields("@hourly"), try fields("0 * * * *"))
    }

    func testEveryDurations() throws {
        XCTAssertEqual(try CronSchedule("@every 90s").intervalMillis, 90_000)
        XCTAssertEqual(try CronSchedule("@every 1h30m").intervalMillis, 5_400_000)
        XCTAssertEqual(try CronSchedule("@EVERY 1m30s500ms").intervalMillis, 90_500)
        XCTAssertEqual(try CronSchedule("@every 1s").intervalMillis, 1000)
        XCTAssertEqual(try CronSchedule("@every 87600h").intervalMillis, 87_600 * 3_600_000)
        XCTAssertNil(try CronSchedule("@daily").intervalMillis)
    }

    func testDayFieldsCombineWithOrOnlyWhenBothAreRestrictedAsCroniterDecides() throws {
        XCTAssertTrue(try fields("0 0 1 * MON").daysCombineWithOr)
        XCTAssertFalse(try fields("0 0 1 * *").daysCombineWithOr)
        XCTAssertFalse(try fields("0 0 * * MON").daysCombineWithOr)
        // `*/2` in day-of-week is restricted for croniter (Vixie cron would say not).
        XCTAssertTrue(try fields("0 0 1 * */2").daysCombineWithOr)
        XCTAssertTrue(try fields("0 0 */2 * 1").daysCombineWithOr)
        // A whole-range field is unrestricted only when the other day field has a `*`.
        XCTAssertTrue(try fields("0 0 1-31 * 1").daysCombineWithOr)
        XCTAssertFalse(try fields("0 0 1-31 * */2").daysCombineWithOr)
        XCTAssertFalse(try fields("0 0 */1 * */1").daysCombineWithOr)
    }

    func testHourIsFixedForPlainValuesAndRangesOnly() throws {
        XCTAssertTrue(try fields("30 2 * * *").hourIsFixed)
        XCTAssertTrue(try fields("0 1,13 * * *").hourIsFixed)
        XCTAssertTrue(try fields("0 9-17 * * *").hourIsFixed)
        XCTAssertTrue(try fields("@daily").hourIsFixed)
        XCTAssertFalse(try fields("@hourly").hourIsFixed)
        XCTAssertFalse(try fields("0 */2 * * *").hourIsFixed)
        XCTAssertFalse(try fields("0 1-5/2 * * *").hourIsFixed)
        XCTAssertFalse(try fields("0 1,*/6 * * *").hourIsFixed)
        XCTAssertFalse(try fields("*/5 * * * *").hourIsFixed)
    }

    func testErrorsNameTheExpressionWhatAndColumn() {
        let cases: [(String, String, Int?)] = [
            ("61 * * * *", "cron \"61 * * * *\": minute 61 is out of range 0-59 (column 1)", 1),
            ("* * *", "cron \"* * *\": expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, found 3", nil),
            ("", "cron \"\": expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, found 0", nil),
            ("* * * * * *", "cron \"* * * * * *\": expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, found 6", nil),
            ("0 24 * * *", "cron \"0 24 * * *\": hour 24 is out of range 0-23 (column 3)", 3),
            ("0 0 0 * *", "cron \"0 0 0 * *\": day-of-month 0 is out of range 1-31 (column 5)", 5),
            ("0 0 1 13 *", "cron \"0 0 1 13 *\": month 13 is out of range 1-12 (column 7)", 7),
            ("0 0 * * 8", "cron \"0 0 * * 8\": day-of-week 8 is out of range 0-7 (column 9)", 9),
            ("0 5-2 * * *", "cron \"0 5-2 * * *\": hour range 5-2 is reversed; write the smaller value first (column 3)", 3),
            ("*/0 * * * *", "cron \"*/0 * * * *\": minute step 0 is not allowed; a step is at least 1 (column 3)", 3),
            ("1,2,99 * * * *", "cron \"1,2,99 * * * *\": minute 99 is out of range 0-59 (column 5)", 5),
            ("0 0 * JANU *", "cron \"0 0 * JANU *\": month 'JANU' is not a month name (did you mean JAN?); use 1-12 or JAN-DEC (column 7)", 7),
            ("0 0 * * MOM", "cron \"0 0 * * MOM\": day-of-week 'MOM' is not a weekday name (did you mean MON?); use 0-7 or SUN-SAT (column 9)", 9),
            ("0 0 * * MONDAY", "cron \"0 0 * * MONDAY\": day-of-week 'MONDAY' is not a weekday name (did you mean MON?); use 0-7 or SUN-SAT (column 9)", 9),
            ("x * * * *", "cron \"x * * * *\": minute 'x' is not a number (0-59) (column 1)", 1),
            ("0 0 L * *", "cron \"0 0 L * *\": day-of-month 'L' is not a number (1-31) (column 5)", 5),
            ("1,,2 * * * *", "cron \"1,,2 * * * *\": minute field '1,,2' has an empty list item (column 3)", 3),
            ("1-2-3 * * * *", "cron \"1-2-3 * * * *\": minute item '1-2-3' is not a value, range or step (such as 5, 1-5, */15 or 10-40/10) (column 1)", 1),
            ("*/5/2 * * * *", "cron \"*/5/2 * * * *\": minute item '*/5/2' has more than one '/' (column 4)", 4),
            ("*/x * * * *", "cron \"*/x * * * *\": minute step 'x' is not a number; write a step such as */15 (column 3)", 3),
            ("@dayly", "cron \"@dayly\": unknown macro @dayly (did you mean @daily?); use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every DURATION (column 1)", 1),
            ("@daily 5", "cron \"@daily 5\": macro @daily stands alone; found '5' after it (column 8)", 8),
            ("@every", "cron \"@every\": @every needs a duration such as @every 90s or @every 1h30m (column 1)", 1),
            ("@every 0s", "cron \"@every 0s\": @every duration '0s' is shorter than the minimum 1s (column 8)", 8),
            ("@every 999ms", "cron \"@every 999ms\": @every duration '999ms' is shorter than the minimum 1s (column 8)", 8),
            ("@every 87601h", "cron \"@every 87601h\": @every duration '87601h' is longer than the maximum 87600h (10 years of 365 days) (column 8)", 8),
            ("@every 30m1h", "cron \"@every 30m1h\": @every duration '30m1h' is not a duration such as 90s, 1h30m or 1500ms (units h, m, s, ms, largest first) (column 8)", 8),
            ("@every 5d", "cron \"@every 5d\": @every duration '5d' is not a duration such as 90s, 1h30m or 1500ms (units h, m, s, ms, largest first) (column 8)", 8),
            ("@every 10", "cron \"@every 10\": @every duration '10' is not a duration such as 90s, 1h30m or 1500ms (units h, m, s, ms, largest first) (column 8)", 8),
            ("@every 1s 2s", "cron \"@every 1s 2s\": @every takes one duration, found 2 words (column 11)", 11),
        ]
        for (expression, message, column) in cases {
            let error = cronError(expression)
            XCTAssertEqual(error?.message, message, expression)
            XCTAssertEqual(error?.column, column, expression)
        }
    }

    func testUnknownZonesAndUnsafeNames() {
        XCTAssertEqual(cronError("@daily", zone: "Mars/Base")?.message,
                       "unknown time zone 'Mars/Base' (no such zone in /usr/share/zoneinfo)")
        XCTAssertEqual(cronError("@daily", zone: "../etc/passwd")?.message,
                       "time zone name '../etc/passwd' is not valid; use an IANA name such as 'Europe/Berlin' or 'UTC'")
        XCTAssertEqual(cronError("@daily", zone: "/etc/localtime")?.message,
                       "time zone name '/etc/localtime' is not valid; use an IANA name such as 'Europe/Berlin' or 'UTC'")
        XCTAssertEqual(cronError("@daily", zone: "America")?.message,
                       "unknown time zone 'America' (no such zone in /usr/share/zoneinfo)")
        XCTAssertNil(cronError("@daily", zone: "UTC"))
    }

    /// Random bytes and random near-valid strings never crash the parser.
    func testFuzzedInputNeverCrashes() {
        var random = SeededRandom(seed: 20_260_308)
        let alphabet = Array("0123456789*/-,@ \tJANMONsunLW#?xhms.every".unicodeScalars)
        var parsed = 0
        for round in 0..<20_000 {
            let length = Int.random(in: 0...24, using: &random)
            var text = ""
            if round % 3 == 2 {
                // A valid expression with a few characters replaced or cut.
                var scalars = Array(DifferentialTests.randomCase(&random).expression.unicodeScalars)
                for _ in 0..<Int.random(in: 0...2, using: &random) where !scalars.isEmpty {
                    scalars[Int.random(in: 0..<scalars.count, using: &random)] = alphabet.randomElement(using: &random)!
                }
                text = String(String.UnicodeScalarView(scalars.prefix(Int.random(in: scalars.count / 2...scalars.count, using: &random))))
            } else if round % 3 == 0 {
                for _ in 0..<length { text.unicodeScalars.append(alphabet.randomElement(using: &random)!) }
            } else {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
                text = String(decoding: bytes, as: UTF8.self)
            }
            if let schedule = try? CronSchedule(text) {
                parsed += 1
                _ = schedule.next(after: 1_780_000_000_000)
                _ = schedule.previous(before: 1_780_000_000_000)
            }
        }
        XCTAssertGreaterThan(parsed, 0)
    }
}
