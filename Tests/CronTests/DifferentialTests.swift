@testable import Cron
import Foundation
import XCTest

/// Our fire times against Python's croniter (7.x) on thousands of random expressions, start
/// times (2000–2040, many near DST transitions) and zones. Every disagreement must be one of
/// the documented DST-rule cases (docs/scheduling.md, "Where we differ from croniter"):
///
/// - rule 1: a fixed hour field written as plain values/ranges that croniter reads as `*`
///   (e.g. `0-23`): a gap time fires at the first instant after the gap (croniter skips it);
/// - rule 2: a fixed time repeated by a fall-back fires once (croniter fires both copies);
/// - rule 3: an hour field with `*` or a step follows real time, so a gap time does not occur
///   (croniter moves `0 */2 * * *`'s 02:00 to the first instant after the gap).
///
/// Where croniter's own answer goes backwards (an earlier instant after a later one, seen
/// at Lord Howe's fall-back) only its answer up to that point is compared.
///
/// Reproduce a run with `CRON_DIFF_SEED=<seed> swift test --filter DifferentialTests`.
final class DifferentialTests: XCTestCase {
    static let zones = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"]
    static let casesCount = 4000
    static let timesPerCase = 5

    struct Case {
        var expression: String
        var zone: String
        var fromMillis: Int64
    }

    enum Excuse: String, CaseIterable {
        case fixedGapFiresAfterGap = "rule 1 (fixed time in a gap fires at the first instant after it; croniter skips it)"
        case fixedRepeatFiresOnce = "rule 2 (fixed time repeated by a fall-back fires once; croniter fires both)"
        case realTimeGapDoesNotOccur = "rule 3 (a gap time of a */n or * hour field does not occur; croniter moves it after the gap)"
        case realTimeRepeatFiresTwice = "rule 3 (a repeated time of a */n or * hour field fires twice; croniter skips the second copy of Lord Howe's repeated half hour)"
    }

