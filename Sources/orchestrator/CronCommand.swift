import ArgumentParser
import Client
import Cron
import Foundation
import Workflow

/// `orchestrator cron next|list|timeouts`: cron expressions (computed locally), the cluster's
/// triggers and its armed state timeouts.
struct CronCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cron",
        abstract: "Cron expressions and triggers",
        // One line per verb.
        subcommands: [CronNext.self, CronList.self, CronTimeouts.self]
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

/// `orchestrator cron list [--workflow W] [--json]`
struct CronList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the cluster's cron triggers with their next fire time and last fired slot.",
        discussion: """
            One row per trigger of each workflow's latest version: its schedule and zone, what \
            it does, the next fire time (in the trigger's zone, with its UTC offset), the last \
            slot the cluster fired and how many slots it fired, skipped (concurrency: forbid) \
            and missed (misfire policy). A slot fires at most once, whichever node leads.

            Exit status: 0 ok, 1 unknown workflow, 2 bad option, 3 cluster unavailable.

            Examples:
              orchestrator cron list
              orchestrator cron list --workflow deploy --json
            """
    )

    @Option(help: "Only the triggers of this workflow.")
    var workflow: String?

    @OptionGroup var options: ClientOptions

    func run() async throws {
        try await options.withClient { client in
            let reply = try await client.call(.triggers(workflow: workflow))
            options.emit(reply) { list in
                var rows = [["WORKFLOW", "TRIGGER", "SCHEDULE", "ACTION", "NEXT", "LAST SLOT", "FIRED", "SKIPPED", "MISSED"]]
                for trigger in list.triggers {
                    let schedule = trigger.timezone == "UTC" ? trigger.cron : "\(trigger.cron) (\(trigger.timezone))"
                    let action = trigger.transition.map { name in "\(name)" + (trigger.whereState.map { " where \($0)" } ?? "") }
                        ?? "start (\(trigger.concurrency))"
                    rows.append([trigger.workflow, trigger.name, schedule, action, trigger.nextFireAt ?? "-", trigger.lastSlotAt ?? "-",
                                 String(trigger.fired), String(trigger.skipped), String(trigger.missed)])
                }
                return list.triggers.isEmpty ? "no triggers" : table(rows)
            }
        }
    }
}

/// `orchestrator cron timeouts [--workflow W] [--limit N] [--json]`
struct CronTimeouts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeouts",
        abstract: "List the armed state timeouts, due first.",
        discussion: """
            One row per instance waiting in a state with a `timeout`: when it is due (engine \
            time, UTC), the transition the leader will request then, and the revision it must \
            still be at. The last line (standard error) says how many there are when more than \
            --limit are armed.

            Exit status: 0 ok, 1 unknown workflow, 2 bad option, 3 cluster unavailable.

            Examples:
              orchestrator cron timeouts
              orchestrator cron timeouts --workflow deploy --limit 20
            """
    )

    @Option(help: "Only the timeouts of this workflow's instances.")
    var workflow: String?

    @Option(help: "How many to list, 1 to 1000 (default 100).")
    var limit: Int?

    @OptionGroup var options: ClientOptions

    func validate() throws {
        if let limit, !(1...1_000).contains(limit) { throw ValidationError("--limit must be between 1 and 1000, not \(limit)") }
    }

    func run() async throws {
        try await options.withClient { client in
            let reply = try await client.call(.timeouts(workflow: workflow, limit: limit))
            options.emit(reply) { list in
                var rows = [["INSTANCE", "WORKFLOW", "STATE", "DUE", "TRANSITION", "REVISION"]]
                for timeout in list.timeouts {
                    rows.append([timeout.instance, timeout.workflow, timeout.state, timeout.dueAt, timeout.transition,
                                 String(timeout.revision)])
                }
                return list.timeouts.isEmpty ? "no timeouts armed" : table(rows)
            }
            if !options.json, reply.value.total > reply.value.timeouts.count {
                printError("\(reply.value.timeouts.count) of \(reply.value.total) shown; use --limit or --workflow")
            }
        }
    }
}
