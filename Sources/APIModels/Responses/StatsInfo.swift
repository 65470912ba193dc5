import JSON

/// `GET /v1/stats`: instance counts per workflow and state in one answer (a dashboard asks
/// once instead of once per row), as of `applied_index` on the answering `node`.
public struct StatsInfo: Sendable, Codable, Hashable, JSONWritable {
    /// The node that answered.
    public var node: UInt64
    /// The log index the counts are as of (compare with the `id` of `GET /v1/events`).
    public var appliedIndex: UInt64
    /// Retained instances over every workflow.
    public var total: Int
    /// Each registered workflow, by name.
    public var workflows: [WorkflowStats]

    /// A stats answer.
    public init(node: UInt64, appliedIndex: UInt64, total: Int, workflows: [WorkflowStats]) {
        self.node = node
        self.appliedIndex = appliedIndex
        self.total = total
        self.workflows = workflows
    }

    enum CodingKeys: String, CodingKey {
        case node, total, workflows
        case appliedIndex = "applied_index"
    }

    /// The answer as the server writes it.
    public var json: JSONValue {
        .object(["node": .integer(node), "applied_index": .integer(appliedIndex), "total": .integer(total),
                 "workflows": .list(workflows)])
    }
}