    func testAgreesWithCroniterExceptDocumentedDSTRules() throws {
        let seed = ProcessInfo.processInfo.environment["CRON_DIFF_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 1...UInt64.max / 2)
        var random = SeededRandom(seed: seed)
        let cases = (0..<Self.casesCount).map { _ in Self.randomCase(&random) }
        let started = ContinuousClock.now
        let answers = try Self.croniter(cases)
        let oracleTime = ContinuousClock.now - started
        XCTAssertEqual(answers.count, cases.count, "croniter answered \(answers.count) of \(cases.count) cases (seed \(seed))")

        var excused: [Excuse: Int] = [:]
        var failures: [String] = []
        var notMonotonic = 0
        for (c, answer) in zip(cases, answers) {
            let schedule = try CronSchedule(c.expression, timeZone: c.zone)
            var ours: [Int64] = []
            var t = c.fromMillis
            while ours.count < Self.timesPerCase, let n = schedule.next(after: t) {
                ours.append(n)
                t = n
            }
            let theirs: [Int64]
            switch answer {
            case .times(let times):
                // croniter 7.0.0 can go backwards after Lord Howe's 30-minute fall-back
                // ("*/20 1 * * *" from 01:20+11:00 gives 01:40+11:00 then 01:00+10:30, an
                // earlier instant): compare only up to its first step back, and count it.
                let increasing = times.indices.dropFirst().first { times[$0] <= times[$0 - 1] }.map { times.prefix($0) }
                if increasing != nil { notMonotonic += 1 }
                theirs = Array(increasing ?? times[...])
            case .error(let message):
                if !ours.isEmpty || !message.contains("failed to find") {
                    failures.append("\(Self.describe(c)): croniter fails (\(message)), we fire at \(Self.isoList(ours, c.zone))")
                }
                continue
            }
            let horizon = min(ours.last ?? .max, theirs.last ?? .max)
            let oursSet = Set(ours.filter { $0 <= horizon })
            let theirsSet = Set(theirs.filter { $0 <= horizon })
            guard oursSet != theirsSet else { continue }
            if ours.count < Self.timesPerCase && theirs.count == Self.timesPerCase && oursSet.isEmpty {
                failures.append("\(Self.describe(c)): we find nothing, croniter \(Self.isoList(theirs, c.zone))")
                continue
            }
            var unexplained: [String] = []
            for time in theirsSet.subtracting(oursSet).sorted() {
                if let excuse = Self.excuseForCroniterOnly(time, schedule) { excused[excuse, default: 0] += 1 }
                else { unexplained.append("croniter-only \(Self.iso(time, c.zone))") }
            }
            for time in oursSet.subtracting(theirsSet).sorted() {
                if let excuse = Self.excuseForOursOnly(time, schedule) { excused[excuse, default: 0] += 1 }
                else { unexplained.append("ours-only \(Self.iso(time, c.zone))") }
            }
            if !unexplained.isEmpty {
                failures.append("\(Self.describe(c)): \(unexplained.joined(separator: ", ")); ours \(Self.isoList(ours, c.zone)), croniter \(Self.isoList(theirs, c.zone))")
            }
        }
        let summary = Excuse.allCases.map { "\(excused[$0] ?? 0) × \($0.rawValue)" }.joined(separator: "; ")
        print("differential (seed \(seed)): \(cases.count) cases × \(Self.timesPerCase) times, croniter took \(oracleTime); excused: \(summary); croniter went backwards in \(notMonotonic) cases")
        XCTAssert(failures.isEmpty, "\(failures.count) disagreements with croniter (seed \(seed); rerun with CRON_DIFF_SEED=\(seed)):\n" + failures.prefix(25).joined(separator: "\n"))
    }

    // MARK: - Classification

    /// A time croniter fires and we do not.
    static func excuseForCroniterOnly(_ millis: Int64, _ schedule: CronSchedule) -> Excuse? {
        guard case .calendar(let fields) = schedule.rule else { return nil }
        let seconds = millis / 1000
        let offset = Int64(schedule.zone.period(at: seconds).offsetSeconds)
        let local = seconds + offset
        // The second copy of a repeated wall-clock time.
        if fields.hourIsFixed, schedule.zone.instant(forLocalSeconds: local) < seconds,
           fields.firstMatch(atOrAfter: local, before: local + 1) != nil {
            return .fixedRepeatFiresOnce
        }
        // A gap time moved to the first instant after the gap.
        if !fields.hourIsFixed, let gap = gapMatching(at: seconds, schedule, fields) , gap {
            return .realTimeGapDoesNotOccur
        }
        return nil
    }

    /// A time we fire and croniter does not.
    static func excuseForOursOnly(_ millis: Int64, _ schedule: CronSchedule) -> Excuse? {
        guard case .calendar(let fields) = schedule.rule else { return nil }
        if !fields.hourIsFixed {
            let seconds = millis / 1000
            let local = seconds + Int64(schedule.zone.period(at: seconds).offsetSeconds)
            // Only for a shift shorter than an hour (croniter fires both copies of New York's
            // or Berlin's repeated hour).
            let shift = Int64(schedule.zone.period(at: seconds - 3600).offsetSeconds) - (local - seconds)
            return schedule.zone.instant(forLocalSeconds: local) < seconds && shift > 0 && shift < 3600
                ? .realTimeRepeatFiresTwice : nil
        }
        if let gap = gapMatching(at: millis / 1000, schedule, fields), gap { return .fixedGapFiresAfterGap }
        return nil
    }

    /// Whether `seconds` is a spring-forward transition and some gap time matches; nil when
    /// it is not a spring-forward transition.
    static func gapMatching(at seconds: Int64, _ schedule: CronSchedule, _ fields: CronFields) -> Bool? {
        let period = schedule.zone.period(at: seconds)
        guard period.startSeconds == seconds else { return nil }
        let before = Int64(schedule.zone.period(at: seconds - 1).offsetSeconds)
        let after = Int64(period.offsetSeconds)
        guard before < after else { return nil }
        return fields.firstMatch(atOrAfter: seconds + before, before: seconds + after) != nil
    }

    // MARK: - Generator

    static func randomCase(_ random: inout SeededRandom) -> Case {
        let zone = zones.randomElement(using: &random)!
        let expression = [
            field(&random, low: 0, high: 59, starChance: 20),
            field(&random, low: 0, high: 23, starChance: 30),
            field(&random, low: 1, high: 31, starChance: 65),
            field(&random, low: 1, high: 12, starChance: 65, names: monthNames),
            field(&random, low: 0, high: 6, starChance: 65, names: weekdayNames, sundayAsSeven: true),
        ].joined(separator: Bool.random(using: &random) ? " " : "  ")
        return Case(expression: expression, zone: zone, fromMillis: randomStart(&random, zone: zone))
    }

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let weekdayNames = ["sun", "Mon", "TUE", "wed", "Thu", "FRI", "sat"]

    /// A field mixing values, names, ranges, steps and lists. No equal ranges (`5-5`: croniter
    /// reads them as the whole field), no reversed ones (we reject them; croniter wraps).
    static func field(_ random: inout SeededRandom, low: Int, high: Int, starChance: Int,
                      names: [String] = [], sundayAsSeven: Bool = false) -> String {
        if Int.random(in: 0..<100, using: &random) < starChance { return "*" }
        func value(_ v: Int, sevenAllowed: Bool = true) -> String {
            if sevenAllowed && sundayAsSeven && v == 0 && Int.random(in: 0..<3, using: &random) == 0 { return "7" }
            if !names.isEmpty && Int.random(in: 0..<3, using: &random) == 0 { return names[v - low] }
            return String(v)
        }
        func item() -> String {
            let step = Int.random(in: 1...max(2, (high - low) / 2), using: &random)
            switch Int.random(in: 0..<8, using: &random) {
            case 0, 1: return value(Int.random(in: low...high, using: &random))
            case 2, 3:
                let a = Int.random(in: low..<high, using: &random)
                let b = Int.random(in: (a + 1)...high, using: &random)
                // 7 as the top of a weekday range, `5-7`.
                if sundayAsSeven && b == high && Bool.random(using: &random) { return "\(value(a, sevenAllowed: false))-7" }
                return "\(value(a, sevenAllowed: false))-\(value(b))"
            case 4: return "*/\(step)"
            case 5:
                let a = Int.random(in: low..<high, using: &random)
                let b = Int.random(in: (a + 1)...high, using: &random)
                return "\(value(a, sevenAllowed: false))-\(value(b))/\(step)"
            case 6: return "\(String(Int.random(in: low..<high, using: &random)))/\(step)"
            default: return sundayAsSeven && Bool.random(using: &random) ? "7" : value(Int.random(in: low...high, using: &random))
            }
        }
        let count = [1, 1, 1, 2, 2, 3].randomElement(using: &random)!
        return (0..<count).map { _ in item() }.joined(separator: ",")
    }

    /// 2000–2040; half of the starts within hours of one of the zone's transitions.
    static func randomStart(_ random: inout SeededRandom, zone: String) -> Int64 {
        let low = ms("2000-01-01T00:00:00Z"), high = ms("2040-12-31T00:00:00Z")
        var t = Int64.random(in: low...high, using: &random) / 1000 * 1000
        if zone != "UTC", Bool.random(using: &random), let tz = try? CronTimeZone.named(zone) {
            let period = tz.period(at: t / 1000)
            if period.endSeconds != .max {
                let near = Int64.random(in: -4 * 3600...2 * 3600, using: &random) / 60 * 60
                t = (period.endSeconds + near) * 1000
                if Bool.random(using: &random) { t += Int64.random(in: 0..<60, using: &random) * 1000 }
            }
        }
        return t
    }

    // MARK: - croniter

    enum Answer {
        case times([Int64])
        case error(String)
    }

    /// Runs Tests/CronTests/croniter_oracle.py once over every case.
    static func croniter(_ cases: [Case]) throws -> [Answer] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("croniter_oracle.py")
        var input = ""
        for c in cases {
            let expression = c.expression.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            input += "{\"expr\": \"\(expression)\", \"tz\": \"\(c.zone)\", \"from\": \(c.fromMillis), \"count\": \(timesPerCase)}\n"
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do { try process.run() } catch {
            XCTFail("cannot run python3 (\(error)); install python3 and croniter: python3 -m pip install croniter")
            return []
        }
        let inputBytes = Data(input.utf8)
        let writer = Thread {
            stdin.fileHandleForWriting.write(inputBytes)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errors, as: UTF8.self)
            XCTFail("the croniter oracle failed (exit \(process.terminationStatus)): \(message)\nThe differential test needs python3 with croniter: python3 -m pip install croniter")
            return []
        }
        return try String(decoding: output, as: UTF8.self).split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            if let times = object["next"] as? [NSNumber] { return .times(times.map(\.int64Value)) }
            return .error(object["error"] as? String ?? "no answer")
        }
    }

    static func iso(_ millis: Int64, _ zone: String) -> String {
        CronTime.iso8601(millis, in: (try? CronTimeZone.named(zone)) ?? .utc)
    }

    static func isoList(_ times: [Int64], _ zone: String) -> String {
        "[" + times.map { iso($0, zone) }.joined(separator: ", ") + "]"
    }

    static func describe(_ c: Case) -> String {
        "\"\(c.expression)\" in \(c.zone) from \(iso(c.fromMillis, c.zone))"
    }
}
