import NIOCore
import NIOPosix
import Raft
import Synchronization
import XCTest

@testable import RaftTransport

final class TCPTransportTests: TransportTestCase {
    func testTwoTransportsExchangeMessagesInOrder() async throws {
        let nodes = try await makeCluster(2)
        let (inbox1, inbox2) = (Collector(nodes[0].incoming), Collector(nodes[1].incoming))
        let toTwo = (0..<500).map { heartbeat(from: 1, to: 2, $0) }
        let toOne = (0..<500).map { heartbeat(from: 2, to: 1, $0) }
        for batch in stride(from: 0, to: 500, by: 50) {
            nodes[0].send(Array(toTwo[batch..<batch + 50]))
            nodes[1].send(Array(toOne[batch..<batch + 50]))
        }
        let at2 = await inbox2.waitFor(500), at1 = await inbox1.waitFor(500)
        XCTAssertEqual(at2, toTwo)
        XCTAssertEqual(at1, toOne)
        XCTAssertEqual(nodes[0].stats.messagesSent, 500)
        XCTAssertEqual(nodes[1].stats.messagesReceived, 500)
        XCTAssertEqual(nodes[0].stats.sendDropped, 0)
    }

    func testEveryPayloadCaseCrossesTheWire() async throws {
        let nodes = try await makeCluster(2)
        let inbox = Collector(nodes[1].incoming)
        let messages = MessageSamples.everyCase.map { Message(from: 1, to: 2, term: $0.term, payload: $0.payload) }
        nodes[0].send(messages)
        let received = await inbox.waitFor(messages.count)
        XCTAssertEqual(received, messages)
    }

    func testThreeTransportsKeepPerSenderOrder() async throws {
        let nodes = try await makeCluster(3)
        let inboxes = nodes.map { Collector($0.incoming) }
        for round in 0..<200 {
            for node in nodes {
                node.send(nodes.filter { $0.nodeID != node.nodeID }.map { heartbeat(from: node.nodeID, to: $0.nodeID, UInt64(round)) })
            }
        }
        for (index, inbox) in inboxes.enumerated() {
            let received = await inbox.waitFor(400)
            for sender in nodes.map(\.nodeID) where sender != NodeID(index + 1) {
                XCTAssertEqual(received.filter { $0.from == sender }, (0..<200).map { heartbeat(from: sender, to: NodeID(index + 1), $0) })
            }
        }
    }

    func testLatePeerIsReachedAfterReconnectingAndStaleMessagesAreDropped() async throws {
        let port = try unusedPort()
        let one = makeTransport(1, peers: [2: PeerAddress(host: "127.0.0.1", port: port)])
        try await one.start()
        let early = (0..<10).map { heartbeat(from: 1, to: 2, $0) }
        one.send(early)  // queued while 2 is down, then dropped when connecting fails
        let failedTwice = await eventually { one.stats.connectFailures >= 2 }
        XCTAssertTrue(failedTwice, "expected failed connection attempts, stats: \(one.stats)")
        XCTAssertGreaterThanOrEqual(one.stats.sendDropped, 10, "messages for an unreachable peer are stale: dropped and counted")

        let two = makeTransport(2, port: port, peers: [1: one.listenAddress!])
        let inbox = Collector(two.incoming)
        try await two.start()
        let late = (10..<20).map { heartbeat(from: 1, to: 2, $0) }
        // Keep sending (as Raft's heartbeats do) until the reconnect lands, then check order.
        for _ in 0..<100 where inbox.messages.isEmpty {
            one.send(late)
            _ = await eventually(timeout: .milliseconds(100)) { !inbox.messages.isEmpty }
        }
        let received = await inbox.waitFor(10)
        XCTAssertEqual(Array(received.prefix(10)), late, "no stale message arrives, and the late ones arrive in order")
        XCTAssertEqual(one.stats.connectionsEstablished, 1)
    }

