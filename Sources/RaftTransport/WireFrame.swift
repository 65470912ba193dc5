import Raft

/// One unit on the wire. See docs/transport.md for the byte layout.
public enum WireFrame: Sendable, Hashable {
    /// First frame on every connection, from the dialing node.
    case handshake(Handshake)
    /// A Raft message.
    case message(Message)
    /// The accepting node refuses the connection (wrong cluster, unknown node, …) and closes it.
    case refuse(reason: String)
    /// The accepting node (`node`) admitted the connection: the dialer may now send messages.
    case accept(node: NodeID)

    /// The frame type byte of each case.
    public enum FrameType: UInt8, Sendable {
        case handshake = 1
        case message = 2
        case refuse = 3
        case accept = 4
    }

    public var frameType: FrameType {
        switch self {
        case .handshake: .handshake
        case .message: .message
        case .refuse: .refuse
        case .accept: .accept
        }
    }
}

/// Who is calling: sent by the dialer as the first frame of a connection.
public struct Handshake: Sendable, Hashable {
    /// Must equal the receiver's cluster id, or the connection is refused.
    public var clusterID: String
    /// The dialing node.
    public var from: NodeID
    /// The node the dialer expects to reach (catches stale or swapped peer addresses).
    public var to: NodeID

    public init(clusterID: String, from: NodeID, to: NodeID) {
        self.clusterID = clusterID
        self.from = from
        self.to = to
    }
}
