/// Loads workflow definitions: text in, a validated `WorkflowDefinition` (when there are no
/// errors) and every diagnostic out. Never throws, never crashes on bad input, and bounds its
/// work by `WorkflowLimits`.
///
/// ```swift
/// let (definition, diagnostics) = WorkflowLoader.load(text: yaml, file: "workflows/order.yaml",
///                                                     pluginNames: ["notify", "shipping-label"])
/// for diagnostic in diagnostics { print(diagnostic) }   // file:line:column: error: …
/// ```
public enum WorkflowLoader {
    /// Parses and validates one definition. `pluginNames`, when given, are the plugins hooks
    /// may name. Diagnostics come sorted by position.
    public static func load(text: String, file: String, pluginNames: Set<String>? = nil,
                            limits: WorkflowLimits = WorkflowLimits()) -> (definition: WorkflowDefinition?, diagnostics: [Diagnostic]) {
        let result = compile(bytes: nil, text: text, file: file, pluginNames: pluginNames, limits: limits)
        return (result.definition, result.diagnostics)
    }

    /// Like `load(text:…)` for raw file contents: also reports invalid UTF-8 with its position.
    public static func load(bytes: [UInt8], file: String, pluginNames: Set<String>? = nil,
                            limits: WorkflowLimits = WorkflowLimits()) -> (definition: WorkflowDefinition?, diagnostics: [Diagnostic]) {
        let result = compile(bytes: bytes, text: nil, file: file, pluginNames: pluginNames, limits: limits)
        return (result.definition, result.diagnostics)
    }

    /// Time spent in each loading phase for `text` (for `orchestrator-bench workflow`):
    /// text checks, YAML composition, validation and compilation (with hashing). `now` reads
    /// the clock to use (the benchmark passes thread CPU time).
    @_spi(Benchmarks)
    public static func phaseDurations(text: String, limits: WorkflowLimits = WorkflowLimits(),
                                      now: () -> Duration) -> [(phase: String, duration: Duration)] {
        var phases: [(String, Duration)] = []
        var start = now()
        func lap(_ phase: String) {
            let now = now()
            phases.append((phase, now - start))
            start = now
        }
        let bytes = Array(text.utf8)
        _ = TextChecks.checkCharacters(bytes)
        _ = TextChecks.checkFlowDepth(bytes, depthMax: limits.nestingDepthMax)
        lap("text checks")
        let composed = YAMLComposer(limits: limits).compose(text)
        lap("YAML compose (libyaml events)")
        if let root = composed.root {
            var compiler = WorkflowCompiler(file: "bench", pluginNames: nil)
            _ = compiler.compile(root)
            lap("validate + build model + hash")
        }
        return phases
    }

    struct Compiled {
        var definition: WorkflowDefinition?
        var diagnostics: [Diagnostic]
        /// Where the `workflow:` name is written, for "name already used" across files.
        var namePosition: SourcePosition?
    }

    static func compile(bytes: [UInt8]?, text: String?, file: String, pluginNames: Set<String>?, limits: WorkflowLimits) -> Compiled {
        var sink = DiagnosticSink(file: file)
        func failed(_ problem: YAMLComposer.Problem) -> Compiled {
            sink.error(problem.message, at: problem.position)
            return Compiled(definition: nil, diagnostics: sink.diagnostics, namePosition: nil)
        }

        // Size and encoding first: nothing oversized or binary reaches the parser.
        let source: String
        if let bytes {
            if let problem = TextChecks.check(bytes: bytes, limits: limits) { return failed(problem) }
            source = String(decoding: bytes, as: UTF8.self)
        } else {
            let text = text ?? ""
            let size = text.utf8.count
            if size > limits.documentBytesMax {
                return failed(YAMLComposer.Problem(
                    message: "file is \(size) bytes, over the limit of \(limits.documentBytesMax) bytes for a workflow definition",
                    position: .start))
            }
            if let problem = TextChecks.checkCharacters(Array(text.utf8)) { return failed(problem) }
            source = text
        }

        if let problem = TextChecks.checkFlowDepth(Array(source.utf8), depthMax: limits.nestingDepthMax) { return failed(problem) }
        let composed = YAMLComposer(limits: limits).compose(source)
        for problem in composed.problems { sink.error(problem.message, at: problem.position) }
        guard !composed.aborted else {
            return Compiled(definition: nil, diagnostics: sink.diagnostics.sortedByPosition(), namePosition: nil)
        }
        guard let root = composed.root, root.resolvedScalar != .null else {
            sink.error("file is empty; a workflow file is a mapping with 'workflow', 'initial' and 'states'", at: .start)
            return Compiled(definition: nil, diagnostics: sink.diagnostics, namePosition: nil)
        }

        var compiler = WorkflowCompiler(file: file, pluginNames: pluginNames)
        let definition = compiler.compile(root)
        var namePosition: SourcePosition?
        if case .mapping(let pairs) = root.kind {
            namePosition = pairs.first { $0.key.scalarText == "workflow" }?.value.position
        }
        let diagnostics = (sink.diagnostics + compiler.sink.diagnostics).sortedByPosition()
        // A duplicate key is an error even when the rest compiled.
        let valid = !diagnostics.contains(where: \.isError)
        return Compiled(definition: valid ? definition : nil, diagnostics: diagnostics, namePosition: namePosition)
    }
}
