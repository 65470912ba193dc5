import ArgumentParser
import Client
import Foundation

/// `orchestrator history INSTANCE [--after INDEX] [--limit N] [--all]`
struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show an instance's history in log order.",
        discussion: """
            One line per entry: log index, time, what happened, and the request id. A hook run \
            shows its plugin, dispatch id and attempt, how it ended (exit code or signal), how \
            long it ran, what followed, and the last line of its output; a transition a hook \
            took names the hook as its cause.

            One page at a time (up to --limit entries, default 1000): when more follow, the \
            last line on standard error gives the --after for the next page; --all fetches \
            every page. When the workflow's history limit (history: { max_entries }) dropped \
            older entries, standard error says how many and from which log index the history \
            is complete.

            Exit status: 0 ok, 1 unknown instance, 2 bad option, 3 cluster unavailable.

            Examples:
              orchestrator history demo
              orchestrator history demo --all
              orchestrator history demo --after 1200 --limit 50
            """
    )

    @Argument(help: "The instance's id.")
    var instance: String

    @Option(help: "Only entries after this log index (the --after a previous page printed).")
    var after: UInt64?

    @Option(help: "Entries per page, 1 to 1000 (default 1000).")
    var limit: Int?

    @Flag(help: "Fetch every page (with --json: one JSON document per page, one per line).")
    var all = false

    @OptionGroup var options: ClientOptions

    func validate() throws {
        if let limit, !(1...1_000).contains(limit) { throw ValidationError("--limit must be between 1 and 1000, not \(limit)") }
    }

    func run() async throws {
        try await options.withClient { client in
            var after = self.after
            var first = true
            while true {
                let reply = try await client.call(.history(instance, after: after, limit: limit))
                if first, reply.value.dropped > 0, !options.json {
                    let from = reply.value.retainedFromIndex.map { " (complete from log index \($0))" } ?? ""
                    printError("note: \(reply.value.dropped) older entries were dropped by the workflow's history limit\(from)")
                }
                first = false
                options.emit(reply, human: History.render)
                guard let next = reply.value.nextAfter else { return }
                if !all {
                    if !options.json { printError("more: orchestrator history \(instance) --after \(next)") }
                    return
                }
                after = next
            }
        }
    }

    static func render(_ history: InstanceHistory) -> String {
        var lines: [String] = []
        for entry in history.entries {
            let what: String = switch entry.type {
            case "start": "start → \(entry.to ?? "?")" + (entry.cause.map { "  (by \($0))" } ?? "")
            case "transition":
                "\(entry.transition ?? "?"): \(entry.from ?? "?") → \(entry.to ?? "?")"
                    + (entry.cause.map { "  (by \($0))" } ?? "")
            case "hook": entry.hook.map(History.describe) ?? "hook"
            default: "\(entry.type)\(entry.to.map { " → \($0)" } ?? "")"
            }
            let request = entry.requestID.map { "  [\($0)]" } ?? ""
            let actor = entry.actor.map { "  by \($0.name ?? "token") (\($0.token))" } ?? ""
            lines.append("\(String(entry.index).leftPadded(to: 8))  \(entry.at)  \(what)\(actor)\(request)")
            if let hook = entry.hook, let tail = History.lastLine(hook.stderr) ?? History.lastLine(hook.stdout) {
                lines.append(String(repeating: " ", count: 36) + "│ " + tail)
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension History {
    /// `hook notify 12.1 #2 (on_enter): exit 75 after 31 ms; attempt 3 of 5 due at …`
    static func describe(_ hook: HookRunInfo) -> String {
        let ended: String = if let code = hook.exitCode {
            "exit \(code)"
        } else if let signal = hook.signal {
            "signal \(signal)"
        } else {
            hook.result.replacingOccurrences(of: "_", with: " ")
        }
        let note = hook.note.isEmpty ? "" : "; \(hook.note)"
        return "hook \(hook.plugin) \(hook.dispatchID) #\(hook.attempt) (\(hook.stage)): \(ended) after \(hook.durationMillis) ms\(note)"
    }

    /// The last non-empty line of `text`, at most 120 characters.
    static func lastLine(_ text: String) -> String? {
        guard let line = text.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            return nil
        }
        return line.count > 120 ? String(line.prefix(119)) + "…" : String(line)
    }
}

extension String {
    /// The string right-aligned in `width` columns.
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    /// The string left-aligned in `width` columns.
    func rightPadded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

/// Renders rows as left-aligned columns separated by two spaces.
func table(_ rows: [[String]]) -> String {
    guard let first = rows.first else { return "" }
    var widths = Array(repeating: 0, count: first.count)
    for row in rows { for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) } }
    return rows.map { row in
        row.enumerated().map { column, cell in column == row.count - 1 ? cell : cell.rightPadded(to: widths[column]) }
            .joined(separator: "  ")
    }.joined(separator: "\n")
}
