import Foundation
import XCTest

/// The attack of issue 13 against a real `orchestrator serve`: thousands of loopback
/// connections that each send half a request head and wait. The server must cut them off at
/// its head timeout and keep answering a normal client meanwhile.
final class HTTPFloodProcessTests: XCTestCase {
    static let floodConnections = 3_000

    func testASlowHeaderFloodIsCutOffByTheHeadTimeoutWhileHealthStillAnswers() async throws {
        // The server inherits this process's open-file limit: make room for the flood on both ends.
        let files = raiseOpenFileLimit()
        let count = min(Self.floodConnections, files / 2 - 200)
        XCTAssertGreaterThan(count, 500, "open-file limit \(files) leaves no room for a flood")
        let cluster = try ProcessCluster(count: 1, extraArguments: ["--http-header-timeout", "2s"])
        defer { cluster.stop() }
        try cluster.startAll()
        _ = try await cluster.waitForLeader()
        let port = cluster.nodes[1]!.api

        var flood: [Int32] = []
        defer { for fd in flood where fd >= 0 { close(fd) } }
        var answers: [String] = []
        for i in 0..<count {
            let fd = try loopbackConnection(port)
            let half = "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Flood: \(i)"
            _ = half.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            flood.append(fd)
            if i % 500 == 499 { answers.append(healthStatusLine(port)) }
        }
        // With every flood connection open (the first of them near the 2 s deadline), a
        // normal client is served, again and again.
        for _ in 0..<5 { answers.append(healthStatusLine(port)) }
        XCTAssertTrue(answers.allSatisfy { $0.hasPrefix("HTTP/1.1 200") },
                      "health during the flood: \(answers)\n\(cluster.logTails(lines: 20))")

        let closed = closedByPeer(flood, within: 12)
        XCTAssertEqual(closed, count, "flood connections the server closed within 12 s of a 2 s head timeout")
        for fd in flood { close(fd) }
        flood = []

        let (status, metrics) = try await cluster.text(1, "/metrics")
        XCTAssertEqual(status, 200)
        let timedOut = metrics.split(separator: "\n")
            .first { $0.hasPrefix("orchestrator_http_connections_timed_out_total{") && $0.contains(#"timeout="head""#) }
            .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
        XCTAssertGreaterThanOrEqual(Int(timedOut), count, "head timeouts counted in /metrics")
    }

    func testAFullListenerEvictsHalfOpenConnectionsAndSaysSoOnce() async throws {
        let cluster = try ProcessCluster(count: 1, extraArguments: ["--http-max-connections", "200", "--http-header-timeout", "60s"])
        defer { cluster.stop() }
        try cluster.startAll()
        _ = try await cluster.waitForLeader()
        let port = cluster.nodes[1]!.api
        var flood: [Int32] = []
        defer { for fd in flood { close(fd) } }
        for _ in 0..<400 {
            let fd = try loopbackConnection(port)
            _ = "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n".withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            flood.append(fd)
        }
        var answers: [String] = []
        for _ in 0..<5 { answers.append(healthStatusLine(port)) }
        XCTAssertTrue(answers.allSatisfy { $0.hasPrefix("HTTP/1.1 200") }, "health with the listener full: \(answers)")
        // At least the 200 beyond the limit pushed as many out; the head timeout (60 s) closed none.
        XCTAssertGreaterThanOrEqual(closedByPeer(flood, within: 2), 200)

        let (status, metrics) = try await cluster.text(1, "/metrics")
        XCTAssertEqual(status, 200)
        let evicted = metrics.split(separator: "\n").first { $0.hasPrefix("orchestrator_http_connections_evicted_total{") }
            .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
        XCTAssertGreaterThanOrEqual(Int(evicted), 200, "evictions counted in /metrics")
        let notices = cluster.log(1).split(separator: "\n").filter { $0.contains("HTTP connection limit reached") }
        XCTAssertEqual(notices.count, 1, "one rate-limited notice for the whole burst:\n\(notices.joined(separator: "\n"))")
    }

    func testABadHTTPLimitIsOneLineAndExitTwo() throws {
        let cluster = try ProcessCluster(count: 1)
        defer { cluster.stop() }
        let run = try cluster.cli(["serve", "--in-memory", "--http-header-timeout", "5ms"])
        XCTAssertEqual(run.status, 2)
        XCTAssertEqual(run.stderr, "error: --http-header-timeout: '5ms' is not a duration between 100ms and 24h, such as 10s, 500ms or 1m\n")
        let connections = try cluster.cli(["serve", "--in-memory", "--http-max-connections", "0"])
        XCTAssertEqual(connections.status, 2)
        XCTAssertEqual(connections.stderr, "error: --http-max-connections: 0 connections is out of range: use 1 to 1000000\n")
    }

    // MARK: Plain sockets (3,000 of them: no URLSession, no select)

    /// Raises the soft open-file limit to the hard one; returns the soft limit in force.
    private func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1_024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = min(limit.rlim_max, 1 << 20)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(min(limit.rlim_cur, 1 << 20))
    }

    private func loopbackConnection(_ port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NSError(domain: "flood", code: Int(errno)) }
        var address = TCPProxy.loopback(port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let error = errno
            close(fd)
            throw NSError(domain: "flood: connect", code: Int(error))
        }
        return fd
    }

    /// A normal client: `GET /v1/health` on a new connection; the status line, or what went wrong.
    private func healthStatusLine(_ port: Int) -> String {
        guard let fd = try? loopbackConnection(port) else { return "cannot connect" }
        defer { close(fd) }
        let request = "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[..<n]
        }
        let text = String(decoding: received, as: UTF8.self)
        return text.isEmpty ? "no answer within 5 s" : String(text.prefix { $0 != "\r" })
    }

    /// How many of `fds` the server closes (end of stream or reset) within `seconds`.
    private func closedByPeer(_ fds: [Int32], within seconds: Double) -> Int {
        var pollers = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var closed = 0
        var buffer = [UInt8](repeating: 0, count: 512)
        let deadline = Date().addingTimeInterval(seconds)
        while closed < fds.count, Date() < deadline {
            guard poll(&pollers, nfds_t(pollers.count), 100) > 0 else { continue }
            for i in pollers.indices where pollers[i].fd >= 0 && pollers[i].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { recv(pollers[i].fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                    closed += 1
                    pollers[i].fd = -1  // poll skips negative descriptors
                }
                pollers[i].revents = 0
            }
        }
        return closed
    }
}
