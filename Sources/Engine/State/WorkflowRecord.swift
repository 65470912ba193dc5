/// The engine's record of a workflow: its versions, oldest first (never empty).
struct WorkflowRecord: Sendable, Hashable {
    var versions: [WorkflowVersion]
}
