/// Bounds on what the loader accepts, so that any input — a huge file, deep nesting, an
/// alias bomb — gets a clear error quickly instead of exhausting memory or the stack.
///
/// ```swift
/// var limits = WorkflowLimits()
/// limits.documentBytesMax = 4 << 20   // allow a 4 MiB generated workflow
/// ```
public struct WorkflowLimits: Sendable, Hashable {
    /// Largest definition text in bytes, checked before parsing. Default 1 MiB.
    public var documentBytesMax: Int
    /// Deepest nesting of mappings and lists, checked as the parser reads. Default 64.
    public var nestingDepthMax: Int
    /// Most YAML nodes in one document, counting each alias expansion. Default 1,000,000.
    public var nodeCountMax: Int

    /// The default limits: 1 MiB, 64 levels, 1,000,000 nodes.
    public init(documentBytesMax: Int = WorkflowLimits.documentBytesMaxDefault,
                nestingDepthMax: Int = 64,
                nodeCountMax: Int = 1_000_000) {
        self.documentBytesMax = documentBytesMax
        self.nestingDepthMax = nestingDepthMax
        self.nodeCountMax = nodeCountMax
    }

    /// 1 MiB: a hand-written workflow is a few KiB; 20,000 transitions fit in under 1 MiB.
    public static let documentBytesMaxDefault = 1 << 20

    /// Longest name (workflow, state, transition, trigger, plugin), in characters.
    public static let nameLengthMax = 64
    /// Most attempts a hook's `retry` may ask for.
    public static let retryAttemptsMax = 100
}
