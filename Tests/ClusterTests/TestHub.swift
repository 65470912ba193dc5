import Raft
import RaftTransport
import Synchronization

/// Connects transports inside one test process; links can be cut.
final class TestHub: Sendable {
    private let inboxes = Mutex<[NodeID: AsyncStream<Message>.Continuation]>([:])
    private let cutLinks = Mutex<Set<[NodeID]>>([])

    func transport(for node: NodeID) -> HubTransport {
        let (stream, continuation) = AsyncStream<Message>.makeStream(bufferingPolicy: .bufferingNewest(100_000))
        inboxes.withLock { $0[node] = continuation }
        return HubTransport(node: node, hub: self, incoming: stream)
    }

    func deliver(_ messages: [Message]) {
        let cut = cutLinks.withLock { $0 }
        let boxes = inboxes.withLock { $0 }
        for message in messages where !cut.contains([message.from, message.to]) {
            boxes[message.to]?.yield(message)
        }
    }

    func isolate(_ node: NodeID, from others: [NodeID]) {
        cutLinks.withLock { cut in
            for other in others where other != node {
                cut.insert([node, other])
                cut.insert([other, node])
            }
        }
    }

    func heal() { cutLinks.withLock { $0 = [] } }

    func close(_ node: NodeID) {
        let box = inboxes.withLock { $0.removeValue(forKey: node) }
        box?.finish()
    }
}

struct HubTransport: RaftTransport {
    let node: NodeID
    let hub: TestHub
    let incoming: AsyncStream<Message>

    func send(_ messages: [Message]) { hub.deliver(messages) }
    func updatePeers(_ peers: [NodeID: PeerAddress]) {}
    func start() async throws {}
    func shutdown() async { hub.close(node) }
}
