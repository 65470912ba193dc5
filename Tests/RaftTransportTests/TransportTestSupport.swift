import Foundation
import Logging
import NIOCore
import NIOPosix
import Raft
import Synchronization
import XCTest

@testable import RaftTransport

/// Drains a transport's `incoming` into an array that tests can wait on.
final class Collector: Sendable {
    private final class Storage: Sendable {
        let messages = Mutex<[Message]>([])
    }

    private let storage = Storage()
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<Message>) {
        let storage = self.storage
        task = Task { for await message in stream { storage.messages.withLock { $0.append(message) } } }
    }

    deinit { task.cancel() }

    var messages: [Message] { storage.messages.withLock { $0 } }

    /// Waits until `count` messages arrived, or fails after `timeout`.
    @discardableResult
    func waitFor(_ count: Int, timeout: Duration = .seconds(10), file: StaticString = #filePath, line: UInt = #line) async -> [Message] {
        let arrived = await eventually(timeout: timeout) { self.messages.count >= count }
        let messages = self.messages
        if !arrived { XCTFail("got \(messages.count) of \(count) messages within \(timeout)", file: file, line: line) }
        return messages
    }

    /// Completes when the stream finished.
    func finished() async { await task.value }
}

/// Polls `condition` every 5 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return true
}

/// A port nobody listens on right now (bound to 127.0.0.1:0 and released).
func unusedPort() throws -> Int {
    let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
    let port = channel.localAddress!.port!
    try channel.close().wait()
    return port
}

func heartbeat(from: NodeID, to: NodeID, _ round: UInt64, term: Term = 1) -> Message {
    Message(from: from, to: to, term: term, payload: .heartbeat(Message.Heartbeat(commit: 0, readRound: round)))
}

/// Base for transport tests: one event loop group per test, and every transport made with
/// `makeTransport` shut down after the test, passed or failed.
class TransportTestCase: XCTestCase {
    var group: MultiThreadedEventLoopGroup!
    private let made = Mutex<[TCPTransport]>([])
    var logger: Logger {
        var logger = Logger(label: "test.transport")
        logger.logLevel = ProcessInfo.processInfo.environment["TRANSPORT_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        return logger
    }

    override func setUp() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    }

    override func tearDown() async throws {
        for transport in made.withLock({ $0 }) { await transport.shutdown() }
        made.withLock { $0 = [] }
        try await group.shutdownGracefully()
        group = nil
    }

    func options(_ change: (inout TCPTransport.Options) -> Void = { _ in }) -> TCPTransport.Options {
        var options = TCPTransport.Options()
        options.eventLoopGroup = group
        options.reconnectBackoffMin = .milliseconds(10)
        options.reconnectBackoffMax = .milliseconds(200)
        change(&options)
        return options
    }

    func makeTransport(_ id: NodeID, cluster: String = "test", port: Int = 0, peers: [NodeID: PeerAddress] = [:],
                       options: TCPTransport.Options? = nil) -> TCPTransport {
        let transport = TCPTransport(nodeID: id, clusterID: cluster, listen: PeerAddress(host: "127.0.0.1", port: port),
                                     peers: peers, options: options ?? self.options(), logger: logger)
        made.withLock { $0.append(transport) }
        return transport
    }

    /// `count` started transports on free ports that know each other.
    func makeCluster(_ count: Int, options: TCPTransport.Options? = nil) async throws -> [TCPTransport] {
        let transports = (1...count).map { makeTransport(NodeID($0), options: options) }
        for transport in transports { try await transport.start() }
        var peers: [NodeID: PeerAddress] = [:]
        for transport in transports { peers[transport.nodeID] = transport.listenAddress! }
        for transport in transports { transport.updatePeers(peers) }
        return transports
    }

    /// A raw client connection to `address` that only records whether the server closed it.
    func rawConnection(to address: PeerAddress) async throws -> any Channel {
        try await ClientBootstrap(group: group).connect(host: address.host, port: address.port).get()
    }

    /// A raw client connection whose received bytes are decoded into frames.
    func rawConnectionCollectingFrames(to address: PeerAddress) async throws -> (any Channel, FrameCollector) {
        let collector = FrameCollector()
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(FrameCollectingHandler(collector)) }
            }
            .connect(host: address.host, port: address.port).get()
        return (channel, collector)
    }

    /// Whether the server closed `channel` within `timeout`.
    func isClosedByPeer(_ channel: any Channel, within timeout: Duration = .seconds(5)) async -> Bool {
        await eventually(timeout: timeout) { !channel.isActive }
    }
}

extension Array where Element == UInt8 {
    var buffer: ByteBuffer { ByteBuffer(bytes: self) }
}

final class FrameCollector: Sendable {
    let frames = Mutex<[WireFrame]>([])
}

final class FrameCollectingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let collector: FrameCollector
    private var decoder = FrameDecoder()

    init(_ collector: FrameCollector) { self.collector = collector }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        decoder.append(unwrapInboundIn(data))
        while let frame = try? decoder.next() { collector.frames.withLock { $0.append(frame) } }
    }
}
