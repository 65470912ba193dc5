import JSON

/// The body of `POST /v1/cluster/transfer-leader`: `{to}`.
public struct TransferBody: Sendable, Codable, Hashable, JSONWritable {
    /// The voter to hand leadership to.
    public var to: UInt64

    /// A request to move leadership to `to`.
    public init(to: UInt64) {
        self.to = to
    }

    /// The body as the client sends it.
    public var json: JSONValue { .object(["to": .integer(to)]) }
}
