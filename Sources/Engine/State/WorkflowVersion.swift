import Workflow

/// One registered version of a workflow.
public struct WorkflowVersion: Sendable, Hashable {
    /// The workflow's name.
    public let name: String
    /// 1 for the first registration, one more for each changed definition.
    public let version: Int
    /// The definition's content hash.
    public let hash: String
    /// The definition instances of this version follow.
    public let definition: WorkflowDefinition
    /// The log index that registered it.
    public let registeredIndex: UInt64
    /// The engine clock when it was registered.
    public let registeredAtMillis: Int64
    /// The definition's canonical encoding, as snapshots store it.
    let definitionBytes: [UInt8]
}
