/// A workflow and all its versions.
public struct WorkflowSummary: Sendable, Hashable {
    /// The workflow's name.
    public let name: String
    /// Every version, oldest first; the last is the one new instances start with.
    public let versions: [WorkflowVersion]
    /// The latest version.
    public var latest: WorkflowVersion { versions[versions.count - 1] }
}
