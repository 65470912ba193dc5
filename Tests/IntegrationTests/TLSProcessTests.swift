import Client
import ClusterTLS
import Foundation
import XCTest

/// Real `orchestrator serve` processes with HTTPS for the API and mutual TLS between nodes,
/// certificates from `orchestrator certs init`, and the CLI with `--cacert`.
final class TLSProcessTests: XCTestCase {
    /// `certs init` into the cluster's directory; returns it.
    private func makeCertificates(_ cluster: ProcessCluster, nodes: Int) throws -> String {
        let directory = cluster.root.appendingPathComponent("certs").path
        let made = try cluster.cli(["certs", "init", "--dir", directory, "--nodes", "\(nodes)"])
        XCTAssertEqual(made.status, 0, made.stderr)
        return directory
    }

    private func tlsArguments(_ certificates: String, node id: Int) -> [String] {
        let certificate = "\(certificates)/node-\(id).pem", key = "\(certificates)/node-\(id)-key.pem"
        return ["--tls-cert", certificate, "--tls-key", key, "--peer-cert", certificate, "--peer-key", key, "--peer-ca", "\(certificates)/ca.pem"]
    }

    /// Polls every node's health over HTTPS until all agree on a leader.
    private func waitForLeader(_ cluster: ProcessCluster, ca: String, timeout: Double = 20) async throws -> Int {
        var configuration = OrchestratorClient.Configuration(requestTimeoutSeconds: 2, retry: .none)
        // A client certificate too, for nodes that require one (any node's does: same CA).
        let directory = URL(fileURLWithPath: ca).deletingLastPathComponent().path
        let identity = try TLSIdentity.load(certificate: TLSFile("\(directory)/node-1.pem", setting: "cert"),
                                            key: TLSFile("\(directory)/node-1-key.pem", setting: "key"))
        configuration.tls = TLSConfigurations.client(trustRoots: try PEMFiles.trustRoots(TLSFile(ca, setting: "ca")), identity: identity)
        let clients = cluster.nodes.values.map { OrchestratorClient(baseURL: "https://127.0.0.1:\($0.api)", configuration: configuration) }
        defer { Task { for client in clients { try? await client.shutdown() } } }
        let deadline = Date().addingTimeInterval(timeout)
        var last: [String] = []
        while Date() < deadline {
            var leaders: Set<UInt64> = []
            last = []
            for client in clients {
                do {
                    let health = try await client.health()
                    leaders.insert(health.leader ?? 0)
                    last.append("\(client.baseURL): leader \(health.leader.map(String.init) ?? "none")")
                } catch {
                    leaders.insert(0)
                    last.append("\(client.baseURL): \(error)")
                }
            }
            if leaders.count == 1, let leader = leaders.first, leader != 0 { return Int(leader) }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTFail("no agreed leader over HTTPS within \(timeout) s:\n\(last.joined(separator: "\n"))\n\(cluster.logTails(lines: 20))")
        throw CancellationError()
    }

    func testTLSClusterElectsALeaderAndTheCLISubmitsThroughAFollowerOverHTTPS() async throws {
        let cluster = try ProcessCluster(count: 3)
        defer { cluster.stop() }
        let certificates = try makeCertificates(cluster, nodes: 3)
        let ca = "\(certificates)/ca.pem"
        // API clients must present a certificate from the cluster CA; a follower forwarding a
        // write presents its node certificate.
        for id in 1...3 { cluster.nodeArguments[id] = tlsArguments(certificates, node: id) + ["--tls-client-ca", ca] }
        let clientCertificate = ["--cert", "\(certificates)/node-2.pem", "--key", "\(certificates)/node-2-key.pem"]
        try cluster.startAll()
        let leader = try await waitForLeader(cluster, ca: ca)
        let follower = cluster.nodes.keys.sorted().first { $0 != leader }!
        let followerURL = "https://127.0.0.1:\(cluster.nodes[follower]!.api)"
        for id in 1...3 {
            XCTAssertTrue(cluster.log(id).contains("raft_tls=mutual"), "node \(id) runs Raft over mutual TLS:\n\(cluster.log(id))")
        }

        // Writes sent to a follower are forwarded to the leader over HTTPS (trusting --peer-ca).
        var started: (status: Int32, stdout: String, stderr: String) = (0, "", "")
        let deadline = Date().addingTimeInterval(20)
        repeat {  // until the leader has registered the cookbook
            started = try cluster.cli(["start", "cookbook", "--id", "tls-1", "--server", followerURL, "--cacert", ca] + clientCertificate)
            if started.status == 0 { break }
            try await Task.sleep(for: .milliseconds(200))
        } while Date() < deadline
        XCTAssertEqual(started.status, 0, "\(started.stderr)\n\(cluster.logTails())")
        let submitted = try cluster.cli(["submit", "tls-1", "second", "--server", followerURL],
                                        environment: ["ORCHESTRATOR_CACERT": ca, "ORCHESTRATOR_CERT": "\(certificates)/node-2.pem",
                                                      "ORCHESTRATOR_KEY": "\(certificates)/node-2-key.pem"])
        XCTAssertEqual(submitted.status, 0, "\(submitted.stderr)\n\(cluster.logTails())")
        XCTAssertTrue(submitted.stdout.contains("first → second"), submitted.stdout)
        let leaderURL = "https://127.0.0.1:\(cluster.nodes[leader]!.api)"
        let status = try cluster.cli(["status", "tls-1", "--server", leaderURL, "--cacert", ca] + clientCertificate)
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("second"), status.stdout)

        // The load generator speaks TLS too (one handshake per client, then keep-alive).
        let bench = try cluster.cli(["bench", "--server", leaderURL, "--clients", "2", "--duration", "1", "--cacert", ca, "--json"]
                                    + clientCertificate)
        XCTAssertEqual(bench.status, 0, bench.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as? [String: Any]
        XCTAssertGreaterThan(report?["transitions"] as? Int ?? 0, 0, bench.stdout)
        XCTAssertEqual((report?["errors"] as? [String: Any])?.count ?? -1, 0, bench.stdout)

        // Plain HTTP to the TLS port: one line that says what to do, exit 3, no retries for 15 s.
        let plainURL = "http://127.0.0.1:\(cluster.nodes[follower]!.api)"
        let began = Date()
        let plain = try cluster.cli(["submit", "tls-1", "third", "--server", plainURL])
        XCTAssertEqual(plain.status, 3, plain.stderr)
        XCTAssertEqual(plain.stderr, "error: the server at \(plainURL) speaks TLS: use \(followerURL) and --cacert FILE (or ORCHESTRATOR_CACERT) with the cluster CA\n")
        XCTAssertLessThan(Date().timeIntervalSince(began), 5, "a TLS mismatch is not retried")

        // Without a client certificate: refused, and the error says which flags to give.
        let anonymous = try cluster.cli(["status", "--server", followerURL, "--cacert", ca])
        XCTAssertEqual(anonymous.status, 3, anonymous.stderr)
        XCTAssertTrue(anonymous.stderr.hasPrefix("error: the server at \(followerURL) requires a client certificate")
                        && anonymous.stderr.contains("--cert FILE and --key FILE"), anonymous.stderr)

        // HTTPS without the cluster CA: the certificate is not trusted.
        let untrusted = try cluster.cli(["status", "--server", followerURL])
        XCTAssertEqual(untrusted.status, 3, untrusted.stderr)
        XCTAssertTrue(untrusted.stderr.hasPrefix("error: the certificate of the server at \(followerURL) is not trusted")
                        && untrusted.stderr.contains("--cacert"), untrusted.stderr)
        XCTAssertEqual(untrusted.stderr.split(separator: "\n").count, 1, untrusted.stderr)
    }

    func testTLSToAPlainPortSaysTheServerDoesNotSpeakTLS() async throws {
        let cluster = try ProcessCluster(count: 1)
        defer { cluster.stop() }
        let certificates = try makeCertificates(cluster, nodes: 1)
        try cluster.startAll()
        _ = try await cluster.waitForLeader()
        let port = cluster.nodes[1]!.api
        let answer = try cluster.cli(["status", "--server", "https://127.0.0.1:\(port)", "--cacert", "\(certificates)/ca.pem"])
        XCTAssertEqual(answer.status, 3, answer.stderr)
        XCTAssertEqual(answer.stderr, "error: the server at https://127.0.0.1:\(port) does not speak TLS: use http://127.0.0.1:\(port)\n")
    }

    func testSIGHUPReloadsTheAPICertificateAndKeepsTheOldOneWhenTheNewIsBad() async throws {
        let cluster = try ProcessCluster(count: 1)
        defer { cluster.stop() }
        // The first certificate names only `localhost`: https://127.0.0.1 does not match it.
        let certificates = cluster.root.appendingPathComponent("certs").path
        let made = try cluster.cli(["certs", "init", "--dir", certificates, "--nodes", "1", "--host", "localhost"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let ca = "\(certificates)/ca.pem"
        cluster.nodeArguments[1] = tlsArguments(certificates, node: 1)
        try cluster.startAll()
        try await waitForLog(cluster, "serving")
        let url = "https://127.0.0.1:\(cluster.nodes[1]!.api)"
        let pid = cluster.nodes[1]!.process!.processIdentifier
        let before = try cluster.cli(["status", "--server", url, "--cacert", ca])
        XCTAssertEqual(before.status, 3)
        XCTAssertTrue(before.stderr.contains("is not trusted"), before.stderr)

        // A broken certificate file: the reload fails, says so, and the old certificate stays.
        let certificate = "\(certificates)/node-1.pem"
        let good = try String(contentsOfFile: certificate, encoding: .utf8)
        try "not a certificate\n".write(toFile: certificate, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        try await waitForLog(cluster, "could not reload the API certificate")
        XCTAssertTrue(cluster.log(1).contains("the previous certificate stays in use"), cluster.log(1))
        let during = try cluster.cli(["status", "--server", url, "--cacert", ca])
        XCTAssertTrue(during.stderr.contains("is not trusted"), "still the old certificate: \(during.stderr)")

        // A renewed certificate that names 127.0.0.1: after SIGHUP new connections get it.
        try good.write(toFile: certificate, atomically: true, encoding: .utf8)
        let renewed = try cluster.cli(["certs", "node", "--ca-dir", certificates, "--node-id", "1", "--host", "127.0.0.1", "--force"])
        XCTAssertEqual(renewed.status, 0, renewed.stderr)
        kill(pid, SIGHUP)
        try await waitForLog(cluster, "reloaded the API certificate")
        let after = try cluster.cli(["status", "--server", url, "--cacert", ca])
        XCTAssertEqual(after.status, 0, after.stderr)
    }

    private func waitForLog(_ cluster: ProcessCluster, _ text: String) async throws {
        let deadline = Date().addingTimeInterval(10)
        while !cluster.log(1).contains(text) {
            guard Date() < deadline else { return XCTFail("no '\(text)' in the log:\n\(cluster.log(1))") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
