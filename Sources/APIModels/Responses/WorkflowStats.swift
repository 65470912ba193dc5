import JSON

/// One workflow in `GET /v1/stats`: its instances by state. Every state of the latest
/// version is listed, with 0 when empty; states only older versions have appear while they
/// hold instances.
public struct WorkflowStats: Sendable, Codable, Hashable, JSONWritable {
    /// The workflow's name.
    public var name: String
    /// Its latest version.
    public var version: Int
    /// Its retained instances.
    public var total: Int
    /// Instances finished (in a final state).
    public var finished: Int
    /// Instances per state name.
    public var states: [String: Int]

    /// A workflow's counts.
    public init(name: String, version: Int, total: Int, finished: Int, states: [String: Int]) {
        self.name = name
        self.version = version
        self.total = total
        self.finished = finished
        self.states = states
    }

    /// The counts as the server writes them.
    public var json: JSONValue {
        .object(["name": .string(name), "version": .integer(version), "total": .integer(total), "finished": .integer(finished),
                 "states": .object(states.mapValues { .integer($0) })])
    }
}
