import JSON

/// The body of `POST /v1/instances`: `{workflow, id?, version?, data?, request_id?}`. Absent
/// members are left out.
public struct StartBody: Sendable, Codable, Hashable, JSONWritable {
    /// The workflow to start.
    public var workflow: String
    /// The instance's id; without one the instance is named after the request id.
    public var id: String?
    /// The workflow version to pin; without one, the latest.
    public var version: Int?
    /// Initial data, merged over the workflow's defaults.
    public var data: [String: JSONValue]?
    /// The request id (also sent as `X-Request-Id`); a retry with the same one is applied once.
    public var requestID: String?

    /// A start request.
    public init(workflow: String, id: String? = nil, version: Int? = nil, data: [String: JSONValue]? = nil,
                requestID: String? = nil) {
        self.workflow = workflow
        self.id = id
        self.version = version
        self.data = data
        self.requestID = requestID
    }

    enum CodingKeys: String, CodingKey {
        case workflow, id, version, data
        case requestID = "request_id"
    }

    /// The body as the client sends it.
    public var json: JSONValue {
        var members: [String: JSONValue] = ["workflow": .string(workflow)]
        if let id { members["id"] = .string(id) }
        if let version { members["version"] = .integer(version) }
        if let data { members["data"] = .object(data) }
        if let requestID { members["request_id"] = .string(requestID) }
        return .object(members)
    }
}
