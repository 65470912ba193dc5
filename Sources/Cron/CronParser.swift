/// Parses the text of a cron expression into a `CronRule`.
///
/// Accepted forms (the user's reference is docs/scheduling.md):
/// - five fields separated by spaces or tabs: minute hour day-of-month month day-of-week;
///   each a comma-separated list of `*`, `v`, `a-b`, `*/n`, `a-b/n` and `a/n` (= `a-max/n`,
///   as croniter reads it); months and weekdays also by three-letter name in any case; Sunday
///   is 0 or 7;
/// - a macro: `@yearly` `@annually` `@monthly` `@weekly` `@daily` `@midnight` `@hourly` (any case);
/// - `@every DURATION`: `1h30m`, `90s`, `1500ms`; units h, m, s, ms, largest first; 1s … 87600h.
enum CronParser {
    /// A parsed expression.
    enum Rule: Sendable, Hashable {
        case calendar(CronFields)
        case every(millis: Int64)
    }

    /// The shortest and longest `@every` interval.
    static let everyMillisMin: Int64 = 1000
    static let everyMillisMax: Int64 = 87_600 * 3_600_000

    static let macros: [(name: String, fields: String)] = [
        ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ]

    /// One field of the five: its name in messages, its bounds, what `*` covers, its names.
    struct Field {
        let name: String
        let low: Int
        let high: Int
        /// The top of `*` and of `a/n` (6 for day-of-week: 7 is only another spelling of 0).
        let starHigh: Int
        let names: [String]
        let nameLow: Int
        let example: String
    }