    func testRestartedPeerIsReconnected() async throws {
        let nodes = try await makeCluster(2)
        let address = nodes[1].listenAddress!
        let firstInbox = Collector(nodes[1].incoming)
        nodes[0].send([heartbeat(from: 1, to: 2, 0)])
        await firstInbox.waitFor(1)

        await nodes[1].shutdown()
        await firstInbox.finished()
        let restarted = makeTransport(2, port: address.port, peers: [1: nodes[0].listenAddress!])
        let inbox = Collector(restarted.incoming)
        try await restarted.start()
        // Messages written into the dying connection are lost (Raft resends); keep sending until one arrives.
        var round: UInt64 = 1
        let reached = await eventually {
            nodes[0].send([heartbeat(from: 1, to: 2, round)])
            round += 1
            return !inbox.messages.isEmpty
        }
        XCTAssertTrue(reached, "restarted peer never reached; stats \(nodes[0].stats)")
        XCTAssertGreaterThanOrEqual(nodes[0].stats.reconnects, 1)
        // Order survives the reconnect.
        let rounds = inbox.messages.map { message -> UInt64 in
            guard case .heartbeat(let beat) = message.payload else { return 0 }
            return beat.readRound
        }
        XCTAssertEqual(rounds, rounds.sorted())
    }

    func testWrongClusterIsRefused() async throws {
        let one = makeTransport(1, cluster: "blue")
        let two = makeTransport(2, cluster: "green")
        try await one.start()
        try await two.start()
        one.updatePeers([2: two.listenAddress!])
        two.updatePeers([1: one.listenAddress!])
        let inbox = Collector(two.incoming)
        one.send([heartbeat(from: 1, to: 2, 1)])
        let refused = await eventually { two.stats.inboundRefused >= 1 && one.stats.refusedByPeer >= 1 }
        XCTAssertTrue(refused, "one: \(one.stats); two: \(two.stats)")
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertEqual(inbox.messages, [])
    }

    /// A node that knows no peers (one started with `--join`) admits a node of its cluster
    /// that dials it and answers on that connection; once it has the peer's address it sends
    /// on its own connection instead.
    func testANodeWithNoPeersAdmitsItsClusterAndAnswersOnTheConnectionItWasDialedOn() async throws {
        let joiner = makeTransport(4)
        try await joiner.start()
        let joinerInbox = Collector(joiner.incoming)
        let leader = makeTransport(1, peers: [4: joiner.listenAddress!])
        try await leader.start()
        let leaderInbox = Collector(leader.incoming)
        leader.send([heartbeat(from: 1, to: 4, 1)])
        await joinerInbox.waitFor(1)
        let answers = (0..<5).map { heartbeat(from: 4, to: 1, $0) }
        joiner.send(answers)
        let received = await leaderInbox.waitFor(5)
        XCTAssertEqual(received, answers)
        XCTAssertEqual(joiner.stats.sendDropped, 0)
        XCTAssertEqual(joiner.stats.connectionsEstablished, 0, "the answers went back on the leader's connection")

        joiner.updatePeers([1: leader.listenAddress!])
        joiner.send([heartbeat(from: 4, to: 1, 9)])
        let all = await leaderInbox.waitFor(6)
        XCTAssertEqual(all.last, heartbeat(from: 4, to: 1, 9))
        let dialed = await eventually { joiner.stats.connectionsEstablished == 1 }
        XCTAssertTrue(dialed, "\(joiner.stats)")
    }

    /// A peer that removed us refuses us; what we queued meanwhile is not written into the
    /// refused connection but delivered once it takes us back.
    func testMessagesQueuedDuringARefusalArriveOnceAccepted() async throws {
        let two = makeTransport(2, peers: [1: PeerAddress(host: "127.0.0.1", port: try unusedPort())])
        try await two.start()
        two.updatePeers([:])
        let inbox = Collector(two.incoming)
        let one = makeTransport(1, peers: [2: two.listenAddress!])
        try await one.start()
        let messages = (0..<10).map { heartbeat(from: 1, to: 2, $0) }
        one.send(messages)
        let refused = await eventually { one.stats.refusedByPeer >= 1 }
        XCTAssertTrue(refused, "\(one.stats)")
        two.updatePeers([1: one.listenAddress!])
        let received = await inbox.waitFor(10)
        XCTAssertEqual(received, messages)
        XCTAssertEqual(one.stats.sendDropped, 0)
    }

