/// Why a cron expression, a duration or a time zone name was rejected.
///
/// `message` is whole and ready for a user, for example
/// `cron "61 * * * *": minute 61 is out of range 0-59 (column 1)`;
/// `column` is the 1-based column in the expression of the offending field or character,
/// nil when the problem is not at one place (a wrong field count, an unknown zone).
public struct CronError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The complete message.
    public let message: String
    /// 1-based column in the expression, when the error is at one place.
    public let column: Int?

    /// Creates an error with a complete message.
    public init(message: String, column: Int? = nil) {
        self.message = message
        self.column = column
    }

    /// The message.
    public var description: String { message }

    /// An error about `expression`, in the shared shape `cron "<expression>": <what> (column N)`.
    static func expression(_ expression: String, _ what: String, column: Int?) -> CronError {
        let at = column.map { " (column \($0))" } ?? ""
        return CronError(message: "cron \"\(clipped(expression))\": \(what)\(at)", column: column)
    }

    /// Long or unprintable input is shown clipped and escaped, so a message stays one line.
    static func clipped(_ text: String, limit: Int = 80) -> String {
        var out = ""
        for (index, scalar) in text.unicodeScalars.enumerated() {
            if index == limit { out += "…"; break }
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
