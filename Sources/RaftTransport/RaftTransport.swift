import Raft

/// How a node's messages reach its peers. Implementations: the SwiftNIO TCP transport
/// (``TCPTransport``) and the in-memory one (``InMemoryNetwork``) for tests and `dev`.
///
/// Delivery is best effort, as Raft expects: messages may be dropped (a full per-peer
/// queue, a broken connection) but are never corrupted, and messages to one peer leave
/// in the order given.
public protocol RaftTransport: Sendable {
    /// Queues messages for their peers. Never blocks; overflow drops and counts.
    func send(_ messages: [Message])
    /// Messages that arrived for this node, in arrival order. Finishes on shutdown.
    var incoming: AsyncStream<Message> { get }
    /// Sets where each peer listens (new members, changed addresses). Messages to a node with no
    /// address are dropped — except that the TCP transport answers a node on the connection
    /// that node opened, while it has no address for it.
    func updatePeers(_ peers: [NodeID: PeerAddress])
    /// Starts listening and connecting.
    func start() async throws
    /// Closes every connection and finishes `incoming`.
    func shutdown() async
    /// Asks the transport to hand arriving messages straight to `receiver`, in batches and
    /// on the thread that read them, instead of through `incoming` (which then stays empty).
    /// This saves a hop through a task per message; the receiver must not block. Returns
    /// false when the transport has no such path (keep reading `incoming`). Call before
    /// `start()`.
    func deliverDirectly(to receiver: @escaping @Sendable ([Message]) -> Void) -> Bool
}

extension RaftTransport {
    public func deliverDirectly(to receiver: @escaping @Sendable ([Message]) -> Void) -> Bool { false }
}

/// A peer's Raft listen address.
public struct PeerAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port), colon != text.startIndex else { return nil }
        host = String(text[..<colon])
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}