    func testRemovedNodeAndWrongTargetAreRefused() async throws {
        let two = makeTransport(2, peers: [1: PeerAddress(host: "127.0.0.1", port: 1), 3: PeerAddress(host: "127.0.0.1", port: 1)])
        try await two.start()
        // Node 1 was a peer of 2 and was removed.
        two.updatePeers([3: PeerAddress(host: "127.0.0.1", port: 1)])
        let one = makeTransport(1, peers: [2: two.listenAddress!])
        try await one.start()
        // Node 3 is a peer, but believes 2's address belongs to node 4.
        let three = makeTransport(3, peers: [4: two.listenAddress!])
        try await three.start()
        let refused = await eventually { one.stats.refusedByPeer >= 1 && three.stats.refusedByPeer >= 1 }
        XCTAssertTrue(refused, "one: \(one.stats); three: \(three.stats); two: \(two.stats)")
        XCTAssertGreaterThanOrEqual(two.stats.inboundRefused, 2)
        XCTAssertEqual(two.stats.messagesReceived, 0)
    }

    func testHandshakeClaimingTheReceiversOwnIDIsRefusedWithAReason() async throws {
        let node = makeTransport(2, peers: [1: PeerAddress(host: "127.0.0.1", port: try unusedPort())])
        try await node.start()
        let (channel, collector) = try await rawConnectionCollectingFrames(to: node.listenAddress!)
        var handshake = ByteBuffer()
        WireCodec.encode(.handshake(Handshake(clusterID: "test", from: 2, to: 2)), into: &handshake)
        try await channel.writeAndFlush(handshake)
        let closed = await isClosedByPeer(channel)
        XCTAssertTrue(closed)
        XCTAssertEqual(collector.frames.withLock { $0 }, [.refuse(reason: "node 2 is this node's own id (duplicate node id?)")])
        XCTAssertEqual(node.stats.inboundRefused, 1)
    }

    func testGarbageClosesOnlyThatConnection() async throws {
        let nodes = try await makeCluster(2)
        let inbox = Collector(nodes[1].incoming)
        nodes[0].send([heartbeat(from: 1, to: 2, 0)])
        await inbox.waitFor(1)
        let target = nodes[1].listenAddress!
        let connectionsBefore = nodes[0].stats.connectionsEstablished
        // Node 9 is a member that is down; the impostor below claims to be it.
        nodes[1].updatePeers([1: nodes[0].listenAddress!, 9: PeerAddress(host: "127.0.0.1", port: try unusedPort())])

        // 1. Not our protocol at all.
        let http = try await rawConnection(to: target)
        try await http.writeAndFlush(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8).buffer)
        // 2. A frame header announcing 4 GiB.
        let huge = try await rawConnection(to: target)
        try await huge.writeAndFlush((WireCodec.magic + [1, 2, 0xFF, 0xFF, 0xFF, 0xFF]).buffer)
        // 3. A valid handshake (node 9 of this cluster), then a message claiming to be from node 3.
        let impostor = try await rawConnection(to: target)
        var frames = ByteBuffer()
        WireCodec.encode(.handshake(Handshake(clusterID: "test", from: 9, to: 2)), into: &frames)
        WireCodec.encode(.message(heartbeat(from: 3, to: 2, 9)), into: &frames)
        try await impostor.writeAndFlush(frames)
        // 4. A message before any handshake.
        let messageFirst = try await rawConnection(to: target)
        try await messageFirst.writeAndFlush(WireCodec.encode(heartbeat(from: 1, to: 2, 9)))

