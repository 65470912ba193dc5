import JSON

/// The body of `POST /v1/instances/{id}/transitions`: `{transition?, to?, expect?, data?,
/// request_id?}` with `transition` or `to` given. Absent members are left out.
public struct TransitionBody: Sendable, Codable, Hashable, JSONWritable {
    /// The transition to take, by name.
    public var transition: String?
    /// The state to move to, when the transition is not named.
    public var to: String?
    /// Compare-and-set: refuse unless the instance is in this state.
    public var expect: String?
    /// A patch merged into the instance's data on success (`null` members remove keys).
    public var data: [String: JSONValue]?
    /// The request id (also sent as `X-Request-Id`); a retry with the same one is applied once.
    public var requestID: String?

    /// A transition request.
    public init(transition: String? = nil, to: String? = nil, expect: String? = nil, data: [String: JSONValue]? = nil,
                requestID: String? = nil) {
        self.transition = transition
        self.to = to
        self.expect = expect
        self.data = data
        self.requestID = requestID
    }

    enum CodingKeys: String, CodingKey {
        case transition, to, expect, data
        case requestID = "request_id"
    }

    /// The body as the client sends it.
    public var json: JSONValue {
        var members: [String: JSONValue] = [:]
        if let transition { members["transition"] = .string(transition) }
        if let to { members["to"] = .string(to) }
        if let expect { members["expect"] = .string(expect) }
        if let data { members["data"] = .object(data) }
        if let requestID { members["request_id"] = .string(requestID) }
        return .object(members)
    }
}
