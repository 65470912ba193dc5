import API
import Cluster
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Raft
import RaftTransport
@testable import Server
import XCTest

/// `GET /metrics` of whole nodes (real cluster node, WAL and engine; in-process HTTP): every
/// series docs/operations.md lists appears, and moves when its event happens. The registry is
/// the process's, so each test uses node ids of its own and compares before with after.
final class MetricsEndpointTests: XCTestCase {
    private var directories: [URL] = []

    override func tearDown() {
        for directory in directories { try? FileManager.default.removeItem(at: directory) }
        directories = []
    }

    private func config(node: UInt64, peers: [UInt64] = [], inMemory: Bool) -> ServerConfig {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("orch-metrics-\(UUID().uuidString.prefix(8))")
        directories.append(root)
        var config = ServerConfig()
        config.nodeID = node
        config.clusterID = "metrics"
        config.inMemory = inMemory
        config.dataDirectory = root.appendingPathComponent("data").path
        config.workflowsDirectory = root.appendingPathComponent("workflows").path
        config.pluginsDirectory = root.appendingPathComponent("plugins").path
        config.tickMillis = 10
        config.snapshotEveryEntries = 4
        config.snapshotTrailingEntries = 2
        config.requestTimeoutMillis = 500
        config.raftAddress = PeerAddress(host: "127.0.0.1", port: 7000 + Int(node))
        for peer in peers where peer != node {
            config.peers[peer] = MemberAddress(raft: PeerAddress(host: "127.0.0.1", port: 7000 + Int(peer)), api: "http://127.0.0.1:1")
        }
        return config
    }

    private func started(_ server: OrchestratorServer) async throws -> OrchestratorServer {
        try await server.transport.start()
        server.node.start()
        return server
    }

