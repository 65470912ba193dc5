import JSON

/// One problem with a workflow definition, in the `diagnostics` detail of a 422
/// `invalid_definition`.
public struct DiagnosticInfo: Sendable, Codable, Hashable, JSONWritable {
    /// The file it is in (`NAME.yaml` for a definition sent to `PUT /v1/workflows/{name}`).
    public var file: String
    /// 1-based line; 0 when the problem concerns the whole file.
    public var line: Int
    /// 1-based column; 0 when the problem concerns the whole file.
    public var column: Int
    /// `error` or `warning`.
    public var severity: String
    /// What is wrong, for people.
    public var message: String

    /// A diagnostic line.
    public init(file: String, line: Int, column: Int, severity: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.severity = severity
        self.message = message
    }

    /// The diagnostic as the server writes it.
    public var json: JSONValue {
        .object(["file": .string(file), "line": .integer(line), "column": .integer(column), "severity": .string(severity),
                 "message": .string(message)])
    }
}