    static let fields: [Field] = [
        Field(name: "minute", low: 0, high: 59, starHigh: 59, names: [], nameLow: 0, example: "0-59"),
        Field(name: "hour", low: 0, high: 23, starHigh: 23, names: [], nameLow: 0, example: "0-23"),
        Field(name: "day-of-month", low: 1, high: 31, starHigh: 31, names: [], nameLow: 1, example: "1-31"),
        Field(name: "month", low: 1, high: 12, starHigh: 12,
              names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
              nameLow: 1, example: "1-12 or JAN-DEC"),
        Field(name: "day-of-week", low: 0, high: 7, starHigh: 6,
              names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], nameLow: 0, example: "0-7 or SUN-SAT"),
    ]

    /// A run of characters of the expression and the 1-based column of its first.
    struct Token {
        var scalars: ArraySlice<Unicode.Scalar>
        var column: Int { scalars.startIndex + 1 }
        var text: String { String(String.UnicodeScalarView(scalars)) }
    }

    static func parse(_ expression: String) throws(CronError) -> Rule {
        let scalars = Array(expression.unicodeScalars)
        let tokens = split(scalars[...], on: { $0 == " " || $0 == "\t" }, keepEmpty: false)
        if let first = tokens.first, first.scalars.first == "@" {
            return try parseMacro(expression, tokens)
        }
        guard tokens.count == 5 else {
            throw CronError.expression(expression, "expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, found \(tokens.count)", column: nil)
        }
        return .calendar(try parseFields(expression, tokens))
    }

    // MARK: - Fields

    /// One field's allowed values, and what the day-of-month / day-of-week rule needs to know.
    struct ParsedField {
        var bits: UInt64 = 0
        var hasBareStar = false
        var hasStarOrStep = false
        var textHasStar = false
    }

    static func parseFields(_ expression: String, _ tokens: [Token]) throws(CronError) -> CronFields {
        var parsed: [ParsedField] = []
        for (index, token) in tokens.enumerated() {
            parsed.append(try parseField(expression, token, fields[index]))
        }
        // Fold Sunday-as-7 into 0.
        if parsed[4].bits & (1 << 7) != 0 { parsed[4].bits = (parsed[4].bits | 1) & 0x7F }
        // The day fields combine with OR when both are restricted. "Unrestricted" is decided
        // as croniter 7 decides it (its expansion collapses the field to "*"): a field with a
        // bare `*` item, or one that covers its whole range (`*/1`, `1-31`, `0-6`) while the
        // other day field has a `*` somewhere in its text. So `*/2` in day-of-week is
        // restricted (Vixie cron would say unrestricted because it starts with `*`).
        let fullDays: UInt64 = 0xFFFF_FFFE
        let domUnrestricted = parsed[2].hasBareStar || (parsed[2].bits == fullDays && parsed[4].textHasStar)
        let dowUnrestricted = parsed[4].hasBareStar || (parsed[4].bits == 0x7F && parsed[2].textHasStar)
        return CronFields(minutes: parsed[0].bits, hours: parsed[1].bits, daysOfMonth: parsed[2].bits,
                          months: parsed[3].bits, daysOfWeek: parsed[4].bits,
                          daysCombineWithOr: !domUnrestricted && !dowUnrestricted,
                          hourIsFixed: !parsed[1].hasStarOrStep)
    }

    static func parseField(_ expression: String, _ token: Token, _ field: Field) throws(CronError) -> ParsedField {
        var result = ParsedField()
        result.textHasStar = token.scalars.contains("*")
        for item in split(token.scalars, on: { $0 == "," }, keepEmpty: true) {
            guard !item.scalars.isEmpty else {
                throw CronError.expression(expression, "\(field.name) field '\(token.text)' has an empty list item", column: item.column)
            }
            let parts = split(item.scalars, on: { $0 == "/" }, keepEmpty: true)
            guard parts.count <= 2 else {
                throw CronError.expression(expression, "\(field.name) item '\(item.text)' has more than one '/'", column: parts[2].column - 1)
            }
            let base = parts[0]
            var step = 1
            if parts.count == 2 {
                result.hasStarOrStep = true
                let stepToken = parts[1]
                guard let value = number(stepToken) else {
                    throw CronError.expression(expression, "\(field.name) step '\(stepToken.text)' is not a number; write a step such as */15", column: stepToken.column)
                }
                guard value >= 1 else {
                    throw CronError.expression(expression, "\(field.name) step 0 is not allowed; a step is at least 1", column: stepToken.column)
                }
                step = value
            }
            var low: Int
            var high: Int
            if base.scalars.count == 1 && base.scalars.first == "*" {
                result.hasStarOrStep = true
                if parts.count == 1 { result.hasBareStar = true }
                low = field.low
                high = field.starHigh
            } else {
                let bounds = split(base.scalars, on: { $0 == "-" }, keepEmpty: true)
                guard bounds.count <= 2, !bounds.contains(where: { $0.scalars.isEmpty }) else {
                    throw CronError.expression(expression, "\(field.name) item '\(item.text)' is not a value, range or step (such as 5, 1-5, */15 or 10-40/10)", column: item.column)
                }
                low = try value(expression, bounds[0], field)
                if bounds.count == 2 {
                    high = try value(expression, bounds[1], field)
                    guard low <= high else {
                        throw CronError.expression(expression, "\(field.name) range \(base.text) is reversed; write the smaller value first", column: base.column)
                    }
                } else if parts.count == 2 {
                    // `a/n` is `a-max/n` (croniter); `7/n` in day-of-week is Sunday alone.
                    high = max(low, field.starHigh)
                } else {
                    high = low
                }
            }
            var v = low
            while v <= high {
                result.bits |= UInt64(1) << UInt64(v)
                v += step
            }
        }
        return result
    }

    /// A number or (in month and day-of-week) a three-letter name, checked against the bounds.
    static func value(_ expression: String, _ token: Token, _ field: Field) throws(CronError) -> Int {
        if let n = number(token) {
            guard n >= field.low && n <= field.high else {
                throw CronError.expression(expression, "\(field.name) \(token.text) is out of range \(field.low)-\(field.high)", column: token.column)
            }
            return n
        }
        let upper = token.text.uppercased()
        if let index = field.names.firstIndex(of: upper) {
            return field.nameLow + index
        }
        if field.names.isEmpty || !token.scalars.allSatisfy({ $0.properties.isAlphabetic }) {
            throw CronError.expression(expression, "\(field.name) '\(token.text)' is not a number (\(field.example))", column: token.column)
        }
        let hint = suggestion(upper, field.names).map { " (did you mean \($0)?)" } ?? ""
        throw CronError.expression(expression, "\(field.name) '\(token.text)' is not a \(field.name == "month" ? "month" : "weekday") name\(hint); use \(field.example)", column: token.column)
    }

    /// Decimal digits only, at most 4 of them (no field value or useful step is larger).
    static func number(_ token: Token) -> Int? {
        guard !token.scalars.isEmpty, token.scalars.count <= 4 else {
            return token.scalars.count > 4 && token.scalars.allSatisfy({ $0.value >= 48 && $0.value <= 57 }) ? 9999 : nil
        }
        var n = 0
        for scalar in token.scalars {
            guard scalar.value >= 48 && scalar.value <= 57 else { return nil }
            n = n * 10 + Int(scalar.value - 48)
        }
        return n
    }

    // MARK: - Macros and @every

    static func parseMacro(_ expression: String, _ tokens: [Token]) throws(CronError) -> Rule {
        let name = tokens[0].text.lowercased()
        if name == "@every" {
            guard tokens.count == 2 else {
                throw CronError.expression(expression, tokens.count == 1
                    ? "@every needs a duration such as @every 90s or @every 1h30m"
                    : "@every takes one duration, found \(tokens.count - 1) words", column: tokens.count == 1 ? tokens[0].column : tokens[2].column)
            }
            return .every(millis: try duration(expression, tokens[1]))
        }
        guard let macro = macros.first(where: { $0.name == name }) else {
            let hint = suggestion(name, macros.map(\.name) + ["@every"]).map { " (did you mean \($0)?)" } ?? ""
            throw CronError.expression(expression, "unknown macro \(tokens[0].text)\(hint); use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every DURATION", column: tokens[0].column)
        }
        guard tokens.count == 1 else {
            throw CronError.expression(expression, "macro \(macro.name) stands alone; found '\(tokens[1].text)' after it", column: tokens[1].column)
        }
        let fieldTokens = split(Array(macro.fields.unicodeScalars)[...], on: { $0 == " " }, keepEmpty: false)
        return .calendar(try parseFields(macro.fields, fieldTokens))
    }

    /// `1h30m`, `90s`, `250ms`: numbers with units h, m, s, ms, each at most once, largest first.
    static func duration(_ expression: String, _ token: Token) throws(CronError) -> Int64 {
        let bad = CronError.expression(expression, "@every duration '\(token.text)' is not a duration such as 90s, 1h30m or 1500ms (units h, m, s, ms, largest first)", column: token.column)
        let units: [(String, Int64)] = [("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]
        var total: Int64 = 0
        var nextUnit = 0
        var index = token.scalars.startIndex
        let end = token.scalars.endIndex
        while index < end {
            var digits = 0
            var n: Int64 = 0
            while index < end, let d = decimal(token.scalars[index]) {
                guard digits < 12 else { throw bad }
                n = n * 10 + d
                digits += 1
                index += 1
            }
            guard digits > 0, index < end else { throw bad }
            var unit = ""
            while index < end, token.scalars[index].properties.isAlphabetic {
                unit.unicodeScalars.append(token.scalars[index])
                index += 1
            }
            guard let position = units.firstIndex(where: { $0.0 == unit }), position >= nextUnit else { throw bad }
            nextUnit = position + 1
            let (product, overflow) = n.multipliedReportingOverflow(by: units[position].1)
            guard !overflow else { throw bad }
            total += product
            guard total <= everyMillisMax else {
                throw CronError.expression(expression, "@every duration '\(token.text)' is longer than the maximum 87600h (10 years of 365 days)", column: token.column)
            }
        }
        guard nextUnit > 0 else { throw bad }
        guard total >= everyMillisMin else {
            throw CronError.expression(expression, "@every duration '\(token.text)' is shorter than the minimum 1s", column: token.column)
        }
        return total
    }

    static func decimal(_ scalar: Unicode.Scalar) -> Int64? {
        scalar.value >= 48 && scalar.value <= 57 ? Int64(scalar.value - 48) : nil
    }

    // MARK: - Helpers

    static func split(_ scalars: ArraySlice<Unicode.Scalar>, on isSeparator: (Unicode.Scalar) -> Bool,
                      keepEmpty: Bool) -> [Token] {
        var tokens: [Token] = []
        var start = scalars.startIndex
        for index in scalars.indices where isSeparator(scalars[index]) {
            if keepEmpty || index > start { tokens.append(Token(scalars: scalars[start..<index])) }
            start = index + 1
        }
        if keepEmpty || scalars.endIndex > start { tokens.append(Token(scalars: scalars[start..<scalars.endIndex])) }
        return tokens
    }

    /// The candidate within edit distance 2 (1 for short words), or one that `word` starts with.
    static func suggestion(_ word: String, _ candidates: [String]) -> String? {
        let w = Array(word.uppercased().unicodeScalars)
        guard w.count <= 32 else { return nil }
        var best: (String, Int)?
        for candidate in candidates {
            let c = Array(candidate.uppercased().unicodeScalars)
            let distance = editDistance(w, c)
            let limit = c.count <= 4 ? 1 : 2
            if distance <= limit, best.map({ distance < $0.1 }) ?? true { best = (candidate, distance) }
        }
        if let best { return best.0 }
        return candidates.first { w.count > 3 && String(String.UnicodeScalarView(w)).hasPrefix($0.uppercased()) }
    }

    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
