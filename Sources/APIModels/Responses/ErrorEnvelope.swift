import JSON

/// The body of every error response: `{"error": {"code", "message", "details"}}`, with a
/// stable `code` (docs/api.md lists them).
///
/// ```swift
/// ErrorEnvelope(code: "no_leader", message: "retry shortly", details: [:]).json
/// // {"error":{"code":"no_leader","details":{},"message":"retry shortly"}}
/// ```
public struct ErrorEnvelope: Sendable, Codable, Hashable, JSONWritable {
    /// The error itself.
    public struct Body: Sendable, Codable, Hashable {
        /// The stable machine-readable code (`transition_not_allowed`, `no_leader`, …).
        public var code: String
        /// A sentence for people.
        public var message: String
        /// Structured fields (the field at fault, the allowed transitions, …). The server
        /// always writes them (`{}` when there are none); nil only when a body lacks the key.
        public var details: [String: JSONValue]?

        /// An error body.
        public init(code: String, message: String, details: [String: JSONValue]?) {
            self.code = code
            self.message = message
            self.details = details
        }
    }

    /// The error.
    public var error: Body

    /// An envelope around `error`.
    public init(error: Body) {
        self.error = error
    }

    /// An envelope around an error with these fields.
    public init(code: String, message: String, details: [String: JSONValue]?) {
        self.init(error: Body(code: code, message: message, details: details))
    }

    /// The envelope as the server writes it.
    public var json: JSONValue {
        var body: [String: JSONValue] = ["code": .string(error.code), "message": .string(error.message)]
        if let details = error.details { body["details"] = .object(details) }
        return .object(["error": .object(body)])
    }
}