    func testEverySeriesAppearsAndMovesWhenItsEventHappens() async throws {
        let network = InMemoryNetwork()
        let server = try await started(OrchestratorServer(config: config(node: 71, inMemory: false),
                                                          transport: network.transport(for: 71), logger: Logger(label: "test")))
        _ = try await waitUntil { server.node.status.role == .leader }
        let node = ["node": "71"]
        try await Application(router: server.api.buildRouter()).test(.router) { client in
            let before = try await scrape(client)
            XCTAssertEqual(before.value("orchestrator_has_leader", node), 1, before.text)
            XCTAssertEqual(before.value("raft_is_leader", node), 1)
            XCTAssertGreaterThanOrEqual(before.value("raft_leader_changes_seen_total", node) ?? 0, 1, "it saw itself become leader")
            XCTAssertEqual(before.value("orchestrator_build_info", ["version": BuildInfo.version]), 1)
            XCTAssertEqual(before.value("raft_proposals_pending", node), 0)
            XCTAssertNotNil(before.value("raft_proposals_failed_total", node), "the counter is there before anything failed")

            try await client.put("/v1/workflows/cookbook", Self.cookbook, .created)
            try await client.post("/v1/instances", #"{"workflow":"cookbook","id":"m-1"}"#, .created)
            try await client.post("/v1/instances/m-1/transitions", #"{"transition":"second"}"#, .ok)
            try await client.post("/v1/instances/m-1/transitions", #"{"transition":"second"}"#, .conflict)
            try await client.get("/v1/instances/m-1", .ok)
            try await client.get("/v1/no/such/route", .notFound)

            var after = try await scrape(client)
            let moved = { (name: String) in (after.value(name, node) ?? 0) - (before.value(name, node) ?? 0) }
            XCTAssertGreaterThanOrEqual(moved("raft_proposals_committed_total"), 4, "register, start, two transitions")
            XCTAssertGreaterThanOrEqual(moved("raft_proposals_applied_total"), 4)
            XCTAssertEqual(after.value("raft_proposals_pending", node), 0, "nothing waits once every answer came")
            XCTAssertGreaterThanOrEqual(moved("raft_wal_fsync_duration_seconds_count"), 4, "each entry was fsynced")
            XCTAssertGreaterThan(moved("raft_wal_fsync_duration_seconds_sum"), 0)
            XCTAssertGreaterThanOrEqual(moved("raft_persist_duration_seconds_count"), 4)

            let cookbook = ["node": "71", "workflow": "cookbook"]
            XCTAssertEqual(after.value("orchestrator_transitions_total", cookbook.merging(["result": "applied"]) { $1 }), 1, after.text)
            XCTAssertEqual(after.value("orchestrator_transitions_total", cookbook.merging(["result": "rejected"]) { $1 }), 1)
            XCTAssertEqual(after.value("orchestrator_instances", cookbook.merging(["state": "second"]) { $1 }), 1)
            XCTAssertEqual(after.value("orchestrator_instances", cookbook.merging(["state": "first"]) { $1 }), 0,
                           "an empty state of the workflow reads 0")

            let transitions = ["node": "71", "route": "/v1/instances/{id}/transitions", "method": "POST"]
            XCTAssertEqual(after.value("orchestrator_http_request_duration_seconds_count", transitions.merging(["status": "2xx"]) { $1 }), 1)
            XCTAssertEqual(after.value("orchestrator_http_request_duration_seconds_count", transitions.merging(["status": "4xx"]) { $1 }), 1)
            XCTAssertEqual(after.value("orchestrator_http_request_duration_seconds_count",
                                       ["node": "71", "route": "/v1/instances/{id}", "method": "GET", "status": "2xx"]), 1)
            XCTAssertEqual(after.value("orchestrator_http_request_duration_seconds_count",
                                       ["node": "71", "route": "unmatched", "method": "GET", "status": "4xx"]), 1)
            XCTAssertFalse(after.text.contains("m-1"), "no instance id in any label")
            XCTAssertFalse(after.text.contains("/no/such/route"), "no raw path in any label")

            // The snapshot (every 4 entries here) is written off the loop: it shows shortly.
            let deadline = Date().addingTimeInterval(10)
            while (after.value("raft_snapshot_duration_seconds_count", node) ?? 0) < 1 && Date() < deadline {
                try await Task.sleep(for: .milliseconds(20))
                after = try await scrape(client)
            }
            XCTAssertGreaterThanOrEqual(after.value("raft_snapshot_duration_seconds_count", node) ?? 0, 1, after.text)
        }
        await server.api.shutdown()
        await server.node.shutdown()
    }

    func testAPartitionedLeaderCountsPeerFailuresAndFailedProposalsAndLosesItsLeaderUntilHealed() async throws {
        let network = InMemoryNetwork()
        let ids: [UInt64] = [81, 82, 83]
        var servers: [UInt64: OrchestratorServer] = [:]
        for id in ids {
            servers[id] = try await started(OrchestratorServer(config: config(node: id, peers: ids, inMemory: true),
                                                               transport: network.transport(for: id), logger: Logger(label: "test")))
        }
        _ = try await waitUntil { servers.values.contains { $0.node.status.role == .leader } }
        let leader = try XCTUnwrap(servers.values.first { $0.node.status.role == .leader })
        let id = leader.node.id
        let node = ["node": "\(id)"]
        let peers = ids.filter { $0 != id }
        try await Application(router: leader.api.buildRouter()).test(.router) { client in
            let before = try await scrape(client)
            XCTAssertEqual(before.value("orchestrator_has_leader", node), 1)
            try await client.get("/readyz", .ok)

            network.isolate(id)
            // Appended at once, never committed: it times out (500 ms here) and counts as failed.
            let answer = try await client.call("/v1/workflows/cookbook", method: .put, body: Self.cookbook)
            XCTAssertTrue([.serviceUnavailable, .gatewayTimeout].contains(answer.status), "\(answer.status) \(answer.text)")
            _ = try await waitUntil { leader.node.status.leader == 0 }

            let cut = try await scrape(client)
            XCTAssertEqual(cut.value("orchestrator_has_leader", node), 0, cut.text)
            XCTAssertEqual(cut.value("raft_is_leader", node), 0, "check-quorum deposed it")
            XCTAssertGreaterThanOrEqual((cut.value("raft_proposals_failed_total", node) ?? 0)
                                        - (before.value("raft_proposals_failed_total", node) ?? 0), 1)
            for peer in peers {
                XCTAssertGreaterThan(cut.value("raft_peer_sent_failures_total", ["node": "\(id)", "peer": "\(peer)"]) ?? 0, 0,
                                     "messages to peer \(peer) were dropped: \(cut.text)")
            }
            let notReady = try await client.call("/readyz")
            XCTAssertEqual(notReady.status, .serviceUnavailable)
            XCTAssertTrue(notReady.text.contains("[-]leader failed"), notReady.text)
            try await client.get("/livez", .ok)

            network.healAll()
            _ = try await waitUntil { leader.node.status.leader != 0 }
            let healed = try await scrape(client)
            XCTAssertEqual(healed.value("orchestrator_has_leader", node), 1)
            XCTAssertGreaterThan(healed.value("raft_leader_changes_seen_total", node) ?? 0,
                                 cut.value("raft_leader_changes_seen_total", node) ?? 0, "it saw the leader elected meanwhile")
            try await client.get("/readyz", .ok)
        }
        for server in servers.values {
            await server.api.shutdown()
            await server.node.shutdown()
        }
    }

    static let cookbook = """
        workflow: cookbook
        initial: first
        states:
          first: {}
          second: {}
          third: {}
        transitions:
          second: { from: first, to: second }
          third: { from: second, to: third }
          first: { from: third, to: first }
        """
}

/// The Prometheus text of one scrape, with its samples by name and labels.
struct Scrape {
    let text: String
    private let samples: [(name: String, labels: [String: String], value: Double)]

    init(_ text: String) {
        self.text = text
        var samples: [(String, [String: String], Double)] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            guard let open = series.firstIndex(of: "{") else {
                samples.append((String(series), [:], value))
                continue
            }
            var labels: [String: String] = [:]
            // Label values here never hold `",` (route patterns, ids, names), so splitting is enough.
            for pair in series[series.index(after: open)..<series.index(before: series.endIndex)].split(separator: "\",") {
                guard let equals = pair.firstIndex(of: "=") else { continue }
                labels[String(pair[..<equals])] = String(pair[pair.index(equals, offsetBy: 2)...]).replacingOccurrences(of: "\"", with: "")
            }
            samples.append((String(series[..<open]), labels, value))
        }
        self.samples = samples
    }

    /// The value of the one sample of `name` whose labels include `labels` (nil: none; a
    /// failure when several match, so a test never reads the wrong series).
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
                && (sample.labels["le"] == nil || labels["le"] != nil)
        }
        XCTAssertLessThanOrEqual(matching.count, 1, "\(name) \(labels) matches \(matching.count) series")
        return matching.first?.value
    }
}

