import RaftTransport

/// A member's addresses: where its Raft transport and its HTTP API listen.
public struct MemberAddress: Sendable, Hashable {
    public var raft: PeerAddress
    public var api: String

    public init(raft: PeerAddress, api: String) {
        self.raft = raft
        self.api = api
    }
}
