/// One problem found in a workflow definition, with where it is.
///
/// Renders the way compilers do, so editors can jump to it:
/// `workflows/order.yaml:14:11: error: transition 'ship' goes to unknown state 'shiped' (did you mean 'shipped'?)`.
/// `line` and `column` are 1-based; both are 0 for a problem with a whole file (it could not
/// be read), which renders as `file: error: message`.
public struct Diagnostic: Sendable, Codable, Hashable, CustomStringConvertible {
    /// Errors make a definition invalid; warnings do not.
    public enum Severity: String, Sendable, Codable, Hashable {
        case error
        case warning
    }

    /// The file as the user named it.
    public var file: String
    /// 1-based line, or 0 when the problem concerns the whole file.
    public var line: Int
    /// 1-based column in Unicode scalars, or 0 when the problem concerns the whole file.
    public var column: Int
    /// Whether this makes the definition invalid.
    public var severity: Severity
    /// What is wrong and, where likely, what would be right.
    public var message: String

    /// Creates a diagnostic.
    public init(file: String, line: Int, column: Int, severity: Severity, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.severity = severity
        self.message = message
    }

    /// `file:line:column: severity: message`.
    public var description: String {
        if line == 0 { return "\(file): \(severity.rawValue): \(message)" }
        return "\(file):\(line):\(column): \(severity.rawValue): \(message)"
    }

    /// True for errors.
    public var isError: Bool { severity == .error }
}

extension Array where Element == Diagnostic {
    /// Sorts by file, line and column, keeping the order of diagnostics at the same place.
    func sortedByPosition() -> [Diagnostic] {
        enumerated().sorted { lhs, rhs in
            (lhs.element.file, lhs.element.line, lhs.element.column, lhs.offset)
                < (rhs.element.file, rhs.element.line, rhs.element.column, rhs.offset)
        }.map(\.element)
    }
}

/// Collects diagnostics for one file.
struct DiagnosticSink {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    var hasErrors: Bool { diagnostics.contains(where: \.isError) }

    mutating func error(_ message: String, at position: SourcePosition) {
        diagnostics.append(Diagnostic(file: file, line: position.line, column: position.column, severity: .error, message: message))
    }

    mutating func warning(_ message: String, at position: SourcePosition) {
        diagnostics.append(Diagnostic(file: file, line: position.line, column: position.column, severity: .warning, message: message))
    }
}
