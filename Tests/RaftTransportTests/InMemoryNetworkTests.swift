import Raft
import Synchronization
import XCTest

@testable import RaftTransport

final class InMemoryNetworkTests: XCTestCase {
    private func startedNodes(_ network: InMemoryNetwork, _ ids: [NodeID]) async throws -> [InMemoryTransport] {
        var transports: [InMemoryTransport] = []
        for id in ids {
            let transport = network.transport(for: id)
            try await transport.start()
            transports.append(transport)
        }
        return transports
    }

    func testMessagesArriveInOrderPerSender() async throws {
        let network = InMemoryNetwork()
        let nodes = try await startedNodes(network, [1, 2, 3])
        let inbox = Collector(nodes[2].incoming)
        for round in 0..<100 {
            nodes[0].send([heartbeat(from: 1, to: 3, UInt64(round))])
            nodes[1].send([heartbeat(from: 2, to: 3, UInt64(round))])
        }
        let received = await inbox.waitFor(200)
        XCTAssertEqual(received.filter { $0.from == 1 }, (0..<100).map { heartbeat(from: 1, to: 3, $0) })
        XCTAssertEqual(received.filter { $0.from == 2 }, (0..<100).map { heartbeat(from: 2, to: 3, $0) })
        XCTAssertEqual(network.stats.messagesSent, 200)
        for node in nodes { await node.shutdown() }
    }

    func testDirectDeliveryHandsEachSendAsOneBatchInOrderAndRespectsCuts() async throws {
        let network = InMemoryNetwork()
        let nodes = try await startedNodes(network, [1, 2, 3])
        let batches = Mutex<[[Message]]>([])
        XCTAssertTrue(nodes[2].deliverDirectly { batch in batches.withLock { $0.append(batch) } })
        for round in 0..<50 {
            nodes[0].send([heartbeat(from: 1, to: 3, UInt64(2 * round)), heartbeat(from: 1, to: 2, 0),
                           heartbeat(from: 1, to: 3, UInt64(2 * round + 1))])
        }
        network.cut(from: 2, to: 3)
        nodes[1].send([heartbeat(from: 2, to: 3, 99)])
        let received = batches.withLock { $0 }
        XCTAssertEqual(received.count, 50, "one batch per send, handed over on the sender's thread")
        XCTAssertEqual(received.flatMap { $0 }, (0..<100).map { heartbeat(from: 1, to: 3, UInt64($0)) })
        XCTAssertEqual(network.stats.sendDropped, 1, "the cut link dropped node 2's message")
        for node in nodes { await node.shutdown() }
    }

    func testCutLinksDropAndHealRestores() async throws {
        let network = InMemoryNetwork()
        let nodes = try await startedNodes(network, [1, 2, 3])
        let inbox2 = Collector(nodes[1].incoming), inbox1 = Collector(nodes[0].incoming)

        network.cut(from: 1, to: 2)  // one direction only
        nodes[0].send([heartbeat(from: 1, to: 2, 0)])
        nodes[1].send([heartbeat(from: 2, to: 1, 0)])
        await inbox1.waitFor(1)
        XCTAssertEqual(network.stats.sendDropped, 1)

        network.isolate(3)
        nodes[2].send([heartbeat(from: 3, to: 1, 0), heartbeat(from: 3, to: 2, 0)])
        XCTAssertEqual(network.stats.sendDropped, 3)

        network.healAll()
        nodes[0].send([heartbeat(from: 1, to: 2, 1)])
        nodes[2].send([heartbeat(from: 3, to: 2, 1)])
        let received = await inbox2.waitFor(2)
        XCTAssertEqual(received, [heartbeat(from: 1, to: 2, 1), heartbeat(from: 3, to: 2, 1)])

        network.cut(1, 2)
        nodes[1].send([heartbeat(from: 2, to: 1, 1)])
        network.heal(1, 2)
        nodes[1].send([heartbeat(from: 2, to: 1, 2)])
        let atOne = await inbox1.waitFor(2)
        XCTAssertEqual(atOne, [heartbeat(from: 2, to: 1, 0), heartbeat(from: 2, to: 1, 2)])
        for node in nodes { await node.shutdown() }
    }

