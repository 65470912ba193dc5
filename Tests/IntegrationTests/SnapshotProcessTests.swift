import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// Backup and restore on real processes: `snapshot save` through a follower of a three-node
/// cluster, `inspect`, `restore` into a new data directory, `serve` of that directory as a new
/// one-node cluster holding the same instances and histories — and damaged copies of the file
/// refused by `inspect` and `restore` with one `error:` line and exit 2.
final class SnapshotProcessTests: XCTestCase {
    /// One run of the `orchestrator` binary, its output captured in files (no pipe to fill).
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var errorLines: [Substring] { stderr.split(separator: "\n").filter { $0.hasPrefix("error:") } }
    }

    func orchestrator(_ arguments: [String], in directory: URL, timeout: Double = 60) throws -> Run {
        let name = UUID().uuidString.prefix(8)
        let out = directory.appendingPathComponent("cli-\(name).out")
        let err = directory.appendingPathComponent("cli-\(name).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = ProcessCluster.binary
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            XCTFail("orchestrator \(arguments.joined(separator: " ")) did not finish within \(timeout) s")
        }
        return Run(status: process.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                   stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    func testSaveThroughFollowerInspectRestoreAndServeKeepInstancesAndHistories() async throws {
        let cluster = try ProcessCluster(count: 3)
        var started: [Process] = []
        defer {
            for process in started where process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            cluster.stop()
        }
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        try await cluster.waitForWorkflow(on: leader)
        let follower = [1, 2, 3].first { $0 != leader }!

        // A few instances, each moved a different number of steps around the ring.
        let moves: [String: [String]] = ["a": [], "b": ["second"], "c": ["second", "third"], "d": ["second", "third", "first"]]
        for id in moves.keys.sorted() {
            let (status, body) = try await cluster.requestUntilAvailable("POST", leader, "/v1/instances",
                                                                         ["workflow": "cookbook", "id": id, "data": ["n": id]])
            XCTAssertEqual(status, 201, "\(body)")
            for transition in moves[id]! {
                let (status, body) = try await cluster.requestUntilAvailable("POST", follower, "/v1/instances/\(id)/transitions",
                                                                             ["transition": transition])
                XCTAssertEqual(status, 200, "\(body)")
            }
        }
        let (_, originalList) = try await cluster.request("GET", leader, "/v1/instances?limit=1000")
        var originalHistories: [String: NSDictionary] = [:]
        for id in moves.keys {
            originalHistories[id] = try await cluster.request("GET", leader, "/v1/instances/\(id)/history").1 as NSDictionary
        }

        // save, through a follower (it sends the CLI on to the leader).
        let work = cluster.root
        let file = work.appendingPathComponent("backup.snap").path
        let save = try orchestrator(["snapshot", "save", file, "--server", cluster.nodes[follower]!.url], in: work)
        XCTAssertEqual(save.status, 0, "save: \(save.stdout)\(save.stderr)\n\(cluster.logTails())")
        XCTAssertTrue(save.stdout.hasPrefix("saved \(file): "), save.stdout)
        for part in ["bytes", "index", "4 instances", "sha256"] { XCTAssertTrue(save.stdout.contains(part), "'\(part)' in: \(save.stdout)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: file + ".part"), "the .part file was renamed")
        XCTAssertTrue(cluster.log(leader).contains("streaming a snapshot"), "the leader took it")

        // inspect: the checksum is checked and the metadata printed.
        let inspectJSON = try orchestrator(["snapshot", "inspect", file, "--json"], in: work)
        XCTAssertEqual(inspectJSON.status, 0, inspectJSON.stderr)
        let inspected = try JSONSerialization.jsonObject(with: Data(inspectJSON.stdout.utf8)) as? [String: Any] ?? [:]
        let metadata = inspected["metadata"] as? [String: Any] ?? [:]
        XCTAssertEqual(metadata["cluster_id"] as? String, "it")
        XCTAssertEqual(metadata["instances"] as? Int, 4)
        XCTAssertEqual(metadata["workflows"] as? Int, 1)
        XCTAssertEqual(metadata["history_entries"] as? Int, moves.values.map { $0.count + 1 }.reduce(0, +))
        XCTAssertEqual(metadata["node"] as? Int, leader)
        XCTAssertEqual((metadata["members"] as? [[String: Any]])?.compactMap { $0["id"] as? Int }, [1, 2, 3])
        XCTAssertEqual(inspected["format_version"] as? Int, 1)
        XCTAssertTrue(save.stdout.contains(inspected["sha256"] as? String ?? "?"), "save and inspect agree on the sha256")
        let inspectTable = try orchestrator(["snapshot", "inspect", file], in: work)
        XCTAssertEqual(inspectTable.status, 0, inspectTable.stderr)
        XCTAssertTrue(inspectTable.stdout.contains("(checked)") && inspectTable.stdout.contains("instances"), inspectTable.stdout)

        // Damaged copies: one flipped byte in the body, and a cut file.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x20
        let flippedFile = work.appendingPathComponent("flipped.snap").path
        let cutFile = work.appendingPathComponent("cut.snap").path
        try flipped.write(to: URL(fileURLWithPath: flippedFile))
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: cutFile))
        for (damaged, expected) in [(flippedFile, "checksum mismatch"), (cutFile, "truncated")] {
            let dataDir = work.appendingPathComponent("never-\(expected.prefix(4))").path
            for arguments in [["snapshot", "inspect", damaged], ["snapshot", "restore", damaged, "--data-dir", dataDir]] {
                let run = try orchestrator(arguments, in: work)
                XCTAssertEqual(run.status, 2, "\(arguments): \(run.stderr)")
                XCTAssertEqual(run.errorLines.count, 1, "\(arguments): one error line: \(run.stderr)")
                XCTAssertTrue(run.errorLines.first?.contains(expected) ?? false, "\(arguments): '\(expected)' in: \(run.stderr)")
                XCTAssertFalse(run.stderr.contains("Fatal error"), run.stderr)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: dataDir), "a refused restore writes nothing")
        }

        // restore into a new directory, as node 1 of a new one-node cluster.
        let ports = try freePorts(4)
        let dataDir = work.appendingPathComponent("restored").path
        let restoreArguments = ["snapshot", "restore", file, "--data-dir", dataDir, "--cluster-id", "it-restored",
                                "--api", "127.0.0.1:\(ports[0])", "--raft", "127.0.0.1:\(ports[1])"]
        let restore = try orchestrator(restoreArguments, in: work)
        XCTAssertEqual(restore.status, 0, restore.stderr)
        XCTAssertTrue(restore.stdout.contains("new cluster: it-restored"), restore.stdout)
        XCTAssertTrue(restore.stdout.contains("start it with: orchestrator serve --data-dir \(dataDir) --cluster-id it-restored --node-id 1"),
                      restore.stdout)
        let again = try orchestrator(restoreArguments, in: work)
        XCTAssertEqual(again.status, 2, "a non-empty data directory is refused: \(again.stderr)")
        XCTAssertTrue(again.errorLines.first?.contains("is not empty") ?? false, again.stderr)

        // serve it: the same instances and histories, and it takes new writes.
        started.append(try serve(["--data-dir", dataDir, "--cluster-id", "it-restored", "--node-id", "1",
                                   "--api", "127.0.0.1:\(ports[0])", "--raft", "127.0.0.1:\(ports[1])",
                                   "--workflows", cluster.workflows.path], log: work.appendingPathComponent("restored.log")))
        let url = "http://127.0.0.1:\(ports[0])"
        let list = try await instances(at: url, matching: originalList)
        XCTAssertEqual(list as NSDictionary, originalList as NSDictionary,
                       "the same instances; log:\n\(log(work.appendingPathComponent("restored.log")))")
        for id in moves.keys.sorted() {
            let (status, history) = try await get(url + "/v1/instances/\(id)/history")
            XCTAssertEqual(status, 200)
            XCTAssertEqual(history as NSDictionary, originalHistories[id], "history of \(id)")
        }
        let (_, health) = try await get(url + "/v1/health")
        XCTAssertEqual(health["leader"] as? Int, 1, "\(health)")
        XCTAssertGreaterThan(health["applied_index"] as? Int ?? 0, metadata["index"] as? Int ?? .max,
                             "the new cluster goes on after the restored index")
        var request = URLRequest(url: URL(string: url + "/v1/instances/a/transitions")!)
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"transition":"second"}"#.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (data, response) = try await URLSession.shared.data(for: request)
        XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200, String(decoding: data, as: UTF8.self))

        // The recovery procedure's next step: a second node joins the restored cluster (it
        // must know a member to accept its connection) and catches up from its snapshot.
        let joinedLog = work.appendingPathComponent("joined.log")
        started.append(try serve(["--data-dir", work.appendingPathComponent("joined").path, "--cluster-id", "it-restored",
                                   "--node-id", "2", "--join", "--api", "127.0.0.1:\(ports[2])", "--raft", "127.0.0.1:\(ports[3])",
                                   "--peer", "1=127.0.0.1:\(ports[1]),127.0.0.1:\(ports[0])",
                                   "--workflows", cluster.workflows.path], log: joinedLog))
        let add = try orchestrator(["cluster", "add", "2", "--raft", "127.0.0.1:\(ports[3])", "--api", "127.0.0.1:\(ports[2])",
                                    "--learner", "--server", url], in: work)
        XCTAssertEqual(add.status, 0, add.stderr)
        let (_, current) = try await get(url + "/v1/instances?limit=1000")
        let joined = try await instances(at: "http://127.0.0.1:\(ports[2])", matching: current, stale: true)
        XCTAssertEqual(joined as NSDictionary, current as NSDictionary, "the joined node caught up; log:\n\(log(joinedLog))")
        let promote = try orchestrator(["cluster", "promote", "2", "--server", url], in: work)
        XCTAssertEqual(promote.status, 0, promote.stderr)
    }

    /// Starts `orchestrator serve` with `arguments`, its output in `log`.
    private func serve(_ arguments: [String], log: URL) throws -> Process {
        let process = Process()
        process.executableURL = ProcessCluster.binary
        process.arguments = ["serve", "--tick-ms", "30"] + arguments
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        return process
    }

    /// `GET /v1/instances` on `url` once it answers what `expected` holds (or the last answer
    /// after 20 s).
    private func instances(at url: String, matching expected: [String: Any], stale: Bool = false) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let (status, body) = try? await get(url + "/v1/instances?limit=1000\(stale ? "&stale=true" : "")"), status == 200 {
                last = body
                if body as NSDictionary == expected as NSDictionary { break }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return last
    }

    private func log(_ file: URL) -> String {
        (try? String(contentsOf: file, encoding: .utf8)) ?? ""
    }

    private func get(_ url: String) async throws -> (Int, [String: Any]) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, json)
    }
}
