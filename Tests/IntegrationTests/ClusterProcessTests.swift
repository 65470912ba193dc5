import Foundation
import XCTest

/// Real processes on loopback, killed with SIGKILL. Each test cleans up its processes and
/// its temporary directory, also when it fails.
final class ClusterProcessTests: XCTestCase {
    func testLeaderKilledNewLeaderKeepsAcknowledgedTransitionsAndRestartedNodeCatchesUp() async throws {
        let cluster = try ProcessCluster(count: 3)
        defer { cluster.stop() }
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        try await cluster.waitForWorkflow(on: leader)
        let follower = [1, 2, 3].first { $0 != leader }!

        // Written through a follower: it forwards to the leader.
        var (status, body) = try await cluster.requestUntilAvailable("POST", follower, "/v1/instances",
                                                                     ["workflow": "cookbook", "id": "demo"])
        XCTAssertEqual(status, 201, "\(body)")
        (status, body) = try await cluster.requestUntilAvailable("POST", follower, "/v1/instances/demo/transitions",
                                                                 ["transition": "second", "request_id": "r-second"])
        XCTAssertEqual(status, 200, "\(body)")
        XCTAssertEqual(body["state"] as? String, "second")

        cluster.kill9(leader)
        let survivors = [1, 2, 3].filter { $0 != leader }
        let newLeader = try await cluster.waitForLeader(among: survivors)
        XCTAssertNotEqual(newLeader, leader)
        (status, body) = try await cluster.request("GET", newLeader, "/v1/instances/demo")
        XCTAssertEqual(body["state"] as? String, "second", "the acknowledged transition survived the leader's death")
        (status, body) = try await cluster.requestUntilAvailable("POST", survivors[0], "/v1/instances/demo/transitions",
                                                                 ["transition": "third"])
        XCTAssertEqual(status, 200, "\(body)")

        try cluster.start(leader)
        let deadline = Date().addingTimeInterval(20)
        var state: String?
        while Date() < deadline {
            if let (code, instance) = try? await cluster.request("GET", leader, "/v1/instances/demo?stale=true"), code == 200 {
                state = instance["state"] as? String
                if state == "third" { break }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTAssertEqual(state, "third", "the restarted node caught up; log:\n\(cluster.log(leader))")
        (status, body) = try await cluster.request("GET", leader, "/v1/instances/demo/history?stale=true")
        let entries = body["entries"] as? [[String: Any]] ?? []
        XCTAssertEqual(entries.compactMap { $0["to"] as? String }, ["first", "second", "third"], "\(body)")
    }

    func testWholeClusterRestartKeepsState() async throws {
        let cluster = try ProcessCluster(count: 3)
        defer { cluster.stop() }
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        try await cluster.waitForWorkflow(on: leader)
        for i in 0..<5 {
            let (status, body) = try await cluster.requestUntilAvailable("POST", leader, "/v1/instances",
                                                                         ["workflow": "cookbook", "id": "i\(i)"])
            XCTAssertEqual(status, 201, "\(body)")
        }
        for id in [1, 2, 3] { cluster.kill9(id) }
        try cluster.startAll()
        let again = try await cluster.waitForLeader()
        let (status, body) = try await cluster.requestUntilAvailable("GET", again, "/v1/instances?workflow=cookbook")
        XCTAssertEqual(status, 200)
        let ids = (body["instances"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }.sorted()
        XCTAssertEqual(ids, (0..<5).map { "i\($0)" }, "\(body)")
    }

    func testFollowerFarBehindCatchesUpBySnapshot() async throws {
        let cluster = try ProcessCluster(count: 3, extraArguments: ["--snapshot-every", "20", "--snapshot-trailing", "5"])
        defer { cluster.stop() }
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        try await cluster.waitForWorkflow(on: leader)
        let lagging = [1, 2, 3].first { $0 != leader }!
        cluster.kill9(lagging)
        for i in 0..<60 {
            let (status, body) = try await cluster.requestUntilAvailable("POST", leader, "/v1/instances",
                                                                         ["workflow": "cookbook", "id": "s\(i)"])
            XCTAssertEqual(status, 201, "\(body)")
        }
        try cluster.start(lagging)
        let deadline = Date().addingTimeInterval(20)
        var count = 0
        while Date() < deadline {
            if let (_, body) = try? await cluster.request("GET", lagging, "/v1/instances?stale=true&limit=1000") {
                count = (body["instances"] as? [[String: Any]])?.count ?? 0
                if count == 60 { break }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTAssertEqual(count, 60, "the lagging follower caught up; log:\n\(cluster.log(lagging))")
        var installed = false
        for _ in 0..<50 where !installed {
            installed = cluster.log(lagging).contains("installed snapshot")
            if !installed { try await Task.sleep(for: .milliseconds(100)) }
        }
        XCTAssertTrue(installed, "it caught up by installing the leader's snapshot; log:\n\(cluster.log(lagging))")
    }

    func testBadConfigurationExitsTwoWithOneLineError() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("orch-bad-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let ports = try freePorts(4)
        let notADirectory = root.appendingPathComponent("file")
        _ = FileManager.default.createFile(atPath: notADirectory.path, contents: Data("x".utf8))

        // A port that is already taken.
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(ports[3]).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(holder, 1)

        let base = ["serve", "--api", "127.0.0.1:\(ports[0])", "--raft", "127.0.0.1:\(ports[1])", "--tick-ms", "30",
                    "--workflows", root.path]
        let cases: [(String, [String], String)] = [
            ("unknown peer form", base + ["--data-dir", root.appendingPathComponent("a").path, "--peer", "two=127.0.0.1:1"], "--peer"),
            ("peer sharing our raft address", base + ["--data-dir", root.appendingPathComponent("b").path,
                                                       "--peer", "2=127.0.0.1:\(ports[1])"], "share the raft address"),
            ("data dir is a file", base + ["--data-dir", notADirectory.path], "is a file"),
            ("raft port in use", ["serve", "--api", "127.0.0.1:\(ports[0])", "--raft", "127.0.0.1:\(ports[3])",
                                  "--data-dir", root.appendingPathComponent("c").path, "--workflows", root.path], "cannot listen"),
            ("missing --workflows", ["serve", "--api", "127.0.0.1:\(ports[0])", "--raft", "127.0.0.1:\(ports[1])",
                                     "--data-dir", root.appendingPathComponent("d").path,
                                     "--workflows", root.appendingPathComponent("nope").path], "--workflows '"),
        ]
        for (name, arguments, expected) in cases {
            let process = Process()
            process.executableURL = ProcessCluster.binary
            process.arguments = arguments
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = Pipe()
            try process.run()
            let deadline = Date().addingTimeInterval(20)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
                XCTFail("\(name): the node kept running")
                continue
            }
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let errorLines = text.split(separator: "\n").filter { $0.hasPrefix("error:") }
            XCTAssertEqual(process.terminationStatus, 2, "\(name): \(text)")
            XCTAssertEqual(errorLines.count, 1, "\(name): \(text)")
            XCTAssertTrue(errorLines.first?.contains(expected) ?? false, "\(name): expected '\(expected)' in: \(text)")
        }
    }
}
