import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import Plugins
import Workflow

/// The example plugins in the repository's `plugins/` directory, run as the server would run them.
final class ExamplePluginTests: PluginTestCase {
    var examples: PluginCatalog!

    override func setUpWithError() throws {
        try super.setUpWithError()
        examples = PluginCatalog.discover(in: repositoryRoot + "/plugins")
    }

    func example(_ name: String) throws -> Plugin {
        try XCTUnwrap(examples.plugin(named: name), "plugins/\(name): \(examples.problems(named: name))")
    }

    func testNotifyAppendsOneLinePerEventToTheFileItIsGiven() async throws {
        let log = root + "/notify.log"
        let runner = runner()
        for attempt in 1...2 {
            let run = await runner.run(try example("notify"), event: event(with: ["file": .string(log)], attempt: attempt))
            XCTAssertEqual(run.outcome, .succeeded, run.stderr)
        }
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].hasSuffix("notify order/o-17 pay: created -> paid (dispatch 812.0, attempt 1)"), String(lines[0]))
        XCTAssertTrue(lines[1].hasSuffix("(dispatch 812.0, attempt 2)"))
    }

    func testNotifyWithoutAFilePrintsToStderrAndRefusesRelativePaths() async throws {
        let runner = runner()
        let plain = await runner.run(try example("notify"), event: event())
        XCTAssertEqual(plain.outcome, .succeeded, plain.stderr)
        XCTAssertTrue(plain.stderr.contains("notify order/o-17 pay: created -> paid"), plain.stderr)
        let relative = await runner.run(try example("notify"), event: event(with: ["file": "notify.log"]))
        XCTAssertEqual(relative.outcome, .failed(exitCode: 2))
        XCTAssertTrue(relative.stderr.contains("must be an absolute path"))
    }

    func testFlakyFailsRetryablyForItsFirstAttemptsThenMergesData() async throws {
        let runner = runner()
        let flaky = try example("flaky")
        for attempt in 1...2 {
            let run = await runner.run(flaky, event: event(with: ["failures": 2], attempt: attempt))
            XCTAssertEqual(run.outcome, .retryableFailure, run.stderr)
            XCTAssertNil(run.dataPatch)
        }
        let third = await runner.run(flaky, event: event(with: ["failures": 2], attempt: 3))
        XCTAssertEqual(third.outcome, .succeeded, third.stderr)
        XCTAssertEqual(third.dataPatch, ["flaky_ok": true])
        XCTAssertEqual(third.stdout, "flaky: attempt 3 succeeds\n")
    }

    func testTaskStillRuns() async throws {
        let run = await runner().run(try example("task"), event: event(with: ["action": "pack"]))
        XCTAssertEqual(run.outcome, .succeeded, run.stderr)
        XCTAssertEqual(run.dataPatch, ["pack_done": true])
    }

    func testHttpPostSendsTheEventToALoopbackServer() async throws {
        let server = try LoopbackServer(directory: root)
        defer { server.stop() }
        let runner = runner()
        let post = try example("http-post")
        let event = event(with: ["url": .string("http://127.0.0.1:\(server.port)/ok")])
        let ok = await runner.run(post, event: event)
        XCTAssertEqual(ok.outcome, .succeeded, ok.stderr)
        let received = try server.received()
        XCTAssertEqual(received.count, 1)
        XCTAssertEqual(try JSONBody.parseObject(Array(received[0].utf8)), event.jsonValue.objectValue)

        let busy = await runner.run(post, event: self.event(with: ["url": .string("http://localhost:\(server.port)/busy")]))
        XCTAssertEqual(busy.outcome, .retryableFailure, busy.stderr)
        let rejected = await runner.run(post, event: self.event(with: ["url": .string("http://127.0.0.1:\(server.port)/missing")]))
        XCTAssertEqual(rejected.outcome, .failed(exitCode: 1), rejected.stderr)
    }

    func testHttpPostRetriesWhenRefusedAndRefusesOtherHosts() async throws {
        let runner = runner()
        let post = try example("http-post")
        let refused = await runner.run(post, event: event(with: ["url": .string("http://127.0.0.1:\(try closedPort())/x")]))
        XCTAssertEqual(refused.outcome, .retryableFailure, refused.stderr)
        for url in ["http://192.0.2.10/x", "http://example.com/x", "file:///etc/passwd", "http://127.0.0.1.example.com/"] {
            let run = await runner.run(post, event: event(with: ["url": .string(url)]))
            XCTAssertEqual(run.outcome, .failed(exitCode: 2), url)
            XCTAssertTrue(run.stderr.contains("only http(s) URLs on loopback"), run.stderr)
        }
        let missing = await runner.run(post, event: event())
        XCTAssertEqual(missing.outcome, .failed(exitCode: 2))
    }

    /// A loopback port nothing listens on: bound, then closed.
    func closedPort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(socket, raw, length) == 0, getsockname(socket, raw, &length) == 0 else {
                    throw XCTSkip("cannot bind a loopback socket")
                }
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A small HTTP server on 127.0.0.1 (Python's standard library), run as a child process:
/// `/ok` answers 200, `/busy` 503, anything else 404; each POST body is saved to a file.
final class LoopbackServer {
    let process = Process()
    let port: Int
    let bodies: String

    init(directory: String) throws {
        bodies = directory + "/bodies"
        try FileManager.default.createDirectory(atPath: bodies, withIntermediateDirectories: true)
        let script = directory + "/server.py"
        try """
            import http.server, os, sys
            bodies = sys.argv[1]
            class Handler(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                    status = {"/ok": 200, "/busy": 503}.get(self.path, 404)
                    if status == 200:
                        with open(os.path.join(bodies, str(len(os.listdir(bodies)))), "wb") as f:
                            f.write(body)
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                def log_message(self, *args):
                    pass
            server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """.write(toFile: script, atomically: false, encoding: .utf8)
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, bodies]
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw XCTSkip("the loopback test server did not start")
        }
        self.port = port
    }

    /// The bodies received by `/ok`, in order.
    func received() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: bodies).sorted().map {
            try String(contentsOfFile: bodies + "/" + $0, encoding: .utf8)
        }
    }

    /// SIGKILL, not `terminate()`: Foundation may start the server from a thread that blocks
    /// SIGTERM, and the child inherits that mask.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
