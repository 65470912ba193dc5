import ArgumentParser
import Cron
import Foundation
import Workflow

/// `orchestrator cron next|…`: cron expressions and triggers, computed locally.
struct CronCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cron",
        abstract: "Cron expressions and triggers",
        // One line per verb.
        subcommands: [CronNext.self]
    )
}

/// `orchestrator cron next EXPR [--from ISO8601] [--count N] [--tz ZONE] [--json]`
struct CronNext: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next",
        abstract: "Print the next fire times of a cron expression.",
        discussion: """
            Prints the next N fire times strictly after --from (default: now), one ISO 8601 \
            time with its UTC offset per line, in the --tz zone (default UTC). The syntax and \
            the DST rules are in docs/scheduling.md.

            Exit status: 0 ok, 2 a bad expression, zone, --from or --count.

            Examples:
              orchestrator cron next "30 2 * * *" --tz America/New_York --from 2026-03-07
              orchestrator cron next "@every 90s" --count 3 --json
            """
    )

    /// The most times one call prints.
    static let countMax = 1000

    @Argument(help: ArgumentHelp("The cron expression, e.g. \"0 3 * * *\", \"@hourly\" or \"@every 90s\".", valueName: "expression"))
    var expression: String

    @Option(help: ArgumentHelp("Start strictly after this time: 2026-03-08T03:00:00-04:00, …Z, or a local 2026-03-08T03:00 / 2026-03-08 in --tz. Default: now.",
                               valueName: "iso8601"))
    var from: String?

    @Option(help: ArgumentHelp("How many fire times to print (1…\(CronNext.countMax)).", valueName: "n"))
    var count = 5

    @Option(help: ArgumentHelp("The IANA time zone the expression is read in.", valueName: "zone"))
    var tz = "UTC"

    @Flag(help: "Print {\"expression\", \"timezone\", \"from\", \"next\": [...]} as JSON.")
    var json = false

    func run() throws {
        guard (1...Self.countMax).contains(count) else {
            return try fail("--count must be between 1 and \(Self.countMax), not \(count)")
        }
        let zone: CronTimeZone
        let schedule: CronSchedule
        do {
            zone = try CronTimeZone.named(tz)
            schedule = try CronSchedule(expression, zone: zone)
        } catch {
            return try fail(error.message)
        }
        let fromMillis: Int64
        if let from {
            guard let parsed = CronTime.parseISO8601(from, in: zone) else {
                return try fail("--from '\(from)' is not an ISO 8601 time; write e.g. 2026-03-08T03:00:00-04:00, 2026-03-08T03:00 or 2026-03-08")
            }
            fromMillis = parsed
        } else {
            // The CLI is where the wall clock is read; the Cron target never reads it.
            fromMillis = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        }
        var times: [Int64] = []
        var t = fromMillis
        // For @every the anchor is the epoch here; a trigger's anchor is the scheduler's business.
        while times.count < count, let next = schedule.next(after: t) {
            times.append(next)
            t = next
        }
        if json {
            print(JSONValue.object([
                "expression": .string(expression), "timezone": .string(zone.name),
                "from": .string(CronTime.iso8601(fromMillis, in: zone)),
                "next": .array(times.map { .string(CronTime.iso8601($0, in: zone)) }),
            ]).jsonText)
        } else {
            for time in times { print(CronTime.iso8601(time, in: zone)) }
            if times.count < count {
                printError("no \(times.isEmpty ? "" : "further ")fire time within 5 years")
            }
        }
    }

    private func fail(_ message: String) throws {
        printError(message)
        throw ExitCode(ExitStatus.usage)
    }
}
