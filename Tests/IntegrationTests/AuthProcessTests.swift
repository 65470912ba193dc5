import Foundation
import XCTest

/// Tokens on real `orchestrator serve` processes: a bootstrap file shared by three nodes turns
/// authentication on; the CLI creates, uses and revokes tokens; a revoked token is refused by
/// every node; roles reach the exit codes; a node refuses to listen beyond loopback without
/// tokens unless told `--insecure`.
final class AuthProcessTests: XCTestCase {
    func testTokensFromBootstrapToRevocationOnThreeNodes() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("orch-auth-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let adminFile = scratch.appendingPathComponent("admin.token").path
        let cluster = try ProcessCluster(count: 3, extraArguments: ["--bootstrap-token-file", adminFile])
        defer { cluster.stop() }
        try cluster.startAll()

        // Every node waits for a token from the start; the file was made once, mode 0600.
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: adminFile), Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let admin = try String(contentsOfFile: adminFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(admin.hasPrefix("orch_"), admin)
        let mode = try FileManager.default.attributesOfItem(atPath: adminFile)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        let (anonymous, _) = try await cluster.requestUntilAvailable("GET", 2, "/v1/health")
        XCTAssertEqual(anonymous, 401)
        cluster.token = admin
        let leader = try await cluster.waitForLeader()
        try await cluster.waitForWorkflow(on: 1)
        for id in 1...3 { XCTAssertFalse(cluster.log(id).contains(String(admin.suffix(64))), "node \(id) logged the secret") }

        // Tokens are made and used through the CLI, through any node.
        let servers = [1, 2, 3].map { cluster.nodes[$0]!.url }.joined(separator: ",")
        func cli(_ arguments: [String], token file: String?, node: Int? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
            let server = node.map { cluster.nodes[$0]!.url } ?? servers
            return try cluster.cli(arguments + ["--server", server] + (file.map { ["--token-file", $0] } ?? []))
        }
        func makeToken(_ role: String, _ name: String) throws -> String {
            let made = try cli(["token", "create", "--role", role, "--name", name], token: adminFile, node: leader == 1 ? 2 : 1)
            XCTAssertEqual(made.status, 0, made.stderr)
            let path = scratch.appendingPathComponent("\(name).token").path
            try made.stdout.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let submitFile = try makeToken("submit", "ci-deployer")
        let readFile = try makeToken("read", "grafana")

        let started = try cli(["start", "cookbook", "--id", "demo"], token: submitFile, node: 3)
        XCTAssertEqual(started.status, 0, started.stderr)
        let moved = try cli(["submit", "demo", "second"], token: submitFile, node: leader)
        XCTAssertEqual(moved.status, 0, moved.stderr)
        let history = try cli(["history", "demo"], token: readFile)
        XCTAssertEqual(history.status, 0, history.stderr)
        XCTAssertTrue(history.stdout.contains("by ci-deployer"), history.stdout)

        let denied = try cli(["submit", "demo", "third"], token: readFile)
        XCTAssertEqual(denied.status, 5, denied.stderr)
        XCTAssertTrue(denied.stderr.contains("needs submit"), denied.stderr)
        let missing = try cli(["status", "demo"], token: nil)
        XCTAssertEqual(missing.status, 5, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("ORCHESTRATOR_TOKEN"), missing.stderr)

        let list = try cli(["token", "list"], token: adminFile)
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("ci-deployer") && list.stdout.contains("grafana") && list.stdout.contains("bootstrap"), list.stdout)
        let submitToken = try String(contentsOfFile: submitFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertFalse(list.stdout.contains(String(submitToken.suffix(64))), "token list shows no secret")

        // Revoked through one node, refused by all three once applied.
        let submitID = String(submitToken.split(separator: "_")[1])
        let revoked = try cli(["token", "revoke", submitID], token: adminFile, node: 3)
        XCTAssertEqual(revoked.status, 0, revoked.stderr)
        for id in 1...3 {
            var status = 0
            let until = Date().addingTimeInterval(5)
            repeat {
                (status, _) = try await ProcessCluster.request("GET", url: cluster.nodes[id]!.url + "/v1/workflows", token: submitToken)
                if status == 401 { break }
                try await Task.sleep(for: .milliseconds(50))
            } while Date() < until
            XCTAssertEqual(status, 401, "node \(id) still accepts the revoked token")
        }
        let afterRevoke = try cli(["submit", "demo", "third"], token: submitFile)
        XCTAssertEqual(afterRevoke.status, 5, afterRevoke.stderr)
        XCTAssertTrue(afterRevoke.stderr.contains("revoked"), afterRevoke.stderr)
    }

    func testANodeRefusesToListenBeyondLoopbackWithoutTokensUnlessInsecure() async throws {
        let ports = try freePorts(2)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("orch-expose-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let base = ["serve", "--api", "0.0.0.0:\(ports[0])", "--raft", "127.0.0.1:\(ports[1])", "--in-memory",
                    "--workflows", ProcessCluster.repository.appendingPathComponent("workflows").path]
        let cluster = try ProcessCluster(count: 1)
        defer { cluster.stop() }
        let refused = try cluster.cli(base)
        XCTAssertEqual(refused.status, 2)
        let lines = refused.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--api 0.0.0.0:\(ports[0]) listens beyond loopback"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--bootstrap-token-file") && refused.stderr.contains("--insecure"), refused.stderr)

        // --insecure starts, and says so in the log.
        let process = Process()
        process.executableURL = ProcessCluster.binary
        process.arguments = base + ["--insecure"]
        let log = scratch.appendingPathComponent("insecure.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) }; process.waitUntilExit() }
        let until = Date().addingTimeInterval(10)
        var text = ""
        while Date() < until {
            text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if text.contains("INSECURE") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTAssertTrue(text.contains("INSECURE") && text.contains("API on 0.0.0.0:\(ports[0])"), text)
        XCTAssertTrue(process.isRunning, text)
    }
}