    func testFullInboxDropsWithoutBlockingTheSender() async throws {
        let network = InMemoryNetwork(inboxMaxMessages: 10)
        let nodes = try await startedNodes(network, [1, 2])
        nodes[0].send((0..<30).map { heartbeat(from: 1, to: 2, $0) })  // nobody reads node 2's inbox yet
        XCTAssertEqual(network.stats.receiveDropped, 20)
        let received = await Collector(nodes[1].incoming).waitFor(10)
        XCTAssertEqual(received, (0..<10).map { heartbeat(from: 1, to: 2, $0) })
        for node in nodes { await node.shutdown() }
    }

    /// The recipe's hashicorp/raft in-memory transport wedges when a receiver stops reading;
    /// here many concurrent senders into a slow reader finish at once, and every message is
    /// accounted for as delivered or dropped.
    func testSustainedLoadNeverBlocksAndAccountsForEveryMessage() async throws {
        let network = InMemoryNetwork(inboxMaxMessages: 256)
        let nodes = try await startedNodes(network, [1, 2, 3, 4, 5])
        let slowReader = Task {
            var count = 0
            for await _ in nodes[0].incoming {
                count += 1
                if count % 64 == 0 { try? await Task.sleep(for: .milliseconds(1)) }
            }
            return count
        }
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for sender in nodes.dropFirst() {
                group.addTask {
                    for batch in 0..<200 {
                        sender.send((0..<50).map { heartbeat(from: sender.nodeID, to: 1, UInt64(batch * 50 + $0)) })
                    }
                }
            }
        }
        let sendTime = ContinuousClock.now - started
        XCTAssertLessThan(sendTime, .seconds(5), "senders were held up")
        let stats = network.stats
        XCTAssertEqual(stats.messagesSent + stats.receiveDropped, 4 * 200 * 50)
        XCTAssertGreaterThan(stats.receiveDropped, 0)
        await nodes[0].shutdown()
        let read = await slowReader.value
        XCTAssertLessThanOrEqual(read, stats.messagesSent)
        for node in nodes.dropFirst() { await node.shutdown() }
    }

    func testShutdownFinishesIncomingAndLaterMessagesAreDropped() async throws {
        let network = InMemoryNetwork()
        let nodes = try await startedNodes(network, [1, 2])
        let inbox = Collector(nodes[1].incoming)
        await nodes[1].shutdown()
        await inbox.finished()
        nodes[0].send([heartbeat(from: 1, to: 2, 0)])
        await nodes[0].shutdown()
        nodes[0].send([heartbeat(from: 1, to: 2, 1)])
        XCTAssertEqual(network.stats.sendDropped, 2)
        XCTAssertEqual(network.stats.messagesSent, 0)
    }

    func testTransportsWorkWithoutStart() async throws {
        let network = InMemoryNetwork()
        let one = network.transport(for: 1), two = network.transport(for: 2)
        let inbox = Collector(two.incoming)
        one.send([heartbeat(from: 1, to: 2, 1)])
        let received = await inbox.waitFor(1)
        XCTAssertEqual(received, [heartbeat(from: 1, to: 2, 1)])
        await one.shutdown()
        await two.shutdown()
    }

    func testRestartedNodeReceivesOnItsNewTransport() async throws {
        let network = InMemoryNetwork()
        let nodes = try await startedNodes(network, [1, 2])
        await nodes[1].shutdown()
        let restarted = network.transport(for: 2)
        try await restarted.start()
        let inbox = Collector(restarted.incoming)
        nodes[0].send([heartbeat(from: 1, to: 2, 7)])
        let received = await inbox.waitFor(1)
        XCTAssertEqual(received, [heartbeat(from: 1, to: 2, 7)])
        await nodes[0].shutdown()
        await restarted.shutdown()
    }
}
