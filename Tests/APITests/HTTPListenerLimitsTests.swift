@testable import API
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import XCTest

/// The API listener's limits against a real server on 127.0.0.1 with short settings, and
/// misbehaving clients on plain sockets (`RawConnection`).
final class HTTPListenerLimitsTests: XCTestCase {
    static let halfHead = "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow"
    static let health = "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    func testHalfAHeadIsClosedAtTheHeadTimeout() async throws {
        try await withServer(HTTPListenerLimits(requestHeadTimeoutMillis: 500)) { port, limiter, _ in
            let slow = try RawConnection(port: port)
            XCTAssertTrue(slow.write(Self.halfHead))
            XCTAssertTrue(slow.closes(within: 5), "half a head was still open 5 s after a 0.5 s head timeout")
            XCTAssertEqual(limiter.statistics.timedOut, [.head: 1])
            // (The client can see the close before the server's side of it has run.)
            try await waitUntil("the closed connection gives its place back") { limiter.statistics.open == 0 }
        }
    }

    func testATricklingHeadIsCutOffAtItsDeadline() async throws {
        try await withServer(HTTPListenerLimits(requestHeadTimeoutMillis: 1_000)) { port, limiter, _ in
            let trickler = try RawConnection(port: port)
            let head = Array(Self.health.utf8)
            let start = Date()
            var sent = 0
            // One byte every 200 ms: the whole head (~45 bytes) would take 9 s. Each byte is
            // progress, so only a deadline (not an idle timer) cuts it off.
            while sent < head.count, trickler.write(String(decoding: head[sent...sent], as: UTF8.self)) {
                sent += 1
                if trickler.closes(within: 0.2) { break }
            }
            let elapsed = Date().timeIntervalSince(start)
            XCTAssertLessThan(sent, head.count, "the whole head got through")
            XCTAssertLessThan(elapsed, 5, "a trickled head was cut off only after \(elapsed) s (deadline 1 s)")
            XCTAssertEqual(limiter.statistics.timedOut, [.head: 1])
        }
    }

    func testAnIdleKeptAliveConnectionIsClosedByTheIdleTimeoutNotTheHeadTimeout() async throws {
        let limits = HTTPListenerLimits(requestHeadTimeoutMillis: 300, idleTimeoutMillis: 2_500)
        try await withServer(limits) { port, limiter, _ in
            let client = try RawConnection(port: port)
            XCTAssertTrue(client.write(Self.health))
            let answer = client.response(within: 5)
            XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200"), answer)
            // Past the head timeout, idle between requests: still open (the head deadline runs
            // from the next request's first byte).
            XCTAssertFalse(client.closes(within: 0.8), "closed by the head timeout while idle")
            XCTAssertTrue(client.write(Self.health))
            XCTAssertTrue(client.response(within: 5).hasPrefix("HTTP/1.1 200"), "a second request on the kept-alive connection")
            XCTAssertTrue(client.closes(within: 6), "an idle connection was still open 6 s after a 2.5 s idle timeout")
            XCTAssertEqual(limiter.statistics.timedOut, [.idle: 1])
        }
    }

    func testAStalledBodyIsClosedByTheBodyTimeout() async throws {
        try await withServer(HTTPListenerLimits(bodyReadTimeoutMillis: 500)) { port, limiter, logs in
            let client = try RawConnection(port: port)
            XCTAssertTrue(client.write("""
                POST /v1/instances HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"workfl
                """))
            XCTAssertTrue(client.closes(within: 5), "a stalled body was still open 5 s after a 0.5 s body timeout")
            XCTAssertEqual(limiter.statistics.timedOut, [.body: 1])
            // The handler that was reading the body ends with the connection, quietly.
            try await Task.sleep(for: .milliseconds(300))
            XCTAssertFalse(logs.lines.contains { $0.hasPrefix("error") }, "\(logs.lines)")
        }
    }

    func testAClientThatDoesNotReadItsAnswerIsClosedByTheWriteTimeout() async throws {
        // An answer far larger than the loopback socket buffers, to a client that reads none of it.
        let big = String(repeating: "# padding padding padding padding padding padding padding\n", count: 600_000)
        try await withServer(HTTPListenerLimits(responseWriteTimeoutMillis: 500), metricsText: big) { port, limiter, _ in
            let reader = try RawConnection(port: port)
            XCTAssertTrue(reader.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
            // Not reading (that would drain the server's buffers): the server's own account says when it closed.
            try await waitUntil("the stuck answer's connection closed", within: 10) { limiter.statistics.timedOut[.write] == 1 }
            try await waitUntil("its place given back") { limiter.statistics.open == 0 }
        }
    }

    func testAFullListenerEvictsTheLongestWaiterAndStillAnswersHealth() async throws {
        let limits = HTTPListenerLimits(requestHeadTimeoutMillis: 60_000, connectionsMax: 20)
        try await withServer(limits) { port, limiter, logs in
            var flood: [RawConnection] = []
            for index in 0..<20 {
                let connection = try RawConnection(port: port)
                XCTAssertTrue(connection.write(Self.halfHead))
                flood.append(connection)
                // One at a time, so the order they wait in is the order they were opened.
                try await waitUntil("\(index + 1) connections open") { limiter.statistics.open == index + 1 }
            }
            // Normal clients, kept open afterwards (idle), so each new one needs a place.
            var clients: [RawConnection] = []
            for attempt in 1...5 {
                let client = try RawConnection(port: port)
                XCTAssertTrue(client.write(Self.health))
                let answer = client.response(within: 5)
                XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200"), "health attempt \(attempt) with the listener full: \(answer)")
                clients.append(client)
            }
            // The five longest waiters made room, oldest first; the others are still open.
            for index in 0..<5 {
                XCTAssertTrue(flood[index].closes(within: 5), "flood connection \(index) was not evicted")
            }
            XCTAssertFalse(flood[5].closes(within: 0.1), "a younger waiter was evicted")
            XCTAssertEqual(limiter.statistics.evicted, 5)
            XCTAssertEqual(limiter.statistics.refused, 0)
            XCTAssertEqual(limiter.statistics.open, 20)
            let notices = logs.lines.filter { $0.contains("HTTP connection limit reached") }
            XCTAssertEqual(notices.count, 1, "one notice for a burst, not one per connection: \(logs.lines)")
            XCTAssertTrue(notices.first?.contains("20 connections open") ?? false, notices.first ?? "")
        }
    }

    func testWithNoHeadWaitingTheLongestBodySenderMakesRoom() async throws {
        let limits = HTTPListenerLimits(bodyReadTimeoutMillis: 60_000, connectionsMax: 3)
        try await withServer(limits) { port, limiter, logs in
            // A slow-body attack: heads sent, bodies trickling (here: stalled well inside the body timeout).
            var senders: [RawConnection] = []
            for index in 0..<3 {
                let connection = try RawConnection(port: port)
                XCTAssertTrue(connection.write("POST /v1/instances HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50\r\n\r\n{"))
                senders.append(connection)
                // Its head read, its turn is the body now.
                try await waitUntil("\(index + 1) bodies being read") { limiter.statistics.readingBody == index + 1 }
            }
            let client = try RawConnection(port: port)
            XCTAssertTrue(client.write(Self.health))
            XCTAssertTrue(client.response(within: 5).hasPrefix("HTTP/1.1 200"), "health with the listener full of slow bodies")
            XCTAssertTrue(senders[0].closes(within: 5), "the longest body sender was not evicted")
            XCTAssertFalse(senders[2].closes(within: 0.1), "a younger body sender was evicted")
            XCTAssertEqual(limiter.statistics.evicted, 1)
            XCTAssertEqual(limiter.statistics.refused, 0)
            XCTAssertTrue(logs.lines.contains { $0.contains("HTTP connection limit reached") && $0.contains("1 evicted") }, "\(logs.lines)")
        }
    }

    func testANewConnectionIsRefusedOnlyWhenTheServerOwesEveryOpenOneAnAnswer() throws {
        let logs = LogLines()
        let limiter = HTTPConnectionLimiter(limits: HTTPListenerLimits(connectionsMax: 2), node: 1, listener: "test",
                                            fileLimit: 20_000, logger: logs.logger)
        let (first, second, third) = (EmbeddedChannel(), EmbeddedChannel(), EmbeddedChannel())
        for channel in [first, second, third] { try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait() }
        let one = try XCTUnwrap(limiter.admit(first, atNanos: 1))
        let two = try XCTUnwrap(limiter.admit(second, atNanos: 2))
        limiter.update(one, turn: .answering)
        limiter.update(two, turn: .answering)
        XCTAssertNil(limiter.admit(third, atNanos: 3), "admitted past the limit with nothing to evict")
        XCTAssertEqual(limiter.statistics.refused, 1)
        XCTAssertEqual(limiter.statistics.open, 2)
        XCTAssertTrue(first.isActive && second.isActive, "a connection owed an answer was closed")
        XCTAssertTrue(logs.lines.contains { $0.contains("0 evicted, 1 refused") }, "\(logs.lines)")
        // Once one waits for its next head again, it is the one to go.
        limiter.update(two, turn: .waitingForHead(sinceNanos: 4))
        XCTAssertNotNil(limiter.admit(third, atNanos: 5))
        XCTAssertEqual(limiter.statistics.evicted, 1)
        XCTAssertFalse(second.isActive, "the connection waiting for a head was not evicted")
        XCTAssertTrue(first.isActive)
        limiter.closed(two)  // its close arriving after the eviction changes nothing
        XCTAssertEqual(limiter.statistics.open, 2)
    }

    func testTheLimitIsLoweredToWhatTheOpenFileLimitAllows() {
        let logs = LogLines()
        let limiter = HTTPConnectionLimiter(limits: HTTPListenerLimits(connectionsMax: 4_096), node: 1, listener: "test",
                                            fileLimit: 1_024, logger: logs.logger)
        XCTAssertEqual(limiter.connectionsMax, 512)
        XCTAssertTrue(logs.lines.contains { $0.contains("lowered from 4096 to 512") && $0.contains("ulimit -n") }, "\(logs.lines)")
        let roomy = HTTPConnectionLimiter(limits: HTTPListenerLimits(connectionsMax: 4_096), node: 1, listener: "test", fileLimit: 20_000)
        XCTAssertEqual(roomy.connectionsMax, 4_096)
    }

    func testLimitsOutOfRangeAreNamedByTheirFlag() {
        XCTAssertNil(HTTPListenerLimits().problem)
        XCTAssertEqual(HTTPListenerLimits(requestHeadTimeoutMillis: 50).problem,
                       "--http-header-timeout must be between 100ms and 24h, not 50 ms")
        XCTAssertEqual(HTTPListenerLimits(connectionsMax: 0).problem, "--http-max-connections must be between 1 and 1000000, not 0")
    }

    // MARK: Support

    /// Runs `body` against the API on a free loopback port behind `limits`.
    private func withServer(_ limits: HTTPListenerLimits, metricsText: String = "",
                            _ body: @escaping @Sendable (Int, HTTPConnectionLimiter, LogLines) async throws -> Void) async throws {
        let fixture = Fixture()
        let logs = LogLines()
        // The API's own log goes to `logs` too: what the limits cause must not log errors.
        let api = APIServer(engine: fixture.engine, consensus: fixture.consensus, metricsText: { metricsText },
                            clock: fixture.consensus.clock, logger: logs.logger)
        await fixture.api.shutdown()
        let limiter = HTTPConnectionLimiter(limits: limits, node: 1, listener: "127.0.0.1:test", fileLimit: 20_000, logger: logs.logger)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(router: api.buildRouter(), server: .limitedHTTP1(limiter),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
                              logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            server.cancel()
            XCTFail("the server did not start")
            return
        }
        do {
            try await body(port, limiter, logs)
        } catch {
            server.cancel()
            _ = await server.result
            await api.shutdown()
            throw error
        }
        server.cancel()
        _ = await server.result
        await api.shutdown()
    }
}

/// Polls `condition` until it holds; fails the test after `seconds`.
private func waitUntil(_ what: String, within seconds: Double = 5, _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        guard Date() < deadline else {
            XCTFail("not within \(seconds) s: \(what)")
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// The lines a logger wrote, for tests that check what an operator would see.
final class LogLines: Sendable {
    private let storage = Mutex<[String]>([])

    var lines: [String] { storage.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(sink: self) }
    }

    struct Handler: LogHandler {
        let sink: LogLines
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            sink.storage.withLock { $0.append("\(event.level) \(event.message)") }
        }
    }
}
