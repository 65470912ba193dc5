import JSON

/// `GET /v1/workflows`: every registered workflow, by name, without `definition`.
public struct WorkflowList: Sendable, Codable, Hashable, JSONWritable {
    /// The workflows, sorted by name.
    public var workflows: [WorkflowInfo]

    /// A list answer.
    public init(workflows: [WorkflowInfo]) {
        self.workflows = workflows
    }

    /// The list as the server writes it.
    public var json: JSONValue { .object(["workflows": .list(workflows)]) }
}
