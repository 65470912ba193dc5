import Foundation
import XCTest

/// Hooks on real processes: a committed transition runs its plugin on the leader, and when
/// the leader is killed with SIGKILL while hooks run, the new leader runs every dispatch that
/// had no final result again, with the same dispatch id: afterwards every dispatch has
/// exactly one final result in the history, on every node.
final class HookProcessTests: XCTestCase {
    private func install(_ cluster: ProcessCluster, log: URL) throws {
        let plugins = cluster.root.appendingPathComponent("plugins")
        try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
        // Appends "<dispatch id> <attempt>" to the file named in `with.file`, after a pause so
        // that runs are in flight when the leader dies.
        let script = """
            #!/bin/sh
            event=$(cat)
            file=$(printf '%s' "$event" | sed -n 's/.*"file":"\\([^"]*\\)".*/\\1/p')
            printf '%s %s\\n' "$ORCH_DISPATCH_ID" "$ORCH_ATTEMPT" >> "$file"
            sleep 0.2
            printf '{"stamped":"%s"}\\n' "$ORCH_DISPATCH_ID"
            """
        let path = plugins.appendingPathComponent("stamp")
        try script.write(to: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path.path)
        let workflow = """
            workflow: stamped
            initial: new
            states:
              new: {}
              done:
                on_enter: [{ plugin: stamp, with: { file: "\(log.path)" } }]
            transitions:
              finish: { from: new, to: done }
            """
        try workflow.write(to: cluster.workflows.appendingPathComponent("stamped.yaml"), atomically: true, encoding: .utf8)
    }

    private func hookEntries(_ cluster: ProcessCluster, node: Int, instance: String) async throws -> [[String: Any]] {
        let (_, body) = try await cluster.requestUntilAvailable("GET", node, "/v1/instances/\(instance)/history?stale=true")
        return (body["entries"] as? [[String: Any]] ?? []).filter { $0["type"] as? String == "hook" }
    }

    func testEveryDispatchGetsExactlyOneFinalResultAcrossALeaderKilledWhileHooksRun() async throws {
        let cluster = try ProcessCluster(count: 3)
        defer { cluster.stop() }
        let log = cluster.root.appendingPathComponent("stamp.log")
        try install(cluster, log: log)
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        var registered = false
        for _ in 0..<200 where !registered {
            if let (status, _) = try? await cluster.request("GET", leader, "/v1/workflows/stamped"), status == 200 { registered = true }
            if !registered { try await Task.sleep(for: .milliseconds(100)) }
        }
        XCTAssertTrue(registered, "the workflow was not registered:\n\(cluster.log(leader))")

        let count = 12
        for i in 0..<count {
            var (status, body) = try await cluster.requestUntilAvailable("POST", leader, "/v1/instances",
                                                                         ["workflow": "stamped", "id": "s\(i)"])
            XCTAssertEqual(status, 201, "\(body)")
            (status, body) = try await cluster.requestUntilAvailable("POST", leader, "/v1/instances/s\(i)/transitions",
                                                                     ["transition": "finish", "request_id": "finish-s\(i)"])
            XCTAssertEqual(status, 200, "\(body)")
        }
        // Some hooks have run, some are running or waiting: kill the leader now.
        try await Task.sleep(for: .milliseconds(300))
        cluster.kill9(leader)
        let survivors = [1, 2, 3].filter { $0 != leader }
        let newLeader = try await cluster.waitForLeader(among: survivors, timeout: 30)

        // Wait until nothing is pending on the new leader.
        let deadline = Date().addingTimeInterval(40)
        var pending = -1
        while Date() < deadline {
            if let (status, body) = try? await cluster.request("GET", newLeader, "/v1/dispatches"), status == 200 {
                pending = (body["dispatches"] as? [Any])?.count ?? -1
                if pending == 0 { break }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        XCTAssertEqual(pending, 0, "every dispatch finished:\n\(cluster.log(newLeader))")

        try cluster.start(leader)   // the killed node comes back and catches up
        for node in [1, 2, 3] {
            for i in 0..<count {
                var finals: [[String: Any]] = []
                let until = Date().addingTimeInterval(20)
                while Date() < until {
                    finals = try await hookEntries(cluster, node: node, instance: "s\(i)")
                        .compactMap { $0["hook"] as? [String: Any] }.filter { $0["final"] as? Bool == true }
                    if !finals.isEmpty { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                XCTAssertEqual(finals.count, 1, "node \(node), instance s\(i): exactly one final result")
                XCTAssertEqual(finals.first?["result"] as? String, "succeeded")
            }
            let (_, instance) = try await cluster.requestUntilAvailable("GET", node, "/v1/instances/s0?stale=true")
            XCTAssertNotNil((instance["data"] as? [String: Any])?["stamped"], "the plugin's JSON line was merged on node \(node)")
        }

        // The plugin's own log: every dispatch ran at least once; re-runs carry the same id.
        let lines = (try String(contentsOf: log, encoding: .utf8)).split(separator: "\n")
        let ids = Set(lines.compactMap { $0.split(separator: " ").first.map(String.init) })
        XCTAssertEqual(ids.count, count, "one dispatch id per instance, whatever the re-runs: \(lines)")
        print("stamp plugin ran \(lines.count) times for \(count) dispatches across the leader's death")
    }
}