private func scrape(_ client: any TestClientProtocol) async throws -> Scrape {
    try await client.execute(uri: "/metrics", method: .get) { response in
        XCTAssertEqual(response.status, .ok)
        return Scrape(String(buffer: response.body))
    }
}

private struct Answer {
    var status: HTTPResponse.Status
    var text: String
}

extension TestClientProtocol {
    fileprivate func call(_ uri: String, method: HTTPRequest.Method = .get, body: String? = nil) async throws -> Answer {
        var headers = HTTPFields()
        if body != nil { headers[.contentType] = uri.hasPrefix("/v1/workflows") ? "application/yaml" : "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) {
            Answer(status: $0.status, text: String(buffer: $0.body))
        }
    }

    fileprivate func get(_ uri: String, _ status: HTTPResponse.Status, file: StaticString = #filePath, line: UInt = #line) async throws {
        let answer = try await call(uri)
        XCTAssertEqual(answer.status, status, "GET \(uri): \(answer.text)", file: file, line: line)
    }

    fileprivate func post(_ uri: String, _ body: String, _ status: HTTPResponse.Status,
                          file: StaticString = #filePath, line: UInt = #line) async throws {
        let answer = try await call(uri, method: .post, body: body)
        XCTAssertEqual(answer.status, status, "POST \(uri): \(answer.text)", file: file, line: line)
    }

    fileprivate func put(_ uri: String, _ body: String, _ status: HTTPResponse.Status,
                         file: StaticString = #filePath, line: UInt = #line) async throws {
        let answer = try await call(uri, method: .put, body: body)
        XCTAssertEqual(answer.status, status, "PUT \(uri): \(answer.text)", file: file, line: line)
    }
}

private func waitUntil(timeout: Double = 10, _ condition: () -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