        for (name, channel) in [("http", http), ("huge", huge), ("impostor", impostor), ("messageFirst", messageFirst)] {
            let closed = await isClosedByPeer(channel)
            XCTAssertTrue(closed, "\(name) connection was not closed")
        }
        XCTAssertEqual(nodes[1].stats.decodeErrors, 4)
        // The real peer's connection is untouched.
        nodes[0].send([heartbeat(from: 1, to: 2, 1)])
        let received = await inbox.waitFor(2)
        XCTAssertEqual(received, [heartbeat(from: 1, to: 2, 0), heartbeat(from: 1, to: 2, 1)])
        XCTAssertEqual(nodes[0].stats.connectionsEstablished, connectionsBefore)
    }

    func testSilentConnectionIsClosedAfterTheHandshakeTimeout() async throws {
        let node = makeTransport(1, options: options { $0.handshakeTimeout = .milliseconds(100) })
        try await node.start()
        let silent = try await rawConnection(to: node.listenAddress!)
        let closed = await isClosedByPeer(silent, within: .seconds(3))
        XCTAssertTrue(closed)
        XCTAssertEqual(node.stats.inboundRefused, 1)
    }

    func testAFullListenerClosesTheOldestSilentConnectionToLetAPeerIn() async throws {
        let node2 = makeTransport(2, options: options {
            $0.maxInboundConnections = 4
            $0.handshakeTimeout = .seconds(30)
        })
        try await node2.start()
        let inbox = Collector(node2.incoming)
        // Four connections that never say who they are fill the listener, one after the other:
        // each is accepted before the next is opened, so "oldest" means silent[0] (the
        // listener's accepts may run on several event loops and would otherwise race).
        var silent: [any Channel] = []
        for count in 1...4 {
            silent.append(try await rawConnection(to: node2.listenAddress!))
            let accepted = await eventually { node2.inboundConnectionCount == count }
            XCTAssertTrue(accepted, "connection \(count) was not accepted")
        }
        // A real peer still gets in: the silent connection that waited longest makes room.
        let node1 = makeTransport(1, peers: [2: node2.listenAddress!])
        try await node1.start()
        node1.send([heartbeat(from: 1, to: 2, 0)])
        let received = await inbox.waitFor(1)
        XCTAssertEqual(received, [heartbeat(from: 1, to: 2, 0)])
        let oldestClosed = await isClosedByPeer(silent[0])
        XCTAssertTrue(oldestClosed, "the oldest silent connection was not closed")
        XCTAssertTrue(silent[3].isActive, "a younger silent connection was closed")
        XCTAssertEqual(node2.stats.inboundRefused, 1)
    }

    func testFullSendQueueDropsAndCounts() async throws {
        let port = try unusedPort()
        let node = makeTransport(1, peers: [2: PeerAddress(host: "127.0.0.1", port: port)],
                                 options: options { $0.sendQueueMaxMessages = 10 })
        try await node.start()
        node.send((0..<25).map { heartbeat(from: 1, to: 2, $0) })
        XCTAssertEqual(node.stats.sendDropped, 15)
        XCTAssertEqual(node.queuedMessages(for: 2), 10)
        // Unknown peer and wrong sender are dropped too.
        node.send([heartbeat(from: 1, to: 9, 0), heartbeat(from: 5, to: 2, 0)])
        XCTAssertEqual(node.stats.sendDropped, 17)
    }

    func testSendQueueByteLimitDropsLargeMessages() async throws {
        let port = try unusedPort()
        let node = makeTransport(1, peers: [2: PeerAddress(host: "127.0.0.1", port: port)],
                                 options: options { $0.sendQueueMaxBytes = 3 << 20 })
        try await node.start()
        node.send((0..<5).map { chunkMessage(offset: $0 << 20, total: 5 << 20) })
        XCTAssertEqual(node.queuedMessages(for: 2), 2)
        XCTAssertEqual(node.stats.sendDropped, 3)
    }

    func testOversizedMessageIsDroppedNotSent() async throws {
        let nodes = try await makeCluster(2, options: options { $0.maxFrameBytes = 4096 })
        let inbox = Collector(nodes[1].incoming)
        nodes[0].send([chunkMessage(offset: 0, total: 8192, bytes: 8192), heartbeat(from: 1, to: 2, 1)])
        let received = await inbox.waitFor(1)
        XCTAssertEqual(received, [heartbeat(from: 1, to: 2, 1)])
        XCTAssertEqual(nodes[0].stats.sendDropped, 1)
    }

    func testFullIncomingBufferDropsAndCounts() async throws {
        let nodes = try await makeCluster(2, options: options { $0.incomingBufferMessages = 10 })
        nodes[0].send((0..<50).map { heartbeat(from: 1, to: 2, $0) })
        let arrived = await eventually { nodes[1].stats.messagesReceived == 50 }
        XCTAssertTrue(arrived, "\(nodes[1].stats)")
        XCTAssertEqual(nodes[1].stats.receiveDropped, 40)
        // The oldest ten were kept.
        let inbox = Collector(nodes[1].incoming)
        let received = await inbox.waitFor(10)
        XCTAssertEqual(received, (0..<10).map { heartbeat(from: 1, to: 2, $0) })
    }

    /// 1 MiB snapshot chunks through small write buffers: the drain stops when the channel is
    /// not writable and resumes on the writability change, and nothing is lost or reordered.
    func testLargeSnapshotChunksCrossWithBackpressure() async throws {
        let nodes = try await makeCluster(2, options: options {
            $0.writeBufferLowWatermarkBytes = 16 << 10
            $0.writeBufferHighWatermarkBytes = 64 << 10
        })
        let inbox = Collector(nodes[1].incoming)
        let total = 16 << 20
        let chunks = (0..<16).map { chunkMessage(offset: $0 << 20, total: total) }
        nodes[0].send(chunks)
        let received = await inbox.waitFor(16, timeout: .seconds(20))
        XCTAssertEqual(received, chunks)
        XCTAssertEqual(nodes[0].stats.sendDropped, 0)
        XCTAssertGreaterThan(nodes[0].stats.bytesSent, total)
    }

    func testAddressChangeRedirectsTheConnection() async throws {
        let nodes = try await makeCluster(2)
        let replacement = makeTransport(2, peers: [1: nodes[0].listenAddress!])
        try await replacement.start()
        let inbox = Collector(replacement.incoming)
        nodes[0].updatePeers([2: replacement.listenAddress!])
        var round: UInt64 = 0
        let reached = await eventually {
            nodes[0].send([heartbeat(from: 1, to: 2, round)])
            round += 1
            return !inbox.messages.isEmpty
        }
        XCTAssertTrue(reached)
    }

    func testRemovedPeerIsNeitherSentToNorHeard() async throws {
        let nodes = try await makeCluster(2)
        let inbox = Collector(nodes[1].incoming)
        nodes[0].send([heartbeat(from: 1, to: 2, 0)])
        await inbox.waitFor(1)
        nodes[1].updatePeers([:])
        nodes[1].send([heartbeat(from: 2, to: 1, 0)])
        XCTAssertEqual(nodes[1].stats.sendDropped, 1)
        // Node 1's connection is closed, and its reconnection refused: 2 removed node 1.
        let refused = await eventually { nodes[0].stats.refusedByPeer >= 1 }
        XCTAssertTrue(refused, "\(nodes[0].stats)")
        nodes[0].send([heartbeat(from: 1, to: 2, 1)])
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertEqual(inbox.messages.count, 1)
    }

    func testShutdownFinishesIncomingAndDropsLaterSends() async throws {
        let nodes = try await makeCluster(2)
        let inbox = Collector(nodes[0].incoming)
        await nodes[0].shutdown()
        await inbox.finished()
        nodes[0].send([heartbeat(from: 1, to: 2, 0)])
        XCTAssertEqual(nodes[0].stats.sendDropped, 1)
        await nodes[0].shutdown()  // twice is fine
    }

    func testListeningOnAPortInUseFails() async throws {
        let first = makeTransport(1)
        try await first.start()
        let second = makeTransport(2, port: first.listenAddress!.port)
        do {
            try await second.start()
            XCTFail("second listener on the same port started")
        } catch let error as TransportError {
            guard case .cannotListen = error else { return XCTFail("\(error)") }
            XCTAssertTrue(error.description.hasPrefix("cannot listen on 127.0.0.1:\(first.listenAddress!.port)"), error.description)
        }
    }

    /// A dial into a partition that drops packets hangs until its timeout (here 30 s); the
    /// next dial does not wait for it. The peer's address first leads to a listener that
    /// accepts connections and never answers (every handshake hangs), then the peer itself
    /// listens there: it is reached by a later dial, long before any hanging one times out,
    /// and never more than `dialsInFlightMax` dials hang at once.
    func testDialsKeepComingWhileEarlierOnesHang() async throws {
        final class Count: Sendable { let value = Atomic<Int>(0) }
        let accepted = Count()
        let silent = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                accepted.value.add(1, ordering: .relaxed)  // accepted, then never a byte back
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = silent.localAddress!.port!
        let one = makeTransport(1, peers: [2: PeerAddress(host: "127.0.0.1", port: port)], options: options {
            $0.connectTimeout = .seconds(30)
            $0.reconnectBackoffMax = .milliseconds(50)
        })
        try await one.start()
        let overlapping = await eventually { accepted.value.load(ordering: .relaxed) >= PeerLink.dialsInFlightMax + 2 }
        XCTAssertTrue(overlapping, "dials hanging in their handshake did not hold up new ones: \(accepted.value.load(ordering: .relaxed)) accepted")
        XCTAssertLessThanOrEqual(one.dialsInFlight(to: 2), PeerLink.dialsInFlightMax)

        // The partition heals: the peer answers on that port (the hanging connections stay open).
        try await silent.close()
        let two = makeTransport(2, port: port, peers: [1: one.listenAddress!])
        let inbox = Collector(two.incoming)
        try await two.start()
        var round: UInt64 = 0
        let reached = await eventually(timeout: .seconds(10)) {
            one.send([heartbeat(from: 1, to: 2, round)])
            round += 1
            return !inbox.messages.isEmpty
        }
        XCTAssertTrue(reached, "peer not reached while earlier dials hung; stats \(one.stats)")
        let settled = await eventually { one.dialsInFlight(to: 2) == 0 }
        XCTAssertTrue(settled, "older dials are closed once one is accepted")
    }

    func testBackoffDoublesToItsCapWithJitter() {
        var options = TCPTransport.Options()
        options.reconnectBackoffMin = .milliseconds(50)
        options.reconnectBackoffMax = .seconds(2)
        var rng = SplitMix64(seed: 1)
        for failures in 1...80 {
            let ceiling = min(50 << min(failures - 1, 20), 2000)
            let delay = PeerLink.backoff(failures: failures, options: options, random: &rng).nanoseconds / 1_000_000
            XCTAssert((Int64(ceiling / 2)...Int64(ceiling)).contains(delay), "failure \(failures): \(delay) ms, ceiling \(ceiling)")
        }
        // Deterministic for a seed.
        var a = SplitMix64(seed: 9), b = SplitMix64(seed: 9)
        XCTAssertEqual((1...10).map { PeerLink.backoff(failures: $0, options: options, random: &a) },
                       (1...10).map { PeerLink.backoff(failures: $0, options: options, random: &b) })
    }

    private func chunkMessage(offset: Int, total: Int, bytes: Int = 1 << 20) -> Message {
        // Distinct per chunk and not uniform inside, built fast (a 1 MiB `map` is slow in debug builds).
        var data = [UInt8](repeating: UInt8(truncatingIfNeeded: offset >> 20), count: bytes)
        for i in stride(from: 0, to: bytes, by: 4093) { data[i] = UInt8(truncatingIfNeeded: i / 4093) }
        return Message(from: 1, to: 2, term: 3, payload: .snapshotChunk(Message.SnapshotChunk(
            metadata: SnapshotMetadata(index: 1000, term: 2, configuration: Configuration(voters: [1, 2, 3])),
            totalBytes: total, offset: offset, data: data)))
    }
}
