/// A length of time in whole milliseconds, written in YAML as `500ms`, `30s`, `5m`, `72h`,
/// `7d` (days of 24 hours) or a combination from largest to smallest unit such as `1h30m`.
///
/// ```swift
/// WorkflowDuration(parsing: "1h30m")?.milliseconds   // 5_400_000
/// WorkflowDuration(milliseconds: 90_000).description  // "1m30s"
/// ```
public struct WorkflowDuration: Sendable, Codable, Hashable, Comparable, CustomStringConvertible {
    /// The length in milliseconds; always positive in a validated definition.
    public let milliseconds: Int64

    /// A duration of `milliseconds`.
    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    /// The longest duration accepted: 10 years (of 365 days), far beyond any sane timeout.
    public static let millisecondsMax: Int64 = 10 * 365 * 24 * 3_600_000

    /// The same length as a Swift `Duration`.
    public var duration: Duration { .milliseconds(milliseconds) }

    /// Parses `500ms`, `30s`, `5m`, `72h`, `7d`, `1d12h`, `1h30m`, `2m30s500ms`; nil when malformed, zero,
    /// or longer than `millisecondsMax`. Units must appear at most once, largest first.
    public init?(parsing text: String) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        var index = 0
        var total: Int64 = 0
        var lastRank = Int.max
        while index < bytes.count {
            var amount: Int64 = 0
            let digitsStart = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                let (times, overflow1) = amount.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { return nil }
                amount = sum
                index += 1
            }
            guard index > digitsStart, index < bytes.count else { return nil }
            let unit: Int64
            let rank: Int
            switch bytes[index] {
            case UInt8(ascii: "d"): unit = 86_400_000; rank = 4; index += 1
            case UInt8(ascii: "h"): unit = 3_600_000; rank = 3; index += 1
            case UInt8(ascii: "s"): unit = 1_000; rank = 1; index += 1
            case UInt8(ascii: "m"):
                if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "s") {
                    unit = 1; rank = 0; index += 2
                } else {
                    unit = 60_000; rank = 2; index += 1
                }
            default: return nil
            }
            guard rank < lastRank else { return nil }
            lastRank = rank
            let (part, overflow1) = amount.multipliedReportingOverflow(by: unit)
            let (sum, overflow2) = total.addingReportingOverflow(part)
            guard !overflow1, !overflow2 else { return nil }
            total = sum
        }
        guard total > 0, total <= Self.millisecondsMax else { return nil }
        self.milliseconds = total
    }

    /// The spelling in the YAML syntax with hours as the largest unit, e.g. `1h30m`, `500ms`,
    /// `168h` for `7d` (history causes say `after 72h`, as they always have).
    public var description: String {
        guard milliseconds > 0 else { return "0ms" }
        var rest = milliseconds
        var text = ""
        for (unit, suffix) in [(Int64(3_600_000), "h"), (60_000, "m"), (1_000, "s"), (1, "ms")] where rest >= unit {
            text += "\(rest / unit)\(suffix)"
            rest %= unit
        }
        return text
    }

    public static func < (lhs: WorkflowDuration, rhs: WorkflowDuration) -> Bool {
        lhs.milliseconds < rhs.milliseconds
    }

    /// Encodes as the YAML spelling (`"1h30m"`), which reads well in JSON and round-trips.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// Decodes the YAML spelling.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = WorkflowDuration(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "invalid duration '\(text)'")
        }
        self = value
    }
}
