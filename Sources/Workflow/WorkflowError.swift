/// The typed error for callers that want a definition or a failure, such as the API
/// registering a new version (which maps it to a 422 with the diagnostics as details).
public enum WorkflowError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The definition has errors; `diagnostics` lists every problem (warnings included).
    case invalid(diagnostics: [Diagnostic])

    /// The diagnostics, one per line.
    public var description: String {
        switch self {
        case .invalid(let diagnostics):
            return diagnostics.map(\.description).joined(separator: "\n")
        }
    }
}

extension WorkflowLoader {
    /// Loads one definition or throws every problem found.
    ///
    /// ```swift
    /// do {
    ///     let definition = try WorkflowLoader.definition(text: body, file: "PUT /v1/workflows/order")
    /// } catch .invalid(let diagnostics) {
    ///     // 422 with the diagnostics
    /// }
    /// ```
    public static func definition(text: String, file: String, pluginNames: Set<String>? = nil,
                                  limits: WorkflowLimits = WorkflowLimits()) throws(WorkflowError) -> WorkflowDefinition {
        let (definition, diagnostics) = load(text: text, file: file, pluginNames: pluginNames, limits: limits)
        guard let definition else { throw .invalid(diagnostics: diagnostics) }
        return definition
    }
}
