import ArgumentParser
import Client

/// `orchestrator history INSTANCE`
struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show an instance's history in log order.",
        discussion: """
            One line per entry: log index, time, what happened, and the request id.

            Exit status: 0 ok, 1 unknown instance, 3 cluster unavailable.

            Example:
              orchestrator history demo
            """
    )

    @Argument(help: "The instance's id.")
    var instance: String

    @OptionGroup var options: ClientOptions

    func run() async throws {
        try await options.withClient { client in
            let reply = try await client.call(.history(instance))
            options.emit(reply) { history in
                var lines: [String] = []
                if history.dropped > 0 { lines.append("(\(history.dropped) older entries no longer kept)") }
                for entry in history.entries {
                    let what: String = switch entry.type {
                    case "start": "start → \(entry.to ?? "?")"
                    case "transition": "\(entry.transition ?? "?"): \(entry.from ?? "?") → \(entry.to ?? "?")"
                    default: "\(entry.type)\(entry.to.map { " → \($0)" } ?? "")"
                    }
                    let request = entry.requestID.map { "  [\($0)]" } ?? ""
                    lines.append("\(String(entry.index).leftPadded(to: 8))  \(entry.at)  \(what)\(request)")
                }
                return lines.joined(separator: "\n")
            }
        }
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
